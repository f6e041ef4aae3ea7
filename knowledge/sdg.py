"""SdgTagger: ranks the 17 Sustainable Development Goals for a free-text need or record.

The zero-shot score compares the text's embedding with each goal's official title, targets (UN
text, `data/sdgs.json`) and keyword list, plus a lexical keyword hit. A small learned layer
(`data/sdg_model.npz`, rebuilt by `python -m knowledge.sdg_train`) weighs that score together with
the closest official indicators, UN database series and keywords of each goal and a logistic
regression trained on public SDG-labelled sentences (`data/sdg_labelled.json`), with one bias per
goal. A goal named by number ("SDG 7") always comes first.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.embedder import TextEmbedder
from knowledge.geo import sdgs
from knowledge.text import tokens

logger = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).resolve().parent / "data" / "sdg_model.npz"
# The zero-shot similarities are cosines a few hundredths apart; this turns them into logits.
TEMPERATURE = 0.04
NAMED_GOAL_BONUS = 20.0  # logits added to a goal the text names by number: not a guess
_NAMED_GOAL = re.compile(r"\b(?:sdg|goal)\s*#?\s*(\d{1,2})\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Goal:
    number: int
    title_row: int
    keyword_row: int
    target_rows: tuple[int, ...]
    stems: frozenset[str]


# Evidence the learned blend may use, per goal: the zero-shot score above, the closest official
# indicators, UN database series and keywords of the goal (best cosine and mean of the best three),
# and a logistic regression's log-probability. `python -m knowledge.sdg_train` picks the subset.
POOLS = ("indicators", "series", "keywords")
FEATURES = ("zero_shot", *(f"{pool}_{stat}" for pool in POOLS for stat in ("best", "top3")), "learned")


@dataclass(frozen=True)
class SdgModel:
    """The learned part of the tagger: logits = features @ weights + bias, one bias per goal.

    `pools` holds unit vectors (float16) of labelled sentences and their goals (17 columns of 0/1);
    `coef`/`intercept` is a multinomial logistic regression over sentence vectors."""

    features: tuple[str, ...]
    weights: np.ndarray  # (len(features),)
    bias: np.ndarray  # (17,)
    pools: dict[str, tuple[np.ndarray, np.ndarray]]
    coef: np.ndarray | None = None  # (17, dimension)
    intercept: np.ndarray | None = None  # (17,)

    @property
    def dimension(self) -> int:
        if self.coef is not None:
            return int(self.coef.shape[1])
        return int(next(iter(self.pools.values()))[0].shape[1]) if self.pools else 0

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "SdgModel":
        with np.load(path) as data:
            features = tuple(str(f) for f in data["features"])
            pools = {
                pool: (data[f"{pool}_vectors"].astype(np.float32), data[f"{pool}_goals"].astype(bool))
                for pool in POOLS
                if f"{pool}_vectors" in data
            }
            learned = "learned" in features
            return cls(
                features=features,
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                pools=pools,
                coef=data["coef"].astype(np.float32) if learned else None,
                intercept=data["intercept"].astype(np.float32) if learned else None,
            )

    def save(self, path: Path = MODEL_PATH, **provenance: object) -> None:
        arrays: dict[str, np.ndarray] = {
            "features": np.array(self.features),
            "weights": self.weights.astype(np.float32),
            "bias": self.bias.astype(np.float32),
        }
        needed = {f.rsplit("_", 1)[0] for f in self.features}
        for pool, (vectors, goals) in self.pools.items():
            if pool in needed:
                arrays[f"{pool}_vectors"] = vectors.astype(np.float16)
                arrays[f"{pool}_goals"] = goals.astype(bool)
        if "learned" in self.features and self.coef is not None and self.intercept is not None:
            arrays["coef"] = self.coef.astype(np.float32)
            arrays["intercept"] = self.intercept.astype(np.float32)
        arrays.update({k: np.asarray(v) for k, v in provenance.items()})
        np.savez_compressed(path, **arrays)

    def logits(self, vectors: np.ndarray, zero_shot: np.ndarray) -> np.ndarray:
        return self.feature_tensor(vectors, zero_shot, self.features) @ self.weights + self.bias

    def feature_tensor(self, vectors: np.ndarray, zero_shot: np.ndarray, features: tuple[str, ...]) -> np.ndarray:
        """(len(vectors), 17, len(features)) evidence for each goal."""
        columns: dict[str, np.ndarray] = {"zero_shot": zero_shot}
        for pool, (pool_vectors, goals) in self.pools.items():
            if not any(f.startswith(pool + "_") for f in features):
                continue
            sims = vectors @ pool_vectors.T
            best = np.zeros((len(vectors), 17), dtype=np.float32)
            top3 = np.zeros_like(best)
            for column in range(17):
                ranked = -np.sort(-sims[:, goals[:, column]], axis=1)
                best[:, column] = ranked[:, 0]
                top3[:, column] = ranked[:, :3].mean(axis=1)
            columns[f"{pool}_best"], columns[f"{pool}_top3"] = best, top3
        if "learned" in features and self.coef is not None and self.intercept is not None:
            # log-probabilities span tens of nats; divided so all features share a scale
            columns["learned"] = log_softmax(vectors @ self.coef.T + self.intercept) / 25.0
        return np.stack([columns[f] for f in features], axis=-1).astype(np.float32)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def named_goals(text: str) -> set[int]:
    return {int(m.group(1)) for m in _NAMED_GOAL.finditer(text) if 1 <= int(m.group(1)) <= 17}


class SdgTagger:
    def __init__(self, embedder: TextEmbedder, model: SdgModel | Path | None = MODEL_PATH) -> None:
        """`model`: the learned part, a file to load it from, or None for the zero-shot scorer
        alone (also used when the file is missing or was trained for other vectors)."""
        self._embedder = embedder
        texts: list[str] = []
        goals: list[_Goal] = []
        for number, goal in sorted(sdgs().items()):
            title_row = len(texts)
            texts.append(f"{goal.name}: {goal.title}")
            keyword_row = len(texts)
            texts.append(f"{goal.name}: " + ", ".join(goal.keywords or goal.aliases or (goal.name,)))
            target_rows = []
            for _, text in goal.targets:
                target_rows.append(len(texts))
                texts.append(text)
            stems = frozenset(s for phrase in (*goal.keywords, *goal.aliases) for s in [" ".join(tokens(phrase))] if s)
            goals.append(_Goal(number, title_row, keyword_row, tuple(target_rows), stems))
        self._goals = goals
        self._matrix = embedder.encode(texts, batch_size=64)
        if isinstance(model, Path):
            model = SdgModel.load(model) if model.exists() else None
            if model is None:
                logger.warning("no learned SDG model at %s; tagging zero-shot only", MODEL_PATH)
        if model is not None and model.dimension != self._matrix.shape[1]:
            logger.warning("the learned SDG model was trained for other vectors; tagging zero-shot only")
            model = None
        self.model = model

    def zero_shot(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """(len(texts), 17) raw zero-shot scores: blended cosines plus the keyword bonus."""
        sims = vectors @ self._matrix.T
        raw = np.zeros((len(texts), 17), dtype=np.float32)
        for goal in self._goals:
            column = goal.number - 1
            title = sims[:, goal.title_row]
            keywords = sims[:, goal.keyword_row]
            if goal.target_rows:
                targets = np.sort(sims[:, list(goal.target_rows)], axis=1)[:, ::-1]
                best = targets[:, 0]
                top3 = targets[:, :3].mean(axis=1)
            else:
                best = top3 = title
            raw[:, column] = 0.35 * best + 0.2 * top3 + 0.2 * title + 0.25 * keywords
        for row, text in enumerate(texts):
            stemmed = " " + " ".join(tokens(text)) + " "
            for goal in self._goals:
                hits = sum(1 for phrase in goal.stems if f" {phrase} " in stemmed)
                raw[row, goal.number - 1] += 0.03 * min(hits, 3)
        return raw

    def encode(self, texts: list[str]) -> np.ndarray:
        return self._embedder.encode([t[:2000] for t in texts])

    def logits(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        vectors = self.encode(texts) if vectors is None else vectors
        zero_shot = self.zero_shot(texts, vectors)
        out = zero_shot / TEMPERATURE if self.model is None else self.model.logits(vectors, zero_shot)
        for row, text in enumerate(texts):
            for number in named_goals(text):
                out[row, number - 1] += NAMED_GOAL_BONUS
        return out

    def scores(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 17) probabilities, column g-1 for goal g."""
        logits = self.logits(texts)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        return probs / probs.sum(axis=1, keepdims=True)

    def tag(self, text: str, top_k: int = 3) -> list[tuple[int, float]]:
        if not text.strip():
            return []
        row = self.scores([text])[0]
        order = np.argsort(-row)[:top_k]
        return [(int(i) + 1, float(row[i])) for i in order]

    def tag_many(self, texts: list[str], top_k: int = 3, batch: int = 256) -> list[list[tuple[int, float]]]:
        results: list[list[tuple[int, float]]] = []
        for start in range(0, len(texts), batch):
            chunk = texts[start : start + batch]
            for text, row in zip(chunk, self.scores(chunk)):
                order = np.argsort(-row)[:top_k]
                results.append([] if not text.strip() else [(int(i) + 1, float(row[i])) for i in order])
        return results


# A goal is added to a record that lacks SDGs only when the tagger is this sure of it.
AUTO_TAG_MIN_SCORE = 0.35
AUTO_TAG_MAX_GOALS = 2


def tag_missing_sdgs(records: list, tagger: SdgTagger) -> tuple[list, int]:
    """Records that came without SDGs get the goals the tagger is confident about (at most two);
    returns the records and how many were tagged. Records that have SDGs are left as they are."""
    from dataclasses import replace

    missing = [i for i, r in enumerate(records) if not r.sdgs]
    if not missing:
        return list(records), 0
    tagged = list(records)
    ranked = tagger.tag_many([records[i].text() for i in missing], top_k=AUTO_TAG_MAX_GOALS)
    count = 0
    for index, goals in zip(missing, ranked):
        chosen = tuple(goal for goal, score in goals if score >= AUTO_TAG_MIN_SCORE)
        if chosen:
            tagged[index] = replace(records[index], sdgs=chosen)
            count += 1
    return tagged, count
