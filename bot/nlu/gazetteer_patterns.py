"""EntityRuler patterns for country, region and SDG mentions, built from the data files that
`knowledge/` uses, plus ordinal mentions ("the second one") as regular expressions.

Kept free of Rasa imports so it can be tested from either virtual environment.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Callable

from knowledge import closed_values, names_i18n
from knowledge.geo import REGION_KEYS, fold, geography, sdgs
from knowledge.settings import DATA_DIR

DATA_FILES = ("divisions.json", "country_aliases.json", "region_aliases.json", "sdgs.json", "names_i18n.json")

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17,
}
ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "last": -1,
}
_ORDINAL = re.compile(
    r"\b(?:(?P<word>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last)\b"
    r"|(?P<num>\d{1,2})(?:st|nd|rd|th)\b"
    r"|(?:number|no\.?|option|result|item|#)\s*(?P<ref>\d{1,2})\b)",
    re.IGNORECASE,
)
_SDG_NUMBER = re.compile(
    r"\b(?:sdgs?|goal|global goal)\s*(?:#|no\.?|number)?\s*(?P<n>\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\b",
    re.IGNORECASE,
)

# French, Russian and Arabic. `\d` is any Unicode digit, so Arabic-Indic "٦" and Persian "۶" count
# (int() reads them). Arabic clitics (و/ف, ب/ل/ك, ال) may sit on the word for "goal".
FR_NUMBER_WORDS = {
    "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "dix-sept": 17,
}
ORDINAL_STEMS = {
    # French (accents optional), Russian (stem + any adjective ending), Arabic (with or without ال)
    "premier": 1, "premiere": 1, "1er": 1, "1re": 1, "1ere": 1, "deuxieme": 2, "second": 2, "seconde": 2,
    "troisieme": 3, "quatrieme": 4, "cinquieme": 5, "sixieme": 6, "septieme": 7, "huitieme": 8,
    "neuvieme": 9, "dixieme": 10, "dernier": -1, "derniere": -1,
    "перв": 1, "втор": 2, "трет": 3, "четверт": 4, "пят": 5, "шест": 6, "седьм": 7, "восьм": 8, "девят": 9,
    "десят": 10, "последн": -1,
    "اول": 1, "ثاني": 2, "ثالث": 3, "رابع": 4, "خامس": 5, "سادس": 6, "سابع": 7, "ثامن": 8, "تاسع": 9,
    "عاشر": 10, "اخير": -1,
}
_SDG_NUMBER_I18N = re.compile(
    r"(?<!\w)(?:"
    r"o\.?d\.?d\.?|objectifs?(?:\s+de\s+d[ée]veloppement\s+durable)?"
    r"|цур|цел(?:ь|и|ью|ям|ей)(?:\s+устойчивого\s+развития)?"
    r"|[وف]?(?:لل|[بلك]?(?:ال)?)هدف(?:\s+(?:ال)?تنمي[ةه]\s+(?:ال)?مستدام[ةه])?"
    r")\s*[-#№]?\s*(?:n[°ºo]\.?|num[ée]ro|номер|رقم)?\s*"
    r"(?P<n>\d{1,2}|" + "|".join(sorted(FR_NUMBER_WORDS, key=len, reverse=True)) + r"|(?:ال)?(?P<ar>اول|ثاني|ثالث|رابع|خامس|سادس|سابع|ثامن|تاسع|عاشر)[ةه]?)(?!\w)",
    re.IGNORECASE,
)
_ORDINAL_I18N = re.compile(
    r"(?<!\w)(?:"
    r"(?P<fr>premi[eè]re?|1(?:er|re|[eè]re)|deuxi[eè]me|secondes?|second|troisi[eè]me|quatri[eè]me|cinqui[eè]me"
    r"|sixi[eè]me|septi[eè]me|huiti[eè]me|neuvi[eè]me|dixi[eè]me|derni[eè]re?)"
    r"|(?P<frnum>\d{1,2})(?:e|[eè]me)"
    r"|(?P<ru>перв|втор|трет|четв[её]рт|пят|шест|седьм|восьм|девят|десят|последн)"
    r"(?:ый|ий|ой|ая|яя|ое|ее|ого|его|ому|ему|ым|им|ом|ем|ую|юю|ья|ье|ьего|ьей|ьему|ьим|ьем|ью|ей)"
    r"|[وف]?(?:لل|[بلك]?(?:ال)?)(?P<ar>[اأ]ول|ثاني|ثالث|رابع|خامس|سادس|سابع|ثامن|تاسع|عاشر|[اأ]خير)(?:[ةهى])?"
    r"|(?:num[ée]ro|n[°º]|номер|№|رقم)\s*(?P<ref>\d{1,2})"
    r")(?!\w)",
    re.IGNORECASE,
)


def _fold_ordinal(word: str) -> str:
    return word.lower().replace("è", "e").replace("é", "e").replace("ё", "е").replace("أ", "ا").rstrip("s")


def i18n_regex_entities(text: str, taken: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """SDG numbers ("ODD 6", "ЦУР 6", "الهدف ٦", "الهدف السادس") and ordinals ("le deuxième",
    "второй", "الثاني", "№ 3") in French, Russian and Arabic, outside the spans already `taken`."""
    found: list[dict[str, Any]] = []
    spans = list(taken)
    for match in _SDG_NUMBER_I18N.finditer(text):
        raw = match.group("n").lower()
        if match.group("ar"):
            number = ORDINAL_STEMS[match.group("ar")]
        else:
            number = FR_NUMBER_WORDS.get(raw) or int(raw)
        if 1 <= number <= 17 and not any(s < match.end() and match.start() < e for s, e in spans):
            found.append({"entity": "sdg", "value": number, "start": match.start(), "end": match.end()})
            spans.append((match.start(), match.end()))
    for match in _ORDINAL_I18N.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in spans):
            continue
        word = match.group("fr") or match.group("ru") or match.group("ar")
        if word:
            value = ORDINAL_STEMS.get(_fold_ordinal(word))
        else:
            value = int(match.group("frnum") or match.group("ref"))
        if value:
            found.append({"entity": "ordinal", "value": value, "start": match.start(), "end": match.end()})
    return found



# Which detail of an introduction request the user wants to correct ("my email is wrong").
FIELD_WORDS = {
    "name": "requester_name",
    "organisation": "requester_organisation",
    "organization": "requester_organisation",
    "company": "requester_organisation",
    "ministry": "requester_organisation",
    "role": "requester_role",
    "job": "requester_role",
    "title": "requester_role",
    "position": "requester_role",
    "email": "requester_email",
    "e-mail": "requester_email",
    "mail": "requester_email",
    "address": "requester_email",
    "message": "intro_message",
    "topic": "intro_message",
    "reason": "intro_message",
}
_CORRECTION = re.compile(
    r"\b(wrong|change|correct|fix|update|edit|typo|mistake|incorrect|misspelt|misspelled|instead|actually|meant)\b",
    re.IGNORECASE,
)
# The new value, when the correction gives it after the field: "the organisation should be X",
# "my email is actually X"; "change the message to X" only with a correction word ("a message to AMEXCID" is none).
_NEW_VALUE = re.compile(
    r"\W*(?:(?:is|was)\s+(?:actually|really|now)|actually\s+is|should\s+(?:be|say|read))\s*:?\s+(?P<value>\S.*?)[\s.!]*$",
    re.IGNORECASE | re.DOTALL,
)
_NEW_VALUE_AFTER_TO = re.compile(r"\W*to\s*:?\s+(?P<value>\S.*?)[\s.!]*$", re.IGNORECASE | re.DOTALL)
_FIELD = re.compile(r"\b(" + "|".join(re.escape(w) for w in FIELD_WORDS) + r")\b", re.IGNORECASE)


def data_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in DATA_FILES:
        path = DATA_DIR / name
        if path.exists():
            digest.update(path.read_bytes())
    digest.update(Path(closed_values.__file__).read_bytes())
    digest.update(Path(names_i18n.__file__).read_bytes())
    return digest.hexdigest()[:16]


def _split(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def ruler_patterns(tokenize: Callable[[str], list[str]] = _split) -> list[dict[str, Any]]:
    """Patterns for spaCy's EntityRuler; `tokenize` must split text as the pipeline will."""

    def phrases(text: str) -> list[list[dict[str, Any]]]:
        # Lower-cased, as typed and without accents ("türkiye", "turkiye").
        variants = dict.fromkeys((text.lower(), fold(text)))
        return [[{"LOWER": part} for part in tokenize(variant)] for variant in variants]

    geo = geography()
    patterns: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(label: str, value: str, text: str, *, exact: bool = False) -> None:
        key = (label, text if exact else fold(text))
        if not text.strip() or key in seen:
            return
        seen.add(key)
        variants = [[{"TEXT": part} for part in tokenize(text)]] if exact else phrases(text)
        for pattern in variants:
            patterns.append({"label": label, "pattern": pattern, "id": f"{label}:{value}"})

    for code, name in geo.country_names().items():
        add("country", code, name)
    import pycountry

    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                add("country", country.alpha_3, value)
    for code, names in geo.aliases.items():
        for name in names:
            add("country", code, name)
    for code, names in geo.uppercase_aliases.items():
        for name in names:
            add("country", code, name, exact=True)
    for key, names in geo.region_aliases.items():
        for name in names:
            add("region", key, name)
    for key in REGION_KEYS:
        add("region", key, key.replace("_", " "))
    for number, goal in sdgs().items():
        add("sdg", str(number), goal.name)
        for alias in goal.aliases:
            add("sdg", str(number), alias)
    return patterns


def regex_entities(text: str) -> list[dict[str, Any]]:
    """SDG numbers ("SDG 13", "goal six"), ordinals ("the second one", "#3") and, in a
    correction, the detail to correct ("my email is wrong" -> requester_email)."""
    found: list[dict[str, Any]] = []
    for match in _SDG_NUMBER.finditer(text):
        raw = match.group("n").lower()
        number = NUMBER_WORDS.get(raw) or int(raw)
        if 1 <= number <= 17:
            found.append({"entity": "sdg", "value": number, "start": match.start(), "end": match.end()})
    sdg_spans = [(e["start"], e["end"]) for e in found]
    for match in _ORDINAL.finditer(text):
        if any(s <= match.start() < e for s, e in sdg_spans):
            continue
        if match.group("word"):
            value = ORDINAL_WORDS[match.group("word").lower()]
        else:
            value = int(match.group("num") or match.group("ref"))
        if value == 0:
            continue
        found.append({"entity": "ordinal", "value": value, "start": match.start(), "end": match.end()})
    found += i18n_regex_entities(text, [(e["start"], e["end"]) for e in found])
    # A field is named in a correction: after a correction word, or followed by its new value.
    field = _FIELD.search(text)
    if field:
        cue = _CORRECTION.search(text)
        new = _NEW_VALUE.match(text, field.end()) or (_NEW_VALUE_AFTER_TO.match(text, field.end()) if cue else None)
        if new or cue:
            found.append({"entity": "field", "value": FIELD_WORDS[field.group(1).lower()], "start": field.start(), "end": field.end()})
        if new:
            value = new.group("value").strip().strip("\"'“”")
            found.append({"entity": "detail_value", "value": value, "start": new.start("value"), "end": new.start("value") + len(new.group("value"))})
    return found


def normalise(label: str, value: str) -> Any:
    return int(value) if label == "sdg" else value
