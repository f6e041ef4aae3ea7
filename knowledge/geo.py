"""Countries, UNOSSC regional divisions and SDG names: the vocabulary shared by the
catalogue, the search filters and the Rasa entity ruler.

Standard library plus pycountry only, so both virtual environments can import it.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry

from knowledge.settings import DATA_DIR

REGION_KEYS: tuple[str, ...] = (
    "africa",
    "arab_states",
    "asia_pacific",
    "europe_cis",
    "latin_america_caribbean",
)
REGION_LABELS: dict[str, str] = {
    "africa": "Africa",
    "arab_states": "Arab States",
    "asia_pacific": "Asia and the Pacific",
    "europe_cis": "Europe and the CIS",
    "latin_america_caribbean": "Latin America and the Caribbean",
}
# Codes pycountry does not carry but people and catalogues use.
_EXTRA_COUNTRIES = {"XKX": "Kosovo"}


def fold(text: str) -> str:
    """Lower-case, accent-free form used to compare names ("Türkiye" == "turkiye")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def _load_json(name: str) -> dict:
    path = DATA_DIR / name
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Sdg:
    number: int
    name: str
    title: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    targets: tuple[tuple[str, str], ...]


class Geography:
    """Country names ↔ ISO3 codes, country → division, and region name lookup."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        divisions = json.loads((data_dir / "divisions.json").read_text(encoding="utf-8"))
        self._division_of: dict[str, str] = {
            code: key for key, codes in divisions["divisions"].items() for code in codes
        }
        self._names: dict[str, str] = {c.alpha_3: getattr(c, "common_name", c.name) for c in pycountry.countries}
        self._names.update(_EXTRA_COUNTRIES)
        self._by_name: dict[str, str] = {}
        for country in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(country, attr, None)
                if value:
                    self._by_name.setdefault(fold(value), country.alpha_3)
        for code, name in _EXTRA_COUNTRIES.items():
            self._by_name[fold(name)] = code
        aliases_path = data_dir / "country_aliases.json"
        aliases = json.loads(aliases_path.read_text(encoding="utf-8")) if aliases_path.exists() else {}
        self.aliases: dict[str, list[str]] = aliases.get("aliases", {})
        self.uppercase_aliases: dict[str, list[str]] = aliases.get("uppercase_only", {})
        for code, names in self.aliases.items():
            for name in names:
                self._by_name.setdefault(fold(name), code)
        regions_path = data_dir / "region_aliases.json"
        regions = json.loads(regions_path.read_text(encoding="utf-8")) if regions_path.exists() else {}
        self.region_aliases: dict[str, list[str]] = {
            key: [REGION_LABELS[key], *value.get("aliases", [])]
            for key, value in regions.get("regions", {}).items()
            if key in REGION_KEYS
        }
        for key in REGION_KEYS:
            self.region_aliases.setdefault(key, [REGION_LABELS[key]])
        self._region_by_name = {
            fold(alias): key for key, names in self.region_aliases.items() for alias in names
        }
        self._region_by_name.update({key: key for key in REGION_KEYS})

    def is_country(self, code: str) -> bool:
        return code in self._names

    def country_name(self, code: str) -> str:
        return self._names.get(code, code)

    def country_code(self, text: str) -> str | None:
        """ISO3 code for a code, a name or an alias; None when unknown."""
        raw = text.strip()
        if raw.upper() in self._names:
            return raw.upper()
        for codes in (self.uppercase_aliases,):
            for code, names in codes.items():
                if raw in names:
                    return code
        if len(raw) == 2:
            country = pycountry.countries.get(alpha_2=raw.upper())
            return country.alpha_3 if country else None
        return self._by_name.get(fold(raw))

    def division(self, code: str) -> str | None:
        return self._division_of.get(code)

    def divisions(self, codes: list[str]) -> list[str]:
        seen = [self._division_of.get(c) for c in codes]
        return sorted({d for d in seen if d})

    def region_key(self, text: str) -> str | None:
        folded = fold(text).replace("-", " ").replace("_", " ")
        folded = re.sub(r"^the\s+", "", folded)
        # "CIS countries", "Arab states region": the name with a generic word after it.
        bare = re.sub(r"\s+(countries|nations|states|region|area)$", "", folded)
        for candidate in (folded, folded.replace(" ", "_"), bare):
            if candidate in self._region_by_name:
                return self._region_by_name[candidate]
        return self._region_by_name.get(fold(text))

    def country_names(self) -> dict[str, str]:
        return dict(self._names)


@lru_cache(maxsize=1)
def geography() -> Geography:
    return Geography()


# --- Sub-regions inside the divisions ("West Africa", "Central Asia", "the Gulf") ---
@dataclass(frozen=True)
class Subregion:
    key: str
    division: str  # the division the NLU's region entity gives for its names
    labels: dict[str, str]  # language -> name
    countries: frozenset[str]  # ISO3: what a filter on it keeps
    source: str

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels["en"]


@dataclass(frozen=True)
class Mention:
    key: str
    start: int
    end: int


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each of its characters, the index of the character of `text` it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, char in enumerate(text):
        folded = fold(char) if not char.isspace() else " "
        out.append(folded)
        where.extend([i] * len(folded))
    return "".join(out), where


# Arabic attaches "and", "in/with", "to", "like" to the next word ("بغرب أفريقيا", "ولدول الخليج").
_ARABIC_PREFIX = "(?:و|ف)?(?:ب|ل|ك)?"
_OF_AFTER = re.compile(r"\s+of\s")


def _alias_pattern(alias: str, language: str) -> str:
    words = [re.escape(word.rstrip("*")) + (r"\w*" if word.endswith("*") else "") for word in re.split(r"[\s\-]+", fold(alias)) if word]
    body = r"[\s\-]*".join(words)  # "South-East", "South East" and "Southeast" alike
    return (_ARABIC_PREFIX if language == "ar" else "") + body


class Subregions:
    """The sub-regions of `subregions.json` and where a text names them. A name inside a longer
    division name ("the Caribbean" in "Latin America and the Caribbean", "North Africa" in "Middle East
    and North Africa") is the division, not the sub-region."""

    def __init__(self, data_dir: Path = DATA_DIR) -> None:
        path = data_dir / "subregions.json"
        raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        self.by_key: dict[str, Subregion] = {}
        patterns: list[tuple[str, str]] = []
        for item in raw.get("subregions", []):
            if item["division"] not in REGION_KEYS:
                raise ValueError(f"subregion {item['key']}: unknown division {item['division']!r}")
            self.by_key[item["key"]] = Subregion(item["key"], item["division"], dict(item["labels"]), frozenset(item["countries"]), item.get("source", ""))
            for language, names in item.get("aliases", {}).items():
                patterns.extend((item["key"], _alias_pattern(name, language)) for name in [*names, item["labels"].get(language, "")] if name)
        # longest names first, so "South-East Asia" is not read as "East Asia"
        patterns.sort(key=lambda kp: -len(kp[1]))
        self._patterns = [(key, re.compile(rf"(?<!\w){pattern}(?!\w)")) for key, pattern in patterns]
        geo = geography()
        names = [n for names in geo.region_aliases.values() for n in names]
        names += [n for named in i18n_names()["region"].values() for _, n in named]  # "Amérique latine et Caraïbes"
        names += [n for by_language in raw.get("division_names", {}).values() for named in by_language.values() for n in named]
        division_names = sorted({fold(n) for n in names}, key=len, reverse=True)
        self._division_pattern = re.compile(r"(?<!\w)(?:" + "|".join(r"[\s\-]+".join(map(re.escape, re.split(r"[\s\-]+", n))) for n in division_names) + r")(?!\w)") if division_names else None

    def get(self, key: str | None) -> Subregion | None:
        return self.by_key.get(key) if key else None

    def mentions(self, text: str) -> list[Mention]:
        """The sub-regions the text names, in order, each span once (offsets into `text`)."""
        if not text or not self._patterns:
            return []
        folded, where = _folded_with_offsets(text)
        taken = [False] * len(folded)
        found: list[tuple[int, int, str]] = []
        for key, pattern in self._patterns:
            for match in pattern.finditer(folded):
                if any(taken[match.start() : match.end()]) or _OF_AFTER.match(folded, match.end()):
                    continue  # taken by a longer name, or another place: "the Gulf of Guinea"
                taken[match.start() : match.end()] = [True] * (match.end() - match.start())
                found.append((match.start(), match.end(), key))
        if self._division_pattern is not None:
            longer = [(m.start(), m.end()) for m in self._division_pattern.finditer(folded)]
            found = [f for f in found if not any(s <= f[0] and f[1] <= e and (e - s) > (f[1] - f[0]) for s, e in longer)]
        return [Mention(key, where[start], where[end - 1] + 1) for start, end, key in sorted(found)]


@lru_cache(maxsize=1)
def subregions() -> Subregions:
    return Subregions()


@lru_cache(maxsize=1)
def sdgs() -> dict[int, Sdg]:
    """The 17 goals with names, aliases, keywords and official targets."""
    raw = _load_json("sdgs.json")
    goals = raw.get("goals", raw if isinstance(raw, list) else [])
    result: dict[int, Sdg] = {}
    for goal in goals:
        number = int(goal["sdg"])
        result[number] = Sdg(
            number=number,
            name=goal["name"],
            title=goal.get("title", goal["name"]),
            aliases=tuple(goal.get("aliases", [])),
            keywords=tuple(goal.get("keywords", [])),
            targets=tuple((t["id"], t["text"]) for t in goal.get("targets", [])),
        )
    for number, name in _SDG_SHORT_NAMES.items():
        result.setdefault(number, Sdg(number, name, name, (name.lower(),), (), ()))
    return result


def sdg_name(number: int) -> str:
    goal = sdgs().get(number)
    return goal.name if goal else f"SDG {number}"


# Official short names, so the bot can label goals even before sdgs.json exists.
_SDG_SHORT_NAMES = {
    1: "No Poverty",
    2: "Zero Hunger",
    3: "Good Health and Well-being",
    4: "Quality Education",
    5: "Gender Equality",
    6: "Clean Water and Sanitation",
    7: "Affordable and Clean Energy",
    8: "Decent Work and Economic Growth",
    9: "Industry, Innovation and Infrastructure",
    10: "Reduced Inequalities",
    11: "Sustainable Cities and Communities",
    12: "Responsible Consumption and Production",
    13: "Climate Action",
    14: "Life Below Water",
    15: "Life on Land",
    16: "Peace, Justice and Strong Institutions",
    17: "Partnerships for the Goals",
}


# --- French, Russian and Arabic names (added for the multilingual NLU; English behaviour unchanged) ---
I18N_LANGUAGES: tuple[str, ...] = ("fr", "ru", "ar")


@lru_cache(maxsize=1)
def i18n_names() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """label ("country", "demonym", "region", "sdg") -> value (ISO3, region key, goal number as text)
    -> [(language, name)] for French, Russian and Arabic.

    Country names come from pycountry's ISO 3166-1 locale catalogues (maintained translations, read
    through gettext); `names_i18n.json` adds short names in common use, demonyms, the regional
    divisions and the official SDG names (sources in the file)."""
    import gettext

    extra = _load_json("names_i18n.json")
    table: dict[str, dict[str, list[tuple[str, str]]]] = {"country": {}, "demonym": {}, "region": {}, "sdg": {}}
    for language in I18N_LANGUAGES:
        try:
            catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:  # a pycountry build without this locale: the data file's names still count
            catalogue = None
        for country in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                english = getattr(country, attr, None)
                if not english or catalogue is None:
                    continue
                translated = catalogue.gettext(english)
                if translated != english:
                    table["country"].setdefault(country.alpha_3, []).append((language, translated))
        for code, names in extra.get("country_names", {}).get(language, {}).items():
            table["country"].setdefault(code, []).extend((language, name) for name in names)
    for code, by_language in extra.get("demonyms", {}).items():
        table["demonym"][code] = [(language, name) for language, names in by_language.items() for name in names]
    for key, by_language in extra.get("regions", {}).items():
        if key in REGION_KEYS:
            table["region"][key] = [(language, name) for language, names in by_language.items() for name in names]
    for number, by_language in extra.get("sdgs", {}).items():
        table["sdg"][str(int(number))] = [(language, name) for language, names in by_language.items() for name in names]
    return table
