"""Semantic search over the FAQ: answers questions the Rasa ResponseSelector did not take."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.catalogue import FaqEntry, load_faq
from knowledge.embedder import TextEmbedder

MIN_SIMILARITY = 0.55  # below this the FAQ does not cover the question; say so honestly
# A ResponseSelector pick this confident is taken when the question is at least this close to the entry.
CONFIDENT_SELECTION = 0.6
AGREEING_SIMILARITY = 0.4
# ... or, less confident, when no other entry is clearly closer to the question.
AGREEMENT_MARGIN = 0.05


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

    def similarities(self, question: str) -> dict[str, float]:
        """Per entry, the best cosine between the question and the entry's question or variants."""
        if not question.strip() or not self.entries:
            return {}
        sims = self._matrix @ self._embedder.encode([question[:2000]])[0]
        best: dict[str, float] = {}
        for row, owner in enumerate(self._owner):
            entry_id = self.entries[owner].id
            best[entry_id] = max(best.get(entry_id, -1.0), float(sims[row]))
        return best

    def check(self, question: str, entry_id: str, confidence: float) -> FaqMatch | None:
        """The answer to give for a question the ResponseSelector matched to `entry_id` with
        `confidence`: that entry when the question is also semantically close to it (and the
        selection is confident or no other entry is clearly closer), else the semantically
        closest entry when it is clearly close, else None (say "I don't know")."""
        sims = self.similarities(question)
        if not sims:
            return None
        chosen = sims.get(entry_id)
        best_id = max(sims, key=sims.__getitem__)
        if chosen is not None and chosen >= AGREEING_SIMILARITY and (
            confidence >= CONFIDENT_SELECTION or chosen >= sims[best_id] - AGREEMENT_MARGIN
        ):
            entry = self.get(entry_id)
            return FaqMatch(entry, chosen) if entry else None
        if sims[best_id] >= MIN_SIMILARITY:
            entry = self.get(best_id)
            return FaqMatch(entry, sims[best_id]) if entry else None
        return None

    def best(self, question: str) -> FaqMatch | None:
        if not question.strip() or not self.entries:
            return None
        sims = self._matrix @ self._embedder.encode([question[:2000]])[0]
        row = int(np.argmax(sims))
        if float(sims[row]) < MIN_SIMILARITY:
            return None
        return FaqMatch(self.entries[self._owner[row]], float(sims[row]))
