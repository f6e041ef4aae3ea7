"""Semantic search over the FAQ: answers questions the Rasa ResponseSelector did not take, and
confirms its picks. A question in another language than English is compared with the (English)
questions and variants by the multilingual encoder instead of MiniLM, on that encoder's scale."""
from __future__ import annotations

import json
import re
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
# Whether the entry found says what an English question asks is judged by a logistic model of these
# measures, fitted by `python -m knowledge.faq_calibrate` on knowledge/eval/faq_answerable.jsonl. Without
# that file the UNCOVERED_* rule above decides.
ANSWERABILITY_FILE = Path(__file__).resolve().parent / "data" / "faq_answerability.json"
FEATURES = (
    "similarity",  # cosine of the question with the entry's closest question or variant
    "margin",  # that cosine minus the best other entry's
    "answer_sentence",  # cosine of the question with the entry's closest answer sentence
    "missing_share",  # share of the question's content words the entry never uses
)
# (The count of missing words and of words no entry uses were tried too: they added nothing in
# cross-validation and took signs that make no sense, so they are left out.)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


# "Who were the contact persons again?": asking to be reminded says nothing about what is asked
_AGAIN = re.compile(r"\b(?:again|once\s+more|one\s+more\s+time|encore\s+une\s+fois|de\s+nouveau)\b|(?<!\w)(?:ещё\s+раз|еще\s+раз|снова)(?!\w)|مرة\s+أخرى", re.IGNORECASE)


def without_again(question: str) -> str:
    return " ".join(_AGAIN.sub(" ", question or "").split())


@dataclass(frozen=True)
class Answerability:
    """P(the entry found says what is asked) = logistic(weights · standardised features + bias)."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    def probability(self, features: np.ndarray) -> float:
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return float(1.0 / (1.0 + np.exp(-(float(np.dot(self.weights, z)) + self.bias))))

    @classmethod
    def load(cls, path: Path = ANSWERABILITY_FILE) -> "Answerability | None":
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data.get("features", ())) != FEATURES:
            raise ValueError(f"{path} was fitted on other features than {FEATURES}: run python -m knowledge.faq_calibrate")
        return cls(tuple(data["weights"]), float(data["bias"]), tuple(data["mean"]), tuple(data["scale"]), float(data["threshold"]))


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    similarity: float
    covered: bool = True  # False: the entry is about the question's subject but may not say what is asked


class FaqIndex:
    def __init__(
        self, entries: list[FaqEntry], embedder: TextEmbedder, multilingual: TextEmbedder | None | str = "auto",
        answerability: Answerability | None | str = "auto",
    ) -> None:
        """`multilingual`: the encoder for questions in other languages ("auto": the process's
        shared one, loaded on the first such question; None: every question read as English).
        `answerability`: the model that judges whether an entry says what is asked ("auto": the
        fitted one in knowledge/data when there is one; None: the UNCOVERED_* word rule)."""
        self.entries = entries
        self.answerability = Answerability.load() if isinstance(answerability, str) else answerability
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
        sentences = [(entry.id, s) for entry in entries for s in _SENTENCE.split(_LINK.sub(r"\1", entry.answer)) if len(s) > 10]
        self._sentence_owner = [entry_id for entry_id, _ in sentences]
        self._sentences = embedder.encode([s for _, s in sentences]) if sentences else np.zeros((0, 384), dtype=np.float32)
        self._last: tuple[str, np.ndarray] | None = None

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
        return self._matrix @ self._english_vector(question)

    def _english_vector(self, question: str) -> np.ndarray:
        """MiniLM's vector of the question (the last one kept: the coverage check asks again)."""
        if self._last is None or self._last[0] != question:
            self._last = (question, self._embedder.encode([question])[0])
        return self._last[1]

    def _thresholds(self, question: str) -> tuple[float, float]:
        """(agreeing, minimum) similarity on the scale of the encoder that reads the question."""
        if self.foreign(question):
            return FOREIGN_AGREEING_SIMILARITY, FOREIGN_MIN_SIMILARITY
        return AGREEING_SIMILARITY, MIN_SIMILARITY

    def covers(self, question: str, entry: FaqEntry, sims: dict[str, float] | None = None) -> bool:
        """Whether the entry says what the question asks (an English question; a question in another
        language is not checked, its words are never the entry's). `sims`: `similarities(question)`
        when the caller has them."""
        if self.foreign(question):
            return True
        if self.answerability is not None:
            features = self.features(question, entry, self.similarities(question) if sims is None else sims)
            return self.answerability.probability(features) >= self.answerability.threshold
        missing, asked = self._missing(question, entry)
        return not (len(missing) >= UNCOVERED_WORDS and len(missing) >= UNCOVERED_SHARE * asked)

    def _missing(self, question: str, entry: FaqEntry) -> tuple[list[str], int]:
        """The question's content words the entry never uses, and how many content words it has."""
        asked = [stem for stem in dict.fromkeys(tokens(question)) if stem not in _GENERIC]
        return [stem for stem in asked if stem not in self._stems.get(entry.id, set())], len(asked)

    def features(self, question: str, entry: FaqEntry, sims: dict[str, float]) -> np.ndarray:
        """The measures of FEATURES for an English question and the entry found for it."""
        similarity = sims.get(entry.id, 0.0)
        others = [v for k, v in sims.items() if k != entry.id]
        rows = [i for i, owner in enumerate(self._sentence_owner) if owner == entry.id]
        sentence = float((self._sentences[rows] @ self._english_vector(question[:2000])).max()) if rows else 0.0
        missing, asked = self._missing(question, entry)
        return np.array([similarity, similarity - max(others, default=0.0), sentence, len(missing) / max(asked, 1)], dtype=np.float64)

    def _match(self, question: str, entry: FaqEntry | None, similarity: float, sims: dict[str, float] | None = None) -> FaqMatch | None:
        return FaqMatch(entry, similarity, self.covers(question, entry, sims)) if entry else None

    @classmethod
    def from_file(
        cls, path: Path, embedder: TextEmbedder, multilingual: TextEmbedder | None | str = "auto", answerability: Answerability | None | str = "auto"
    ) -> "FaqIndex":
        return cls(load_faq(path), embedder, multilingual, answerability)

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
        closest entry when it is clearly close, else None (say "I don't know"). Asking to be
        reminded ("again") says nothing about what is asked."""
        question = without_again(question)
        sims = self.similarities(question)
        if not sims:
            return None
        chosen = sims.get(entry_id)
        best_id = max(sims, key=sims.__getitem__)
        agreeing, minimum = self._thresholds(question)
        if chosen is not None and chosen >= agreeing and chosen >= sims[best_id] - OVERRULE_MARGIN and (
            confidence >= CONFIDENT_SELECTION or chosen >= sims[best_id] - AGREEMENT_MARGIN
        ):
            return self._match(question, self.get(entry_id), chosen, sims)
        if sims[best_id] >= minimum:
            return self._match(question, self.get(best_id), sims[best_id], sims)
        return None

    def best(self, question: str) -> FaqMatch | None:
        question = without_again(question)
        if not question.strip() or not self.entries:
            return None
        sims = self._sims(question)
        row = int(np.argmax(sims))
        if float(sims[row]) < self._thresholds(question)[1]:
            return None
        return self._match(question, self.entries[self._owner[row]], float(sims[row]))
