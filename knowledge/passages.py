"""The sentence of a record that answers a question its fields do not ("does it work with banks?",
"is mobile money part of it?"): the record's own words, quoted, never a summary we make up.

A sentence is chosen by the question's content words it holds, each weighted by how rare the word is in
the catalogue (idf); it must hold a rare one (so "banks" can pick a sentence and "people" cannot) and
most of the question's weight. Words that only point at
the record (its title, countries, themes, provider) are not evidence: "the Kenya one" names the record,
it does not ask about Kenya."""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from knowledge.catalogue import Partner, Record, Solution
from knowledge.geo import geography
from knowledge.text import tokens, words

# A sentence ends at ., ! or ? followed by a space and a capital, a digit or a quote (so "U.S. farmers"
# and "approx. 30" stay whole more often than not).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[A-Z0-9])")
# A word found in more than this share of the records of its kind says nothing about one record (in a
# small catalogue, a word two records share still counts).
MAX_SHARE = 0.15
MIN_COUNTED = 2
MIN_COVERED = 0.5  # share of the question's word weight (idf) the quoted sentence must hold
MAX_CHARS = 360

# (kind, stems) -> (records of that kind, how many of them hold each stem): `Retriever.word_counts`
Rarity = Callable[[str, list[str]], tuple[int, dict[str, int]]]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text or "") if len(s.strip()) > 1]


def _pointing_stems(record: Record) -> set[str]:
    """The stems that name the record rather than ask about it."""
    geo = geography()
    if isinstance(record, Solution):
        names = [record.title, record.provider_name, *record.themes, *(geo.country_name(c) for c in (*record.countries, *record.provider_countries))]
    else:
        names = [record.name, record.display_name(), *record.focus_areas, *(geo.country_name(c) for c in ([record.country] if record.country else []))]
    return {stem for name in names if name for stem in tokens(name)}


def _texts(record: Record) -> list[str]:
    if isinstance(record, Solution):
        return [record.summary, record.description, record.results or ""]
    if isinstance(record, Partner):
        return [record.description]
    return []


def passage(record: Record, question: str, rarity: Rarity, *, ignore: Iterable[str] = ()) -> str | None:
    """The record's sentence that holds most of what the question asks, or None. `ignore`: phrases of
    the question that ask nothing of the text (a field's words, "linked to", "the first one")."""
    ignored = _pointing_stems(record) | {stem for phrase in ignore for stem in tokens(phrase)}
    asked = [stem for stem in dict.fromkeys(tokens(question)) if stem not in ignored]
    if not asked:
        return None
    total, held_by = rarity(record.kind, asked)
    if total <= 0:
        return None
    most = max(MIN_COUNTED, MAX_SHARE * total)
    weights = {stem: math.log((total + 1) / (held_by.get(stem, 0) + 0.5)) for stem in asked}
    rare = {stem for stem in asked if held_by.get(stem, 0) <= most}
    if not rare:
        return None
    best, best_score = None, 0.0
    seen: set[str] = set()
    for text in _texts(record):
        for sentence in sentences(text):
            if sentence in seen:
                continue
            seen.add(sentence)
            held = set(tokens(sentence))
            if not rare & held:
                continue  # common words alone say nothing about this record
            score = sum(w for stem, w in weights.items() if stem in held)
            if score > best_score:
                best, best_score = sentence, score
    # the sentence must hold most of what is asked: "the health ministry" is not answered by a
    # sentence that only says "ministry" when "health" weighs as much
    if best is None or best_score < MIN_COVERED * sum(weights.values()):
        return None
    return best if len(best) <= MAX_CHARS else best[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def asks_beyond(record: Record, question: str, *, ignore: Iterable[str] = ()) -> bool:
    """Whether the question asks about something the record's text never mentions ("is biometrics part
    of it?" of a record that says nothing of biometrics): a content word that neither names the record
    nor appears anywhere in it."""
    return bool(not_mentioned(record, question, ignore=ignore))


def not_mentioned(record: Record, question: str, *, ignore: Iterable[str] = ()) -> list[str]:
    """The content words of the question (as asked) that neither name the record nor appear in it."""
    ignored = _pointing_stems(record) | {stem for phrase in ignore for stem in tokens(phrase)}
    held = {stem for text in (*_texts(record), record.text()) for stem in tokens(text)}
    missing: list[str] = []
    for word in words(question):
        stem = tokens(word)
        if stem and stem[0] not in ignored and stem[0] not in held and word not in missing:
            missing.append(word)
    return missing
