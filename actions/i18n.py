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
