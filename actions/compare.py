"""Two or more items of the list on screen side by side: "compare 1 and 3", "what's the difference
between the second and the last one?", "how does it compare with the third?", "сравни первый и
второй". The NLU reads these as show_details or ask_record (one item each); the actions ask here first."""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import DialogueState
from actions.formatting import connectable, countries_text, partner_type_name, payload, provider_text, sdgs_text
from actions.i18n import Texts, country_name
from actions.references import POINTING, describe_match, describes_something, matched_words, record_words
from knowledge.text import tokens
from knowledge.catalogue import Record, Solution

# What asks for a comparison, in the four languages (lower-cased text)
_CUE = re.compile(
    r"\bcompar\w*|\bvs\b\.?|\bversus\b|\bdiffer\w*|\bside\s+by\s+side\b|\bcontrast\w*|\bsimilarit\w*"
    r"|\bwhich\s+(?:one\s+|of\s+(?:them|the\s+two|these|those)\s+)?(?:is|was|would\s+be|looks|reached|has|had)\s+(?:better|best|stronger|more\s+\w+|the\s+(?:oldest|newest|most\s+recent|largest|biggest|smallest|cheapest))"
    r"|\bdiff[ée]ren\w*|\blequel\b.{0,30}\bmieux\b"
    r"|(?<!\w)сравн\w*|(?<!\w)разниц\w*|(?<!\w)отлича\w*|(?<!\w)отличи\w*"
    r"|(?<!\w)قارن|(?<!\w)مقارن\w*|(?<!\w)الفرق|(?<!\w)فرق\s+بين|(?<!\w)الفروق"
)
# A bare number said with the cue is a place in the list ("compare 1 and 3"), unless it is a goal's
_NUMBER = re.compile(r"(?<![\w.#])(\d{1,2})(?![\w.%])")
_GOAL_BEFORE = re.compile(r"(?:sdgs?|goals?|odd|цур|الهدف|هدف)\s*#?\s*$", re.IGNORECASE)
# "the first two", "the top three", "both", "these two", "all three", "les deux", "оба", "كلاهما"
_COUNT_WORDS = {"two": 2, "2": 2, "three": 3, "3": 3, "deux": 2, "trois": 3, "два": 2, "две": 2, "двух": 2, "три": 3, "трёх": 3, "трех": 3}
_FIRST_N = re.compile(r"\b(?:first|top|these|those|the|all)\s+(two|three|2|3)\b|\b(?:les|ces)\s+(deux|trois)\b|(?<!\w)(?:первы[ехм]|эти|все)\s+(два|две|двух|три|трёх|трех)(?!\w)")
_BOTH = re.compile(r"\bboth\b|\bthem\b|\bthese\b|\bthose\b|\bl'un et l'autre\b|\bles deux\b|(?<!\w)оба(?!\w)|(?<!\w)обе(?!\w)|(?<!\w)их(?!\w)|(?<!\w)كلاهما|(?<!\w)الاثنين|(?<!\w)بينهما")
_IT = re.compile(
    r"\b(?:it|this\s+one|that\s+one|this|that)\b|(?<!\w)(?:il|elle|celui-ci|celle-ci)(?!\w)|(?<=-)(?:le|la|les)\b"
    r"|(?<!\w)(?:он|она|оно|этот|эта|это|его|её|ее|него|неё|нее|ним|нём|нем)(?!\w)|(?<!\w)(?:هذا|هذه|هو|هي)(?!\w)|قارن(?:ه|ها)(?!\w)"
)
SUMMARY_LIMIT = 160


def asks_to_compare(text: str) -> bool:
    return bool(text) and not text.startswith("/") and bool(_CUE.search(text.lower()))


def _screen_id(state: DialogueState, number: int) -> str | None:
    """The id behind the number the user sees (as references.resolve reads it)."""
    ids = list(state.results)
    if number == -1 and ids:
        return ids[-1]
    if state.offset < number <= state.offset + len(ids):
        return ids[number - state.offset - 1]
    if 1 <= number <= len(ids):
        return ids[number - 1]
    return None


# What joins the two sides of a comparison ("the Fiji one with the Kenyan project", "X vs Y", "X et Y")
_JOIN = re.compile(
    r"\b(?:and|with|to|against|vs\.?|versus|or|from|et|avec|à|ou|и|с|со|или|от)\b|(?:^|\s)(?:و|مع|أو)",
    re.IGNORECASE,
)


class _Part:
    """One side of a comparison seen as a message of its own, with the country mentions said in it."""

    def __init__(self, tracker: Tracker, start: int, end: int) -> None:
        message = tracker.latest_message.get("text") or ""
        entities = []
        for entity in tracker.latest_message.get("entities") or []:
            at, to = entity.get("start"), entity.get("end")
            if isinstance(at, int) and isinstance(to, int) and start <= at and to <= end:
                entities.append({**entity, "start": at - start, "end": to - start})
        self.latest_message = {"text": message[start:end], "entities": entities}


def described_sides(tracker: Tracker, state: DialogueState, lookup, find=None) -> list[str]:
    """The items of the list on screen the two sides of a comparison describe, in the order said
    ("compare the Fiji cookstove one with the Kenya one"); a side that fits several or none gives none,
    unless `find(side_text, side)` finds it in the catalogue ("compare that with the Indonesian fisheries
    training" when that training was not listed)."""
    message = tracker.latest_message.get("text") or ""
    cue = _CUE.search(message.lower())
    if cue is None or not state.results:
        return []
    # the sides are the text around the cue, split where a joining word stands
    bounds = [(0, cue.start()), (cue.end(), len(message))]
    pieces: list[tuple[int, int]] = []
    for start, end in bounds:
        cuts = [start] + [m.start() for m in _JOIN.finditer(message, start, end)] + [end]
        pieces += [(a, b) for a, b in zip(cuts, cuts[1:]) if message[a:b].strip()]
    ids: list[str] = []
    for start, end in pieces:
        part = _Part(tracker, start, end)
        if not describes_something(part.latest_message["text"]) and not part.latest_message["entities"]:
            continue
        matched = describe_match(part.latest_message["text"], part, list(state.results), lookup)  # type: ignore[arg-type]
        if len(matched) == 1 and not (find is not None and _fits_little(part.latest_message["text"], lookup(matched[0]), lookup)):
            ids.append(matched[0])
        elif len(matched) <= 1 and find is not None and not _IT.fullmatch(part.latest_message["text"].strip(" ,.?!").lower()):
            found = find(part.latest_message["text"], part) or (matched[0] if matched else None)
            if found:
                ids.append(found)
    return list(dict.fromkeys(ids))


def _fits_little(text: str, record, lookup) -> bool:
    """Whether a listed record fits under half of a side's words ("the human milk bank network" and a
    solar record whose provider is a "network"): the catalogue may hold the one meant."""
    said = {w for w in tokens(text) if w not in POINTING}
    return record is not None and len(said) >= 2 and 2 * len(matched_words(said, record_words(record, lookup))) < len(said)


def catalogue_finder(services, state: DialogueState):
    """`find` for `described_sides`: the one record of the catalogue a side describes, found the way a
    description of an unlisted item is found anywhere else (`records.described_elsewhere`)."""
    from actions.records import described_elsewhere  # records answers comparisons: imported when used

    def find(text: str, part: "_Part") -> str | None:
        matched = described_elsewhere(services, part, state, text)[0]  # type: ignore[arg-type]
        return matched[0] if len(matched) == 1 else None

    return find


def compared_ids(text: str, ordinals: list[int], state: DialogueState, described: list[str] | None = None) -> list[str]:
    """The items of the list on screen a comparison names, in the order said (none when fewer than two);
    `described`: the items its sides describe (`described_sides`), used when numbers name fewer than two."""
    lowered = text.lower()
    numbers = list(ordinals)
    for match in _NUMBER.finditer(lowered):
        if not _GOAL_BEFORE.search(lowered[: match.start()]):
            numbers.append(int(match.group(1)))
    first_n = _FIRST_N.search(lowered)
    if first_n:
        count = _COUNT_WORDS[next(g for g in first_n.groups() if g)]
        numbers += [state.offset + i for i in range(1, count + 1)]
    ids = [i for i in (_screen_id(state, n) for n in numbers) if i]
    if len(set(ids)) < 2 and described:
        ids = list(dict.fromkeys(ids + [i for i in described if i not in ids]))  # "the second and the Fiji one"
    if len(set(ids)) == 1 and state.selected and state.was_shown(state.selected) and _IT.search(lowered):
        ids.insert(0, state.selected)  # "how does it compare with the third one?"
    if not ids and _BOTH.search(lowered):
        ids = list(state.results)[:3]  # "compare them", "what's the difference between both?"
    return list(dict.fromkeys(ids))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0] + "…"


def _status(record: Solution, t: Texts) -> str | None:
    if record.status in ("", "unknown"):
        return None
    key = f"record.status.{record.status}"
    return t(key) if record.status in ("active", "completed") else record.status


def _lines(rank: int, record: Record, lookup, t: Texts) -> list[str]:
    if isinstance(record, Solution):
        facts = [
            f"{t('card.provider')}: {provider_text(record, lookup, t)}",
            f"{t('card.countries')}: {countries_text(record.countries, t)}",
            f"{t('card.sdgs')}: {sdgs_text(record.sdgs, t)}",
        ]
        if record.year:
            facts.append(f"{t('card.year')}: {record.year}")
        status = _status(record, t)
        if status:
            facts.append(f"{t('card.status')}: {status}")
        if record.funders:
            facts.append(f"{t('card.funders')}: {', '.join(record.funders)}")
        if record.budget:
            facts.append(f"{t('card.budget')}: {record.budget}")
        if record.results:
            facts.append(f"{t('card.results')}: {_short(record.results)}")
        title, about = record.title, record.summary or record.description
    else:
        facts = [
            f"{t('card.type')}: {partner_type_name(record.type, t)}",
            f"{t('card.based_in')}: {country_name(record.country, t.language) if record.country else t('card.global_or_not_stated')}",
            f"{t('card.works_on')}: {', '.join(record.focus_areas) or t('card.not_stated')}",
            f"{t('card.sdgs')}: {sdgs_text(record.sdgs, t)}",
        ]
        title, about = record.display_name(), record.description
    return [f"{rank}. **{title}**" if rank else f"**{title}**", f"   {_short(about)}", *(f"   {fact}" for fact in facts)]


def _places(record: Record) -> set[str]:
    return set(record.countries) if isinstance(record, Solution) else ({record.country} if record.country else set())


def comparison_text(records: list[tuple[int, Record]], lookup, t: Texts) -> str:
    parts = [t("compare.intro", count=len(records))]
    for rank, record in records:
        parts.append("\n".join(_lines(rank, record, lookup, t)))
    goals = set.intersection(*(set(r.sdgs) for _, r in records))
    places = set.intersection(*(_places(r) for _, r in records))
    shared = []
    if goals:
        shared.append(sdgs_text(sorted(goals), t))
    if places:
        shared.append(countries_text(sorted(places), t))
    parts.append(t("compare.in_common", what="; ".join(shared)) if shared else t("compare.nothing_in_common"))
    return "\n\n".join(parts)


def answer_comparison(services, dispatcher: CollectingDispatcher, tracker: Tracker, state: DialogueState, t: Texts, text: str, *, ask: bool = True) -> list[dict[str, Any]] | None:
    """The comparison the message asks for, or None when it asks none (the caller goes on); `ask=False`:
    None too when it does not name two items of the list (a search that says "compare" goes on)."""
    if not asks_to_compare(text):
        return None
    ordinals = []
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "ordinal":
            try:
                ordinals.append(int(entity.get("value")))
            except (TypeError, ValueError):
                continue
    ids = compared_ids(text, ordinals, state, described_sides(tracker, state, services.retriever.get, catalogue_finder(services, state)))
    records = [(r, services.retriever.get(i)) for r, i in ((_rank(state, i), i) for i in ids)]
    records = [(rank, record) for rank, record in records if record is not None]
    if len(records) < 2:
        if len(state.results) < 2 or not ask:
            return None  # nothing to compare on screen: the caller answers as it would
        dispatcher.utter_message(text=t("compare.which", first=state.offset + 1, second=state.offset + 2))
        return []
    buttons: list[dict[str, str]] = []
    for rank, record in records:
        if not rank:
            continue  # a record from the catalogue that was not listed has no number to press
        buttons.append({"title": t("button.details", rank=rank), "payload": payload("show_details", ordinal=rank)})
        if connectable(record, services.retriever.get):
            buttons.append({"title": t("button.connect", rank=rank), "payload": payload("request_introduction", ordinal=rank)})
    dispatcher.utter_message(text=comparison_text(records, services.retriever.get, t), buttons=buttons)
    return []


def _rank(state: DialogueState, record_id: str) -> int:
    ids = list(state.results)
    return state.offset + ids.index(record_id) + 1 if record_id in ids else 0
