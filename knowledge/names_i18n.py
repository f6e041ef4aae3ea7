"""Country, region and SDG mentions in French, Russian and Arabic, inflections included.

The NLU's EntityRuler (bot/nlu/gazetteer.py) matches English phrases token by token; these languages
change the word itself, so this matcher compares normalised words against the forms each name can
take:
- Russian: the case endings of nouns and adjectives ("Кения" -> "в Кении", "Казахстан" -> "для
  Казахстана", "Южная Африка" -> "в Южной Африке"), generated from the nominative by ending class;
  "ё" is read as "е".
- Arabic: diacritics and tatweel dropped, alef/yaa/taa marbuta variants unified; the first word may
  carry the conjunctions و/ف, the prepositions ب/ل/ك and the article ("في كينيا", "بالمغرب",
  "للأردن", "وبالمغرب"); demonyms take ال and the feminine and plural endings.
- French: accents optional, elision split off by the tokenizer ("d'Égypte", "l'Inde"); demonyms in
  masculine/feminine, singular/plural.
Names whose plain form is also a common word ("того" = "of that" in Russian, "عمان" = Amman as well
as Oman) are left out or need a capital letter; see `_CASED` and `_AMBIGUOUS`.

It lives in `knowledge` because both sides read it: the NLU's gazetteer (bot/nlu/gazetteer.py) and the
retriever's country and region boosts (knowledge/search.py). No Rasa import, so either virtual
environment can use it.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Iterable

from knowledge.geo import i18n_names

# (Arabic diacritics are part of a word: "عُمان" is one word, not "ع" and "مان".)
_WORD = re.compile(r"[\w\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]+")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# harakat, Quranic marks, superscript alef and tatweel
_ARABIC_MARKS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})

# Forms that must be capitalised in the text to count (the lower-case word is something else).
_CASED = {"того", "maurice", "chili"}
# Normalised names never matched alone: ordinary words in the language.
_AMBIGUOUS = {"عمان", "الساحل", "ساحل", "مالي", "golfe"}
# ... unless the diacritics tell: "عُمان" (damma on the ain) is Oman, Amman is "عَمّان".
_VOWELLED = {"عُمان": ("country", "OMN")}

_RU_ADJECTIVE = ("ый", "ий", "ой", "ая", "яя", "ое", "ее", "ые", "ие", "ого", "его", "ому", "ему", "ым", "им", "ом", "ем", "ую", "юю", "ых", "их", "ыми", "ими", "ей")
_RU_VOWELS = set("аеёиоуыэюя")


def normalise(word: str) -> str:
    """The form names and text are compared in."""
    if _ARABIC.search(word):
        return _ARABIC_MARKS.sub("", word).translate(_ARABIC_LETTERS)
    word = word.casefold()
    if _CYRILLIC.search(word):
        return word.replace("ё", "е")
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _russian_forms(word: str) -> set[str]:
    forms = {word}
    if len(word) <= 3:
        return forms  # "снг", "атр", "и", "с": as written
    if word.endswith(("ый", "ий", "ой", "ая", "яя", "ое", "ее", "ые", "ие")):
        forms |= {word[:-2] + ending for ending in _RU_ADJECTIVE}
    elif word.endswith("ия"):
        forms |= {word[:-2] + ending for ending in ("ия", "ии", "ию", "ией", "ие")}
    elif word[-1] in "ая":
        forms |= {word[:-1] + ending for ending in ("а", "я", "ы", "и", "е", "у", "ю", "ой", "ей", "ою", "ам", "ах")}
    elif word[-1] in "ьй":
        forms |= {word[:-1] + ending for ending in ("ь", "й", "я", "ю", "ем", "е", "и", "ей")}
    elif word[-1] == "ы":
        forms |= {word[:-1] + ending for ending in ("ы", "и", "ах", "ам", "ами", "ов")}
    elif word[-1] not in _RU_VOWELS:
        stems = {word}
        if word[-2] == "е" and word[-3] not in _RU_VOWELS:
            stems.add(word[:-2] + word[-1])  # fleeting vowel: "Египет" -> "Египта"
        forms |= {stem + ending for stem in stems for ending in ("а", "у", "ом", "е", "ы", "ов", "ах", "ам")}
    # ending in о, е, и, у, ю, э ("Марокко", "Того", "Перу", "Мали"): indeclinable
    return forms


def _french_demonym_forms(word: str) -> set[str]:
    forms = {word, word + "e", word + "s", word + "es"}
    if word.endswith("en"):
        forms |= {word + "ne", word + "nes"}
    if word.endswith("e"):
        forms |= {word + "s"}
    return forms


def _arabic_demonym_forms(word: str) -> set[str]:
    forms = {word, word + "ه", word + "ين", word + "ون"}
    return forms | {"ال" + form for form in forms}


def arabic_cores(word: str) -> list[str]:
    """The word and what remains after the clitics a first word may carry (و/ف, ب/ل/ك, لل = ل + ال)."""
    cores = [word]
    if len(word) > 3 and word[0] in "وف":
        cores.append(word[1:])
    for core in list(cores):
        if len(core) > 3 and core.startswith("لل"):
            cores.append("ال" + core[2:])
        if len(core) > 3 and core[0] in "بلك":
            cores.append(core[1:])
    return cores


def _word_forms(word: str, label: str, position: int) -> set[str]:
    if _CYRILLIC.search(word):
        return _russian_forms(word)
    if _ARABIC.search(word):
        return _arabic_demonym_forms(word) if label == "demonym" and position == 0 else {word}
    return _french_demonym_forms(word) if label == "demonym" else {word}


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[tuple[tuple[frozenset[str], ...], str, str]]], int]:
    """First-word form -> [(forms of the following words, label, value)], and the longest phrase."""
    index: dict[str, list[tuple[tuple[frozenset[str], ...], str, str]]] = {}
    seen: set[tuple[str, ...]] = set()
    longest = 1
    for label, table in i18n_names().items():
        entity = "country" if label == "demonym" else label
        for value, names in table.items():
            for _language, name in names:
                words = [normalise(w) for w in _WORD.findall(name)]
                if not words or tuple(words) in seen or (len(words) == 1 and words[0] in _AMBIGUOUS):
                    continue
                seen.add(tuple(words))
                rest = tuple(frozenset(_word_forms(w, label, i)) for i, w in enumerate(words[1:], 1))
                for form in _word_forms(words[0], label, 0):
                    index.setdefault(form, []).append((rest, entity, value))
                longest = max(longest, len(words))
    return index, longest


def i18n_entities(text: str, taken: Iterable[tuple[int, int]] = ()) -> list[dict[str, Any]]:
    """Country, region and SDG mentions in French, Russian and Arabic; the longest name wins and a
    span overlapping `taken` (what the English ruler and the regexes found) is skipped."""
    index, _ = _index()
    blocked = list(taken)
    words = [(normalise(m.group(0)), m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text[:5000])]
    found: list[dict[str, Any]] = []
    i = 0
    while i < len(words):
        word, start, _, original = words[i]
        cores = arabic_cores(word) if _ARABIC.search(word) else [word]
        best: tuple[int, str, str] | None = None
        for core in cores:
            for rest, entity, value in index.get(core, ()):
                if len(rest) + 1 <= (best[0] if best else 0) or i + len(rest) >= len(words):
                    continue
                if all(words[i + 1 + j][0] in forms for j, forms in enumerate(rest)):
                    best = (len(rest) + 1, entity, value)
        if best is None:
            vowelled = next((_VOWELLED[v] for v in _VOWELLED if original.endswith(v) and normalise(v) in cores), None)
            best = (1, *vowelled) if vowelled else None
        if best and core_is_cased_ok(word, original):
            size, entity, value = best
            end = words[i + size - 1][2]
            if not any(s < end and start < e for s, e in blocked):
                found.append({"entity": entity, "value": int(value) if entity == "sdg" else value, "start": start, "end": end})
                blocked.append((start, end))
            i += size
            continue
        i += 1
    return found


def core_is_cased_ok(word: str, original: str) -> bool:
    """A name in `_CASED` counts only when written with a capital letter."""
    return word not in _CASED or original[:1].isupper()
