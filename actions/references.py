"""Which record the user means: an ordinal ("the second one", "the last one"), a description matched
against the list on screen ("the Kenya one", "the solar project", "the Brazilian agency"), or a pronoun
("it", "they", "that agency") for the record they opened. One mechanism for every action.

Only records the assistant has shown can be chosen, so a forged payload selects nothing else.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from actions.dialogue import DialogueState
from knowledge.catalogue import Partner, Record, Solution
from knowledge.geo import geography
from knowledge.text import tokens, words

# Words that point at an item without describing it.
POINTING = frozenset(
    stem
    for stem in tokens(
        """one ones item items result results thing things option options entry entries record records list
        detail details open opened show showing shown more about tell info information connect introduce
        introduction contact provider providers agency agencies organisation organization body institution
        people team fund bank ngo case programme program initiative last first second third fourth fifth
        previous earlier above below mentioned said back pick choose select want like interested talk reach
        put touch meet request"""
    )
)
Lookup = Callable[[str], Record | None]
# Pointing words that still say which kind of organisation is meant ("that bank", "the agency")
_KINDS = frozenset(tokens("bank fund agency ngo university institute foundation centre center"))
EARLIER_SHOWN = 12  # how many records shown before the list on screen a description can still reach


@dataclass(frozen=True)
class Reference:
    record_id: str | None = None
    candidates: tuple[str, ...] = ()  # more than one record fits the description: ask
    out_of_range: int | None = None  # the ordinal asked for when the list is shorter ("the tenth one")
    explicit: bool = False  # the message pointed at something (ordinal or description), not just "it"


def _ordinal(tracker: Tracker) -> int | None:
    for entity in reversed(tracker.latest_message.get("entities") or []):
        if entity.get("entity") == "ordinal":
            try:
                return int(entity.get("value"))
            except (TypeError, ValueError):
                return None
    return None


def record_words(record: Record, lookup: Lookup) -> set[str]:
    parts: list[str] = [record.title]
    if isinstance(record, Solution):
        parts += [*record.themes, record.provider_name or ""]
        provider = lookup(record.provider) if record.provider else None
        if isinstance(provider, Partner):
            parts += [provider.name, provider.acronym or ""]
    else:
        parts += [record.acronym or "", *record.aliases, *record.focus_areas, record.type.replace("_", " ")]
    return set(tokens(" ".join(parts)))


def _record_countries(record: Record, lookup: Lookup) -> set[str]:
    if isinstance(record, Solution):
        countries = set(record.countries) | set(record.provider_countries)
        provider = lookup(record.provider) if record.provider else None
        if isinstance(provider, Partner) and provider.country:
            countries.add(provider.country)
        return countries
    return {record.country} if record.country else set()


def describes_something(text: str) -> bool:
    """Whether a message says more than "that one" / "the second": words beyond pointing words."""
    return any(w not in POINTING for w in tokens(text))


# The words a message names an item by ("the Kenya one", "the cookstove project", "that bank"): one
# vocabulary, in three parts, for every place that asks whether a message names an item
RECORD_WORDS = "one|ones|project|projects|programme|program|initiative|solution|scheme"
KIND_WORDS = "model|system|centre|center|hub|network|course|training|workshop"
PARTNER_WORDS = "agency|bank|fund"
# the same in French, Russian and Arabic ("celui du Fidji", "тот проект в Монголии", "مشروع اليمن")
_FOREIGN_ITEM = (
    r"\b(?:celui|celle|projet|programme|centre|réseau|fonds|agence|проект\w*|программ\w*|центр\w*|фонд\w*|агентств\w*|тот|та|той|том)\b"
    r"|(?:^|\s)(?:ال)?(?:مشروع|برنامج|مبادرة|مركز|صندوق|شبكة|وكالة)"
)
# a record or kind word anywhere ("the Asian regional one, who supports that?")
THE_ONE = re.compile(rf"\b(?:{RECORD_WORDS}|{KIND_WORDS})\b", re.IGNORECASE)

# "the Bangladesh one", "the Kenyan project", "the Kuwait fund": a place that says which item, not a
# question about the item open ("did India fund it?": "fund" followed by what it funds is the verb)
_DESCRIBING = re.compile(
    rf"^\W*(?:[^\W\d_]+\s+){{0,2}}?(?:{RECORD_WORDS}|{KIND_WORDS}|thing|item|agency|bank"
    r"|fund(?!\s+(?:it|them|this|that|these|those)\b))\b",
    re.IGNORECASE,
)
# Words that point back at what is open or on screen ("is Brazil involved in it?", "who funds that?")
POINTING_BACK = frozenset("it its they them their theirs this that these those".split())


def describes_item(text: str, end: object) -> bool:
    """Whether the words after a mention (a country ending at `end`) make it a description of an item."""
    return isinstance(end, int) and bool(_DESCRIBING.match(text[end:]))


# Pronouns for the items open or listed, in the four languages ("y participent", "там учится", "فيه", "с ними",
# "avec eux", "معهم")
_IT_WORDS = POINTING_BACK | frozenset(
    """y il elle lui leur son sa ses celui-ci celle-ci eux ils elles он она оно его её ее ему ней нём нем ним нему них ними им их
    там этот эта это этого этом هذا هذه ذلك تلك فيه فيها عنه عنها له لها معه معها معهم به بها بهم""".split()
)


def points_at_it(text: str) -> bool:
    """Whether a message points at an item with a pronoun of any of the four languages (see `_IT_WORDS`)."""
    return bool(_IT_WORDS & set(re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)?", text.casefold())))


def points_back(text: str, extra: frozenset[str] = frozenset()) -> bool:
    """Whether a message points back (see POINTING_BACK, and `extra` words a caller also counts)."""
    return bool((POINTING_BACK | extra) & set(re.findall(r"[^\W\d_]+", text.casefold())))


def _close(a: str, b: str) -> bool:
    """Two stems of one word: one begins the other ("african", "africa"), or they share a beginning of five
    letters or more that is most of the shorter ("ferganskoy", said in Russian, and "fergana")."""
    if len(a) < 4 or len(b) < 4:
        return False
    if a.startswith(b) or b.startswith(a):
        return True
    common = len(os.path.commonprefix([a, b]))
    return common >= 5 and common >= 0.7 * min(len(a), len(b))


def matched_words(said: set[str], words: set[str]) -> set[str]:
    """The stems said that a record's words hold, or a close form of them (see `_close`)."""
    return {w for w in said if w in words or any(_close(w, r) for r in words)}


_CYRILLIC = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i", "й": "y",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f",
    "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})


def _latin(words: set[str]) -> set[str]:
    """Russian words in Latin letters, so a name said in Russian ("Ферганской долине") meets the English
    record's ("Fergana Valley")."""
    return {w.translate(_CYRILLIC) for w in words if any("а" <= ch <= "я" or ch == "ё" for ch in w)}


def _overlap(said: set[str], words: set[str]) -> int:
    return len(matched_words(said, words))


def describe_match(text: str, tracker: Tracker, ids: list[str], lookup: Lookup) -> list[str]:
    """The ids of `ids` that the message describes best (several when it is a tie); [] when the
    message describes none of them."""
    mentions = every_mention = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "country"]
    message = tracker.latest_message.get("text") or ""
    if points_back(message):
        # "is Brazil involved in it?" asks about the record opened; "the Brazil one" describes one
        mentions = [e for e in mentions if describes_item(message, e.get("end"))]
    countries = {str(e.get("value")) for e in mentions}
    said = {w for w in tokens(text) if w not in POINTING}
    said |= _latin(said)
    # words that name the countries ("Kenya", "Malaysian") are counted once, through the country
    for code in {str(e.get("value")) for e in every_mention}:
        said -= set(tokens(geography().country_name(code)))
    for mention in every_mention:
        if isinstance(mention.get("start"), int) and isinstance(mention.get("end"), int):
            said -= set(tokens(message[mention["start"] : mention["end"]]))
    kinds = set(tokens(text)) & _KINDS
    if not said and not countries and not kinds:
        return []
    # a tie goes to the records whose titles hold more of the words: "the IsDB blindness one" is the
    # record titled "IsDB … blindness …", not another blindness record that IsDB only provides
    scores: dict[str, tuple[int, int]] = {}
    for record_id in ids:
        record = lookup(record_id)
        if record is None:
            continue
        named = record_words(record, lookup)
        about = set(tokens(getattr(record, "summary", None) or record.description[:300])) - named
        # the words of its title, themes and provider count whole, those of its summary half ("the one
        # with the African villages": "villages" is in the summary, "African" matches "Africa")
        score = 2 * len(countries & _record_countries(record, lookup)) + _overlap(said, named) + 0.5 * _overlap(said - matched_words(said, named), about)
        # "that bank" among two funds and a bank, "the agency": the kind of organisation its name says
        score += 0.5 * len(kinds & set(tokens(record.title)))
        if score:
            # the title naming the country said breaks a tie ("the azerbaijan one": ASAN "(Azerbaijan)", not
            # Georgia's halls that Azerbaijani officials visited)
            titled = sum(1 for code in countries if set(tokens(geography().country_name(code))) <= set(tokens(record.title)))
            scores[record_id] = (score, _overlap(said, set(tokens(record.title))) + titled)
    if not scores:
        return []
    best = max(scores.values())
    tied = [i for i in ids if scores.get(i) == best]
    if len(tied) > 1 and countries:
        # "the Nepal one": the record whose work is in Nepal alone, not a regional one that lists Nepal
        # among eleven
        specific = [i for i in tied if _about_only(lookup(i), countries)]
        if specific:
            return specific
    return tied


def description_of(text: str, tracker: Tracker) -> tuple[str, set[str]]:
    """What a reference says of the item beyond pointing at it: its content words without the names of
    the countries it mentions ("the Fiji cookstove one": "cookstove"), and those countries."""
    message = tracker.latest_message.get("text") or ""
    mentions = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "country"]
    named: set[str] = set()
    for mention in mentions:
        named |= set(tokens(geography().country_name(str(mention.get("value")))))
        if isinstance(mention.get("start"), int) and isinstance(mention.get("end"), int):
            named |= set(tokens(message[mention["start"] : mention["end"]]))
    kept = [w for w in words(text) if not (set(tokens(w)) & (POINTING | named))]
    return " ".join(kept), {str(e.get("value")) for e in mentions}


# Words of the assistant's other languages that only point at "it" or ask (pronouns, demonstratives,
# question and joining words): "Quels ODD vise-t-elle ?", "Кто это финансировал?", "من موّل هذا؟"
FOREIGN_POINTING = frozenset(
    """il elle ils elles le la les lui leur leurs son sa ses ce cet cette ces ça cela celui celle ceux celles
    qui quoi quel quelle quels quelles quand combien comment où est que qu et été ont au aux du des de un une c'est
    он она оно они его её ее их ему им этот эта это эти этого этой этом этому тот та то те того той том кто
    что когда сколько как где какой какая какое какие каких ли и а был была было были про о об
    هو هي هم هذا هذه ذلك تلك من ما ماذا متى كم كيف أين هل و عن
    parlez moi dites partenaire тогда расскажите расскажи известно партнер партнёр партнера партнёра حدثني أخبرني كشريك شريك""".split()
)
_DEMONSTRATIVES = frozenset("this that these those ce cet cette ces этот эта это эти этого этой этом тот та те هذا هذه ذلك تلك".split())
_FEW_WORDS = 3


def only_points_at_it(text: str, tracker: Tracker) -> bool:
    """Whether a question names no item, only points at one ("who funded it?", "which countries received
    the support?", "Il couvre quels pays ?", "من موّل هذا البرنامج؟"): no place, number, name or "the …
    project", and at most a few words besides pointing and question words (`text` without the field
    words the NLU found)."""
    if any(e.get("entity") in ("country", "region", "ordinal", "sdg") for e in tracker.latest_message.get("entities") or []):
        return False
    if named_phrase(text):
        return False
    said = re.findall(r"[^\W\d_]+", text)
    if any(w[0].isupper() for w in said[1:]):
        return False  # a name or an acronym ("Who is ONEE?") says which
    kept, skip = [], False
    for word in said:
        lowered = word.casefold()
        if skip:  # "this centre", "этот фонд", "هذا المركز": the word after a demonstrative only points
            skip = False
            continue
        if lowered in _DEMONSTRATIVES:
            skip = True
            continue
        if lowered in FOREIGN_POINTING or not words(lowered) or set(tokens(lowered)) <= POINTING:
            continue
        kept.append(lowered)
    return len(kept) <= _FEW_WORDS


# A message that names an item ("the Yemen one", "the cookstove project", "celui du Fidji", "тот проект
# в Монголии", "مشروع اليمن") rather than asking about the one open
_NAMES_ITEM = re.compile(rf"\b(?:{RECORD_WORDS}|{PARTNER_WORDS})\b|{_FOREIGN_ITEM}", re.IGNORECASE)


# "the milk bank project", "the Fiji cookstove one": words said right before an item word name the item
_NAMED_PHRASE = re.compile(rf"\bthe\s+((?:[^\W\d_][\w'-]*\s+){{1,4}}?)(?:{RECORD_WORDS})\b", re.IGNORECASE)
_NOT_NAMING = POINTING | frozenset(tokens("same other another similar next new different whole entire latest"))


def named_phrase(text: str) -> str:
    """The words a message names an item by, before its item word ("who funded the milk bank project?":
    "milk bank"); "" when it names none ("the last one", "the same project")."""
    for match in _NAMED_PHRASE.finditer(text):
        said = match.group(1).split()
        if any(set(tokens(w)) - _NOT_NAMING for w in said):
            return " ".join(said)
    return ""


def names_an_item(text: str, tracker: Tracker) -> bool:
    """Whether the message names an item by a description or a country ("who funded the Mongolia one?"),
    not only by a pronoun ("who funded it?")."""
    said, countries = description_of(text, tracker)
    return bool(_NAMES_ITEM.search(text)) and bool(said or countries)


def _about_only(record: Record | None, countries: set[str]) -> bool:
    if record is None:
        return False
    where = set(record.countries) if isinstance(record, Solution) else ({record.country} if record.country else set())
    return bool(where) and where <= countries


def _names_other_country(tracker: Tracker, selected: str | None, lookup: Lookup) -> bool:
    """Whether the message names a country the opened record has nothing to do with, as a description
    ("the Liberia one"): "is Brazil involved in it?" asks about the record opened."""
    mentions = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "country"]
    named = {str(e.get("value")) for e in mentions}
    record = lookup(selected) if named and selected else None
    if record is None or named & _record_countries(record, lookup):
        return False
    text = tracker.latest_message.get("text") or ""
    return any(describes_item(text, e.get("end")) for e in mentions) or not points_back(text)


def _names_country_none_has(tracker: Tracker, ids: list[str], lookup: Lookup) -> bool:
    """Whether the message describes an item by a country ("the Korean rice project") that none of these
    records has anything to do with."""
    text = tracker.latest_message.get("text") or ""
    named = {str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "country" and describes_item(text, e.get("end"))}
    if not named:
        return False
    records = [lookup(i) for i in ids]
    return not any(named & _record_countries(r, lookup) for r in records if r is not None)


def described(text: str, tracker: Tracker, state: DialogueState, lookup: Lookup) -> list[str]:
    """The shown records the message describes best: the list on screen first, then what was shown just
    before it (the first page after "show more", the list before an aside's search), so "the Sudan one"
    on page two means the Sudan one on page one. A tie only among records no longer on screen is []:
    no button could offer them."""
    ids = list(state.results)
    earlier = [i for i in state.shown[-EARLIER_SHOWN:] if i not in ids]
    matched = describe_match(text, tracker, ids + earlier, lookup)
    on_screen = [i for i in matched if i in ids]
    if on_screen:
        return on_screen
    # a record no longer on screen is gone back to when the message names an item ("the South Sudan one"),
    # not for a word it shares ("who provided the knowledge there?" and a "knowledge exchange" shown before)
    return matched if len(matched) == 1 and (_NAMES_ITEM.search(text) or THE_ONE.search(text) or _mentions_country(tracker)) else []


def _mentions_country(tracker: Tracker) -> bool:
    return any(e.get("entity") == "country" for e in tracker.latest_message.get("entities") or [])


def resolve(tracker: Tracker, state: DialogueState, text: str, lookup: Lookup, *, describe: bool = True) -> Reference:
    """The record the latest message points at."""
    ids = list(state.results)
    number = _ordinal(tracker)
    if number is not None and ids:
        if number == -1:
            return Reference(ids[-1], explicit=True)
        if state.offset < number <= state.offset + len(ids):  # the numbers on screen (4-6 on page two)
            return Reference(ids[number - state.offset - 1], explicit=True)
        if 1 <= number <= len(ids):  # "the second one" of the list on screen
            return Reference(ids[number - 1], explicit=True)
        return Reference(out_of_range=number, explicit=True)
    if number is not None:
        return Reference(out_of_range=number, explicit=True)
    if describe and text and ids:
        matched = described(text, tracker, state, lookup)
        if matched and _names_country_none_has(tracker, matched, lookup):
            return Reference()  # "the korean rice project" among Chinese rice projects: not on the list
        if len(matched) == 1:
            return Reference(matched[0], explicit=True)
        if matched and state.selected in matched and points_at_it(text):
            return Reference(state.selected)  # "Quels pays africains y participent ?" with an African record open
        if matched:
            return Reference(candidates=tuple(matched), explicit=True)
    if describe and text and _names_other_country(tracker, state.selected, lookup):
        return Reference()  # "the Liberia one" with no Liberian record shown is not the one opened
    phrase = named_phrase(text) if describe else ""
    if phrase and state.selected and not describe_match(phrase, tracker, [state.selected], lookup):
        return Reference()  # "who funded the milk bank project?" with the rainwater ponds open
    if state.selected and state.was_shown(state.selected):
        return Reference(state.selected)
    if len(ids) == 1:
        named = {str(e.get("value")) for e in tracker.latest_message.get("entities") or [] if e.get("entity") == "country"}
        only = lookup(ids[0])
        if describe and named and only is not None and _NAMES_ITEM.search(text) and not named & _record_countries(only, lookup):
            return Reference()  # "tell me about the project with Japan" with one Kazakh record listed: another one
        return Reference(ids[0])
    return Reference()


def choice_buttons(ids: list[str] | tuple[str, ...], state: DialogueState, lookup: Lookup, intent_payload: Callable[[int], str]) -> list[dict[str, Any]]:
    """One button per candidate, pointing at its place in the list on screen."""
    buttons = []
    for record_id in ids:
        record = lookup(record_id)
        if record is None or record_id not in state.results:
            continue
        rank = state.offset + state.results.index(record_id) + 1
        title = record.title if len(record.title) <= 40 else record.title[:39] + "…"
        buttons.append({"title": f"{rank}. {title}", "payload": intent_payload(rank)})
    return buttons
