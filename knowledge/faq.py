"""Semantic search over the FAQ: answers questions the Rasa ResponseSelector did not take, and
confirms its picks. A question in another language than English is compared with the (English)
questions and variants by the multilingual encoder instead of MiniLM, on that encoder's scale."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.catalogue import FaqEntry, load_faq
from knowledge.embedder import TextEmbedder
from knowledge.multilingual import is_foreign, query_language, shared_encoder
from knowledge.text import tokens

MIN_SIMILARITY = 0.55  # below this the FAQ does not cover the question; say so honestly
# A ResponseSelector pick this confident is taken when the question is at least this close to the entry.
CONFIDENT_SELECTION = 0.6
AGREEING_SIMILARITY = 0.4
# ... or, less confident, when no other entry is clearly closer to the question.
AGREEMENT_MARGIN = 0.05
# Even a confident pick gives way to an entry this much closer in meaning ("I am new here, what is this
# Galaxy platform about?" picked as the AI-matchmaking entry). On the 178 eval questions every confident
# pick with another entry over 0.08 closer was wrong, and no right pick is this far behind.
OVERRULE_MARGIN = 0.15
# The same decisions for a question in another language, on the multilingual encoder's cosine
# (chosen on knowledge/eval/faq_dev_xx.jsonl: `python -m knowledge.evaluate` prints them).
FOREIGN_MIN_SIMILARITY = 0.55
FOREIGN_AGREEING_SIMILARITY = 0.42
# A close entry may still not say what is asked ("how many people attended the rollout webinar?" is
# close to the webinar's date): an English question of which at least UNCOVERED_WORDS content words,
# and at least UNCOVERED_SHARE of them, appear nowhere in the entry (question, variants, answer) gets
# the entry as the nearest thing we know, not as the answer. Chosen on one half of
# knowledge/eval/faq_answerable.jsonl, reported on the other (`python -m knowledge.evaluate`).
UNCOVERED_WORDS = 2
UNCOVERED_SHARE = 0.67
# Words every question about the Galaxy may use, which say nothing about what is asked.
_GENERIC = frozenset(tokens("galaxy platform portal site website unossc"))


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    similarity: float
    covered: bool = True  # False: the entry is about the question's subject but may not say what is asked


class FaqIndex:
    def __init__(self, entries: list[FaqEntry], embedder: TextEmbedder, multilingual: TextEmbedder | None | str = "auto") -> None:
        """`multilingual`: the encoder for questions in other languages ("auto": the process's
        shared one, loaded on the first such question; None: every question read as English)."""
        self.entries = entries
        self._embedder = embedder
        self._multilingual = shared_encoder() if isinstance(multilingual, str) else multilingual
        self._ml_matrix: np.ndarray | None = None
        texts: list[str] = []
        self._owner: list[int] = []
        for index, entry in enumerate(entries):
            for text in (entry.question, *entry.variants):
                texts.append(text)
                self._owner.append(index)
        self._texts = texts
        self._stems = {entry.id: set(tokens(" ".join((entry.question, *entry.variants, entry.answer)))) for entry in entries}
        self._matrix = embedder.encode(texts) if texts else np.zeros((0, 384), dtype=np.float32)

    def foreign(self, question: str) -> bool:
        """Whether the question is read by the multilingual encoder (another language than English)."""
        return self._multilingual is not None and is_foreign(query_language(question))

    def _sims(self, question: str) -> np.ndarray:
        """Cosine of the question with every FAQ question and variant, in the right encoder."""
        question = question[:2000]
        if self.foreign(question):
            if self._ml_matrix is None:
                self._ml_matrix = self._multilingual.encode(self._texts) if self._texts else np.zeros((0, 512), dtype=np.float32)
            return self._ml_matrix @ self._multilingual.encode([question])[0]
        return self._matrix @ self._embedder.encode([question])[0]

    def _thresholds(self, question: str) -> tuple[float, float]:
        """(agreeing, minimum) similarity on the scale of the encoder that reads the question."""
        if self.foreign(question):
            return FOREIGN_AGREEING_SIMILARITY, FOREIGN_MIN_SIMILARITY
        return AGREEING_SIMILARITY, MIN_SIMILARITY

    def covers(self, question: str, entry: FaqEntry) -> bool:
        """Whether the entry's words cover what the question asks (an English question; a question in
        another language is not checked, its words are never the entry's)."""
        if self.foreign(question):
            return True
        asked = [stem for stem in dict.fromkeys(tokens(question)) if stem not in _GENERIC]
        missing = [stem for stem in asked if stem not in self._stems.get(entry.id, set())]
        return not (len(missing) >= UNCOVERED_WORDS and len(missing) >= UNCOVERED_SHARE * len(asked))

    def _match(self, question: str, entry: FaqEntry | None, similarity: float) -> FaqMatch | None:
        return FaqMatch(entry, similarity, self.covers(question, entry)) if entry else None

    @classmethod
    def from_file(cls, path: Path, embedder: TextEmbedder, multilingual: TextEmbedder | None | str = "auto") -> "FaqIndex":
        return cls(load_faq(path), embedder, multilingual)

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    def similarities(self, question: str) -> dict[str, float]:
        """Per entry, the best cosine between the question and the entry's question or variants."""
        if not question.strip() or not self.entries:
            return {}
        sims = self._sims(question)
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
        agreeing, minimum = self._thresholds(question)
        if chosen is not None and chosen >= agreeing and chosen >= sims[best_id] - OVERRULE_MARGIN and (
            confidence >= CONFIDENT_SELECTION or chosen >= sims[best_id] - AGREEMENT_MARGIN
        ):
            return self._match(question, self.get(entry_id), chosen)
        if sims[best_id] >= minimum:
            return self._match(question, self.get(best_id), sims[best_id])
        return None

    def best(self, question: str) -> FaqMatch | None:
        if not question.strip() or not self.entries:
            return None
        sims = self._sims(question)
        row = int(np.argmax(sims))
        if float(sims[row]) < self._thresholds(question)[1]:
            return None
        return self._match(question, self.entries[self._owner[row]], float(sims[row]))
