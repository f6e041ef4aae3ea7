"""Semantic search over the FAQ: answers questions the Rasa ResponseSelector did not take."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.catalogue import FaqEntry, load_faq
from knowledge.embedder import TextEmbedder

MIN_SIMILARITY = 0.55  # below this the FAQ does not cover the question; say so honestly


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    similarity: float


class FaqIndex:
    def __init__(self, entries: list[FaqEntry], embedder: TextEmbedder) -> None:
        self.entries = entries
        self._embedder = embedder
        texts: list[str] = []
        self._owner: list[int] = []
        for index, entry in enumerate(entries):
            for text in (entry.question, *entry.variants):
                texts.append(text)
                self._owner.append(index)
        self._matrix = embedder.encode(texts) if texts else np.zeros((0, 384), dtype=np.float32)

    @classmethod
    def from_file(cls, path: Path, embedder: TextEmbedder) -> "FaqIndex":
        return cls(load_faq(path), embedder)

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def best(self, question: str) -> FaqMatch | None:
        if not question.strip() or not self.entries:
            return None
        sims = self._matrix @ self._embedder.encode([question[:2000]])[0]
        row = int(np.argmax(sims))
        if float(sims[row]) < MIN_SIMILARITY:
            return None
        return FaqMatch(self.entries[self._owner[row]], float(sims[row]))
