"""SdgTagger: ranks the 17 Sustainable Development Goals for a free-text need or record.

Each goal is described by its official title, its targets (UN text, `data/sdgs.json`) and a
keyword list; a text is scored by its embedding similarity to those descriptions (best target,
goal title, keyword profile) plus a lexical keyword hit, and the scores are turned into a
probability-like distribution.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.embedder import TextEmbedder
from knowledge.geo import sdgs
from knowledge.text import tokens

TEMPERATURE = 0.04


@dataclass(frozen=True)
class _Goal:
    number: int
    title_row: int
    keyword_row: int
    target_rows: tuple[int, ...]
    stems: frozenset[str]


class SdgTagger:
    def __init__(self, embedder: TextEmbedder) -> None:
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

    def scores(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 17) probabilities, column g-1 for goal g."""
        vectors = self._embedder.encode([t[:2000] for t in texts])
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
            for match in re.finditer(r"\b(?:sdg|goal)\s*#?\s*(\d{1,2})\b", text, re.IGNORECASE):
                number = int(match.group(1))
                if 1 <= number <= 17:
                    raw[row, number - 1] += 1.0  # a goal named by number is not a guess
        shifted = (raw - raw.max(axis=1, keepdims=True)) / TEMPERATURE
        probs = np.exp(shifted)
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
