"""Tokenising for lexical search and for explaining matches: lower-case words, English stop
words removed, Snowball stems."""
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


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w not in STOPWORDS]


def tokens(text: str) -> list[str]:
    """Stemmed content words: 'Farmers cope with droughts' -> ['farmer', 'cope', 'drought']."""
    return _stemmer().stemWords(words(text))
