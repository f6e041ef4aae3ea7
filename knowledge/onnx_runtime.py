"""all-MiniLM-L6-v2 through ONNX Runtime: the same vectors as the sentence-transformers model
(mean pooling over the attention mask, then L2 normalisation), without PyTorch at query time.

The transformer is exported to ONNX once into GALAXY_ONNX_DIR (default `models/onnx/`, shared by every
state directory): by `make store`/`make run` (`python -m knowledge.onnx_runtime`), else on first use.
It is written to a temporary file and renamed, so a crash or a concurrent process never leaves half a
model. Only the export needs PyTorch; a process that finds the export never imports it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from importlib import metadata
from pathlib import Path
from typing import Sequence

import numpy as np

logger = logging.getLogger(__name__)
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Two threads answer a single query about 25% faster than one on this 2-core machine when it is
# otherwise idle, as it is between a user's messages; when the other core is busy the two are
# about even (`python -m bench.knowledge` prints both).
QUERY_THREADS = 2
BATCH_THREADS = 2


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _fingerprint(model_dir: Path) -> str:
    """Changes when the weights, the config, torch or the opset change, so the cache stays true.

    Reads torch's version from its package metadata: importing torch would cost seconds and
    hundreds of MB in a process that only runs ONNX."""
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "none"
    weights = next((model_dir / n for n in ("model.safetensors", "pytorch_model.bin") if (model_dir / n).exists()), None)
    stat = weights.stat() if weights else None
    parts = [
        str(model_dir.resolve()),
        (model_dir / "config.json").read_text(encoding="utf-8"),
        f"{stat.st_size}:{stat.st_mtime_ns}" if stat else "",
        torch_version,
        str(OPSET),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]


def export_onnx(model_dir: Path, target: Path) -> Path:
    """Export the BERT encoder (token embeddings out) with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel

    # Eager attention traces to plain MatMul/Softmax ops, with the padding mask kept as an input.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001 - traced
            return self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # A padded example (a zero in the mask) so no "mask is all ones" shortcut is traced in.
    input_ids = torch.tensor([[101, 2023, 2003, 102], [101, 2023, 102, 0]], dtype=torch.long)
    attention_mask = (input_ids != 0).long()
    token_type_ids = torch.zeros_like(input_ids)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about shape-dependent Python branches
            torch.onnx.export(
                TokenEmbeddings(model),
                (input_ids, attention_mask, token_type_ids),
                str(tmp),
                input_names=list(INPUTS),
                output_names=["token_embeddings"],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "token_embeddings")},
                opset_version=OPSET,
                dynamo=False,
            )
        os.replace(tmp, target)  # atomic: readers see the old file or the whole new one
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("exported %s to %s", model_dir.name, target)
    return target


def _session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Idle pool threads sleep instead of spinning: on a shared 2-core machine spinning only takes
    # CPU from the other processes (Rasa, the action server) and was no faster in our runs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class OnnxMiniLm:
    """Drop-in for `SentenceTransformer.encode` of a BERT model with mean pooling."""

    def __init__(
        self,
        model_dir: str,
        *,
        cache_dir: str | Path | None = None,
        query_threads: int = QUERY_THREADS,
        batch_threads: int = BATCH_THREADS,
    ) -> None:
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        st_config = _read_json(self.model_dir / "sentence_bert_config.json")
        self.max_seq_length = int(st_config.get("max_seq_length", 256))
        self._dimension = int(_read_json(self.model_dir / "config.json").get("hidden_size", 384))
        modules = _read_json(self.model_dir / "modules.json") or []
        self._always_normalize = any(m.get("type", "").endswith(".Normalize") for m in modules)
        pooling = _read_json(self.model_dir / "1_Pooling" / "config.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens", True):
            raise ValueError(f"{self.model_dir} does not use mean pooling; OnnxMiniLm only does mean pooling")

        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        # tokenizer.json ships with fixed 128-token padding; sentence-transformers pads to the
        # longest text of a batch and cuts at max_seq_length.
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token="[PAD]")

        if cache_dir is None:
            from knowledge.settings import settings

            cache_dir = settings().onnx_dir
        self.onnx_path = Path(cache_dir) / f"{self.model_dir.name}-{_fingerprint(self.model_dir)}.onnx"
        if not self.onnx_path.exists():
            export_onnx(self.model_dir, self.onnx_path)
        # A second session only when queries and batches are to use different thread counts.
        self.session = _session(self.onnx_path, query_threads)
        self.batch_session = self.session if batch_threads == query_threads else _session(self.onnx_path, batch_threads)
        self._wants_types = "token_type_ids" in {i.name for i in self.session.get_inputs()}

    def features(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model inputs for a batch of texts, padded to the longest."""
        encodings = self.tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        if self._wants_types:
            feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
        return feeds

    def encode(
        self,
        texts: Sequence[str] | str,
        batch_size: int = 64,
        normalize_embeddings: bool = True,
        show_progress_bar: bool = False,
        convert_to_numpy: bool = True,
    ) -> np.ndarray:
        """(len(texts), 384) float32; one vector (384,) for a single string, as sentence-transformers.

        `convert_to_numpy` is accepted for compatibility; the result is always a numpy array.
        """
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if not items:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding (wasted compute) small, as sentence-transformers does.
        order = np.argsort([-len(t) for t in items], kind="stable")
        session = self.session if len(items) == 1 else self.batch_session
        out = np.empty((len(items), self.dimension), dtype=np.float32)
        starts = range(0, len(items), batch_size)
        if show_progress_bar:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            rows = order[start : start + batch_size]
            feeds = self.features([items[i] for i in rows])
            tokens = session.run(None, feeds)[0]
            mask = feeds["attention_mask"].astype(np.float32)
            summed = np.einsum("bsd,bs->bd", tokens, mask)  # sum of the real tokens, padding left out
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1e-9, None)
            if normalize_embeddings or self._always_normalize:
                pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[rows] = pooled
        return out[0] if single else out

    @property
    def dimension(self) -> int:
        return self._dimension


def ensure_export(model_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """The cached export of the model (exporting it first when it is missing or stale)."""
    from knowledge.embedder import model_path
    from knowledge.settings import settings

    source = Path(model_dir or model_path())
    target = Path(cache_dir or settings().onnx_dir) / f"{source.name}-{_fingerprint(source)}.onnx"
    if not target.exists():
        export_onnx(source, target)
    return target


if __name__ == "__main__":  # `make store` / `make run`: export once, before any server needs it
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(ensure_export())
