"""Exports all-MiniLM-L6-v2 to ONNX (token embeddings) with its tokenizer into a folder, for the
Rasa MiniLmFeaturizer: `python scripts/export_minilm.py models/minilm-onnx`."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from knowledge.embedder import model_path
from knowledge.onnx_runtime import export_onnx


def main(target: str) -> int:
    folder = Path(target)
    source = Path(model_path())
    export_onnx(source, folder / "model.onnx")
    shutil.copy2(source / "tokenizer.json", folder / "tokenizer.json")
    print(f"exported MiniLM to {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "models/minilm-onnx"))
