"""Tokenising for lexical search and for explaining matches: lower-case words, English and
domain stop words removed, Snowball stems; and the chunks of a record that are embedded."""
from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves find looking look search show give tell want need
    please solution solutions practice practices project projects partner partners organisation
    organisations organization organizations anything something someone somebody help like know
    get us me them work works working on good best example examples""".split()
)
# Words that every South-South record says: they are never a lexical reason for a match, and
# `why` never cites them. Numbers and years are dropped by `words` too.
DOMAIN_STOPWORDS = frozenset(
    """south southern global cooperation cooperative triangular project projects programme programmes
    program programs solution solutions initiative initiatives one two three part parts country countries
    national development developing developed support supported supporting supports partner partners
    partnership partnerships sdg sdgs goal goals provider providers theme themes based""".split()
)
_IGNORED = STOPWORDS | DOMAIN_STOPWORDS


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


# Arabic short-vowel marks, shadda and tatweel: "وسّع" is one word, not "وس" and "ع".
_ARABIC_MARKS = re.compile("[\u0640\u064b-\u065f\u0670]")


def words(text: str) -> list[str]:
    """Content words, lower-cased: no stop words, no numbers ('2019', '3rd'), and "south-south"
    is two domain words, both dropped."""
    return [w for w in _WORD.findall(_ARABIC_MARKS.sub("", text).casefold()) if w not in _IGNORED and not w[0].isdigit()]


def tokens(text: str) -> list[str]:
    """Stemmed content words: 'Farmers cope with droughts' -> ['farmer', 'cope', 'drought']."""
    return _stemmer().stemWords(words(text))


# MiniLM reads 256 word pieces; about 1.4 pieces per English word, so 150 words fit with room
# for the title that heads every chunk.
CHUNK_WORDS = 150
CHUNK_OVERLAP = 30


def chunk_texts(head: str, body: str, title: str) -> list[str]:
    """The texts embedded for one record: `head` (title, summary and facts) first, then `body`
    (the long description) in overlapping windows that each start with the title, so no part of
    a long record is cut off and each window still says what it is about."""
    chunks = [head]
    body_words = body.split()
    if not body_words:
        return chunks
    step = CHUNK_WORDS - CHUNK_OVERLAP
    for start in range(0, max(len(body_words) - CHUNK_OVERLAP, 1), step):
        chunks.append(f"{title}. " + " ".join(body_words[start : start + CHUNK_WORDS]))
    return chunks


@lru_cache(maxsize=1)
def _model_vocabulary() -> frozenset[str]:
    try:
        from pathlib import Path

        from knowledge.embedder import model_path

        return frozenset((Path(model_path()) / "vocab.txt").read_text(encoding="utf-8").split())
    except (ImportError, OSError):
        return frozenset()


def is_common_word(word: str) -> bool:
    """Whether a lower-case word is an everyday word ("care", "plan", "hope"), judged by MiniLM's
    own vocabulary of whole words, so an acronym that spells one matches only when typed in capitals."""
    return word.casefold() in _model_vocabulary()
