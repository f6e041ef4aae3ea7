"""The ONNX Runtime embedder gives the same vectors as the PyTorch model, batched or one by one,
so a store built with one backend can be searched with the other."""
from __future__ import annotations

import numpy as np
import pytest

TEXTS = [
    "our villages run dry every summer",
    "Who funds projects in small island states?",
    "Türkiye's TIKA: coopération Sud-Sud, señal, 中国",
    "",
    # Far beyond 256 word pieces: both backends must cut at the same place.
    "solar energy for rural women in Africa " * 80,
    "IBSA Fund",
]


@pytest.fixture(scope="module")
def onnx_embedder():
    from knowledge.embedder import MiniLmEmbedder

    return MiniLmEmbedder("onnx")


def test_onnx_vectors_equal_torch_vectors(embedder, onnx_embedder):
    torch_vectors = embedder.encode(TEXTS)
    onnx_vectors = onnx_embedder.encode(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape == (len(TEXTS), 384)
    assert onnx_vectors.dtype == np.float32
    assert np.abs(onnx_vectors - torch_vectors).max() < 1e-4
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)


def test_batch_and_single_encodes_agree(onnx_embedder):
    batch = onnx_embedder.encode(TEXTS, batch_size=4)  # padded batches of mixed lengths
    single = np.vstack([onnx_embedder.encode([text]) for text in TEXTS])
    assert np.abs(batch - single).max() < 1e-5


def test_the_model_is_exported_once_and_reused(onnx_embedder):
    from knowledge.embedder import model_path
    from knowledge.onnx_runtime import OnnxMiniLm

    path = onnx_embedder._model.onnx_path
    stamp = path.stat().st_mtime_ns
    again = OnnxMiniLm(model_path())
    assert again.onnx_path == path and path.stat().st_mtime_ns == stamp
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
