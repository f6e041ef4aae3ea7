"""The assistant's texts in its four languages: one catalogue per language (`actions/messages/<code>.yml`,
written by the team; no machine translation at run time), read once, and the reply language of a
conversation (the `language` slot, set by actions/language.py from what the NLU detected)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

SUPPORTED = ("en", "fr", "ru", "ar")
DEFAULT = "en"
MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
# Endonyms, for the language selector and the "I speak…" reply.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ru": "Русский", "ar": "العربية"}


@lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, Any]:
    """The whole catalogue of one language: `texts` (actions) and `responses` (domain)."""
    with (MESSAGES_DIR / f"{language}.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def normalise(language: Any) -> str:
    code = str(language or "").strip().lower()[:2]
    return code if code in SUPPORTED else DEFAULT


def language_of(tracker: Tracker) -> str:
    return normalise(tracker.get_slot("language"))


def text(language: str, key: str, **values: Any) -> str:
    """One text in the language, its {placeholders} filled. The completeness test guarantees every key
    in every language; English is the fallback only for a catalogue edited without running it."""
    texts = catalogue(normalise(language)).get("texts") or {}
    template = texts.get(key)
    if template is None:
        template = catalogue(DEFAULT)["texts"][key]
    return str(template).format(**values)


class Texts:
    """The texts of one conversation's language: `t = Texts.of(tracker); t("search.wider")`."""

    def __init__(self, language: str) -> None:
        self.language = normalise(language)

    @classmethod
    def of(cls, tracker: Tracker) -> "Texts":
        return cls(language_of(tracker))

    def __call__(self, key: str, **values: Any) -> str:
        return text(self.language, key, **values)


@lru_cache(maxsize=None)
def _sdg_names() -> dict[str, dict[int, str]]:
    with (MESSAGES_DIR / "sdg_names.yml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {language: {int(goal): str(name) for goal, name in names.items()} for language, names in data.items()}


def sdg_name(goal: int, language: str) -> str:
    """The goal's short name as the UN publishes it in that language (English from knowledge/)."""
    from knowledge.geo import sdg_name as english_name

    return _sdg_names().get(normalise(language), {}).get(int(goal)) or english_name(int(goal))


def sdg_label(goal: int, language: str) -> str:
    names = catalogue(normalise(language)).get("names") or {}
    return str(names.get("sdg") or "SDG {goal}").format(goal=goal)


def region_label(region: str, language: str) -> str:
    """A division's or a sub-region's name ("Africa", "West Africa") in the conversation's language."""
    from knowledge.geo import REGION_LABELS, subregions

    subregion = subregions().get(region)
    if subregion is not None:
        return subregion.label(normalise(language))
    names = catalogue(normalise(language)).get("names") or {}
    return str(names.get(f"region.{region}") or REGION_LABELS.get(region, region))


@lru_cache(maxsize=None)
def _country_translations(language: str) -> Any:
    import gettext

    import pycountry

    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_name(code: str, language: str) -> str:
    """A country's name in the language, from pycountry's maintained ISO 3166 locale catalogues
    (the common name where one exists: "Bolivia", not "Bolivia, Plurinational State of")."""
    from knowledge.geo import geography

    english = geography().country_name(code)
    language = normalise(language)
    if language == DEFAULT:
        return english
    import pycountry

    country = pycountry.countries.get(alpha_3=str(code).upper())
    if country is None:
        return english
    translations = _country_translations(language)
    for msgid in (getattr(country, "common_name", None), country.name):
        if msgid:
            translated = translations.gettext(msgid)
            if translated != msgid or language == DEFAULT:
                return translated
    return english


@lru_cache(maxsize=None)
def faq_answers(language: str) -> dict[str, str]:
    """The FAQ answers in one language, by entry id (English ones stay in knowledge/data/faq.jsonl)."""
    path = MESSAGES_DIR / "faq" / f"{language}.yml"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as handle:
        return {str(key): str(value) for key, value in (yaml.safe_load(handle) or {}).items()}


def faq_answer(entry_id: str, english: str, language: str) -> str:
    return faq_answers(normalise(language)).get(entry_id, english) if normalise(language) != DEFAULT else english
