"""Filter changes as the NLU understood them: the `operation` (add, replace, remove, clear, list) and
`scope` entities, and country, region and SDG values (role `old` for the ones the user moves away
from), applied to the filters of the conversation by one function.

Within one scope a new value replaces the old one; values of different scopes combine ("only SDG 5"
after "in Africa" keeps Africa), and a reply always lists the filters now in force.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker

from knowledge.closed_values import closed_entities
from knowledge.geo import fold, sdgs, subregions
from knowledge.search import FilterError, Filters, place_countries

SCOPES_OF = {"country": ("country",), "region": ("region",), "place": ("country", "region"), "sdg": ("sdg",), "all": ("country", "region", "sdg")}


def names_goal(entity: dict[str, Any], text: str) -> bool:
    """An `sdg` entity is a filter only when the goal is named outright ("SDG 7", "goal six",
    "Climate Action"); topic words the gazetteer also maps to a goal ("renewable energy",
    "hunger") describe the need and are searched for, not filtered on."""
    if entity.get("entity") != "sdg":
        return True
    if "start" not in entity or "end" not in entity or not text:
        return True  # from a button payload
    span = text[entity["start"] : entity["end"]]
    if re.search(r"\d|\bsdgs?\b|\bgoal\b|\bo\.?d\.?d\b|\bobjectifs?\b|(?<!\w)(?:цур|цел[ьиюяей]\w*)|هدف", span, re.IGNORECASE):  # "الهدف الخامس", "ODD cinq"
        return True
    try:
        goal = sdgs().get(int(entity.get("value")))
    except (TypeError, ValueError):
        return False
    return goal is not None and fold(span) == fold(goal.name)


def with_subregions(entities: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The entities with each region the text names more narrowly made that sub-region: the NLU gives
    "West Africa" or "Центральной Азии" as their division (africa, europe_cis); the filter keeps the
    countries of the sub-region. A sub-region the NLU did not see as a region at all is added, unless a
    country or region entity covers its words."""
    mentions = subregions().mentions(text) if text and not text.startswith("/") else []  # not a button's payload
    if not mentions:
        return entities
    result: list[dict[str, Any]] = []
    used: set[int] = set()
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if entity.get("entity") == "region" and isinstance(start, int) and isinstance(end, int):
            for i, mention in enumerate(mentions):
                if mention.start < end and start < mention.end:
                    entity = {**entity, "value": mention.key}
                    used.add(i)
                    break
        result.append(entity)
    spans = [(e["start"], e["end"]) for e in entities if e.get("entity") in ("country", "region") and isinstance(e.get("start"), int) and isinstance(e.get("end"), int)]
    for i, mention in enumerate(mentions):
        if i not in used and not any(s < mention.end and mention.start < t for s, t in spans):
            result.append({"entity": "region", "value": mention.key, "start": mention.start, "end": mention.end, "extractor": "subregions"})
    return result


# The words that make a filter exclusive: said before two places of one kind ("only Asia and only
# Africa") they contradict each other; "Kyrgyzstan or Tajikistan", "also Kenya and also Uganda" do not.
_EXCLUSIVE = frozenset(fold(w) for w in "only just solely exclusively seulement uniquement только лишь فقط بس حصرا".split())
# what stands between two places said as alternatives: "Kyrgyzstan or Tajikistan", "le Niger ou le Mali"
_OR = re.compile(r"\s*,?\s*(?:or|ou|или|либо|أو|او)\s+(?:(?:in|en|au|aux|à|в|во|на|في)\s+)?(?:(?:the|le|la|les|l['’])\s*)?(?:ال)?", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?؟]+(?:\s|$)|\s(?:but|mais|но|لكن|ولكن)\s")
# Add phrases that still add after a remove phrase ("remove Morocco and add Sudan"); the others ("only",
# "also", "aussi") go with the removal: "drop anything that's only Kazakhstan", "retirez aussi le Burkina".
_ADD_VERBS = frozenset(fold(w) for w in "add plus ajoute ajouter ajoutez добавь добавьте добавить أضف اضف ضيف زيد".split())
# A verb split around the place it removes: "take Nepal out", "leave Egypt out of it"
_SPLIT_REMOVE = re.compile(r"\b(?:take|leave|keep|cut|rule)\s+$", re.IGNORECASE)
_LIST_JOIN = re.compile(r"\s*(?:,|،|and|or|et|ou|и|или|و|أو)?\s*(?:,|،|and|or|et|ou|и|или|و|أو)?\s*(?:the|le|la|les|l['’])?\s*", re.IGNORECASE)
_SPLIT_OUT = re.compile(r"^\s+(?:out|off)\b", re.IGNORECASE)


def _removed_values(entities: list[dict[str, Any]], text: str) -> dict[str, list[Any]]:
    """The place and goal values a message says under a remove phrase: "drop anything that's only
    Kazakhstan. What about Kyrgyzstan?" removes Kazakhstan, not Kyrgyzstan; "remove Morocco, add Sudan"
    removes Morocco. A value's fate is the nearest operation phrase before it in its clause (commas,
    "but" and sentence ends part clauses; "only" or "also" after a remove phrase removes too); a value
    without one continues a list ("exclude Kenya, Uganda and Tanzania"), else it is no removal ("forget
    Vietnam, let's look at Indonesia"). "take Nepal out" counts as a remove phrase before Nepal."""
    if not text or text.startswith("/"):
        return {}
    operations = sorted((e["start"], e.get("value")) for e in entities if e.get("entity") == "operation" and isinstance(e.get("start"), int))
    split = [e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int) and _SPLIT_REMOVE.search(text[: e["start"]]) and _SPLIT_OUT.match(text[e["end"] :])]
    operations = sorted(operations + [(e["start"] - 1, "remove") for e in split])
    if not any(op == "remove" for _, op in operations):
        return {}
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    removed: dict[str, list[Any]] = {}
    fate, sentence, previous_end = None, -1, None
    for entity in sorted((e for e in entities if isinstance(e.get("start"), int)), key=lambda e: e["start"]):
        name = entity.get("entity")
        if name not in ("country", "region", "sdg") or not names_goal(entity, text):
            continue
        start = entity["start"]
        here = sum(1 for end in ends if end <= start)
        clause_start = max([0] + [end for end in ends if end <= start] + [i + 1 for i, ch in enumerate(text[:start]) if ch in ",;،"])
        said = [(at, op) for at, op in operations if clause_start <= at < start]
        if not said and (previous_end is None or not _LIST_JOIN.fullmatch(text[previous_end:start])):
            fate = None  # "forget Vietnam, let's look at Indonesia": only a list continues a removal
        previous_end = entity.get("end") if isinstance(entity.get("end"), int) else start
        if said:
            # the nearest phrase before it, but "only" after a remove phrase is part of what is removed
            # ("drop anything that's only Kazakhstan"); "remove Morocco and add Sudan" adds Sudan
            at, fate = said[-1]
            word = re.match(r"[^\W\d_]+", text[max(at, 0) :])
            if fate == "add" and any(op == "remove" for _, op in said) and not (word and fold(word.group(0)) in _ADD_VERBS):
                fate = "remove"
        elif here != sentence:
            fate = None
        sentence = here
        if fate == "remove" and entity.get("value") not in removed.setdefault(name, []):
            removed[name].append(entity.get("value"))
    return {name: values for name, values in removed.items() if values}


# What keeps a filter the message names ("remove the region filter but keep the SDG", "garde l'ODD",
# "оставь ЦУР", "أبقِ الهدف"); "leave out" and "laisse tomber" remove
_KEEP = re.compile(
    r"\b(?:keep|keeping|retain|leave(?!\s+(?:out|off|aside|behind)\b)|but\s+not|gard(?:e|ez|er|ant)|conserv(?:e|ez|er)|laiss(?:e|ez|er)(?!\s+tomber)|оставь\w*|оставить|оставляя|сохрани\w*|не\s+трогай\w*)\b|(?:أبق|ابق|احتفظ|خل[يّ]|اترك|إبق)",
    re.IGNORECASE,
)


def _clause_start(text: str, start: int) -> int:
    """Where the clause holding position `start` begins: after a sentence end, "but", a comma or a semicolon."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text[:start])]
    return max([0] + ends + [i + 1 for i, ch in enumerate(text[:start]) if ch in ",;،"])


def kept_scopes(entities: list[dict[str, Any]], text: str) -> frozenset[str]:
    """The scopes said under a keep phrase in their clause: they are not what the message removes."""
    if not text or text.startswith("/"):
        return frozenset()
    removing = [e["start"] for e in entities if e.get("entity") == "operation" and e.get("value") in ("remove", "clear") and isinstance(e.get("start"), int)]
    kept = set()
    for entity in entities:
        if entity.get("entity") == "scope" and isinstance(entity.get("start"), int):
            start = entity["start"]
            clause = _clause_start(text, start)
            keeps = [clause + m.start() for m in _KEEP.finditer(text[clause:start])]
            # the nearest phrase wins: "keep the SDG and remove the region" removes the region
            if keeps and max(keeps) > max([-1] + [at for at in removing if clause <= at < start]):
                kept.add(str(entity.get("value")))
    return frozenset(kept)


def kept_values(entities: list[dict[str, Any]], text: str) -> set[int]:
    """The filter values (country, region, goal entities, by `id`) said under a keep phrase in their clause
    ("retirez le filtre pays, mais gardez l'ODD 1"): they stay as they are, neither added nor removed."""
    if not text or text.startswith("/"):
        return set()
    removing = [e["start"] for e in entities if e.get("entity") == "operation" and e.get("value") in ("remove", "clear") and isinstance(e.get("start"), int)]
    if not removing:
        return set()  # "keep it to Kenya", "keep only SDG 5": a filter set, not one spared
    kept = set()
    for entity in entities:
        if entity.get("entity") in ("country", "region", "sdg") and isinstance(entity.get("start"), int):
            start = entity["start"]
            clause = _clause_start(text, start)
            keeps = [clause + m.start() for m in _KEEP.finditer(text[clause:start])]
            if keeps and max(keeps) > max([-1] + [at for at in removing if clause <= at < start]):
                kept.add(id(entity))
    return kept


@dataclass(frozen=True)
class FilterRequest:
    """What one message asks of the filters."""

    operation: str | None = None
    scopes: frozenset[str] = frozenset()
    new: dict[str, list[Any]] = field(default_factory=dict)  # filter name -> values, in the order said
    old: dict[str, list[Any]] = field(default_factory=dict)
    operations: frozenset[str] = frozenset()  # every operation said ("remove Morocco, add Sudan": both)
    # the values of `new` said under a remove phrase (empty when the text does not tell, as in a payload)
    removed: dict[str, list[Any]] = field(default_factory=dict)
    exclusive: int = 0  # how many times "only", "just"… is said
    either: bool = False  # two places said as alternatives ("Kyrgyzstan or Tajikistan")

    @classmethod
    def of(cls, tracker: Tracker, text: str, *, vocabulary: bool = False) -> "FilterRequest":
        """`vocabulary`: for a message already judged a filter change though the NLU read another intent
        (it then attached no operation or scope phrases): read them from the text."""
        return cls.of_entities(tracker.latest_message.get("entities") or [], text, vocabulary=vocabulary)

    @classmethod
    def of_entities(cls, entities: list[dict[str, Any]], text: str, *, vocabulary: bool = False) -> "FilterRequest":
        """The request of a message's entities (all of them, or the part of the message a caller reads)."""
        entities = with_subregions(entities, text)
        if vocabulary and text and not text.startswith("/") and not any(e.get("entity") in ("operation", "scope") for e in entities):
            taken = [(e["start"], e["end"]) for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)]
            entities = entities + [
                e for e in closed_entities(text) if e["entity"] in ("operation", "scope") and not any(s < e["end"] and e["start"] < t for s, t in taken)
            ]
        new: dict[str, list[Any]] = {}
        old: dict[str, list[Any]] = {}
        kept = kept_values(entities, text)
        for entity in entities:
            name = entity.get("entity")
            if name not in ("country", "region", "sdg") or not names_goal(entity, text) or id(entity) in kept:
                continue
            target = old if entity.get("role") == "old" else new
            values = target.setdefault(name, [])
            if entity.get("value") not in values:
                values.append(entity.get("value"))
        operations = [e.get("value") for e in entities if e.get("entity") == "operation"]
        # The strongest operation said wins: "clear everything" beats "only"; "instead" beats "also".
        operation = next((op for op in ("list", "clear", "remove", "replace", "add") if op in operations), None)
        scopes = frozenset(str(e.get("value")) for e in entities if e.get("entity") == "scope") - kept_scopes(entities, text)
        exclusive = sum(
            1 for e in entities
            if e.get("entity") == "operation" and isinstance(e.get("start"), int) and fold(text[e["start"] : e.get("end", e["start"])]) in _EXCLUSIVE
        )
        spans = sorted((e["start"], e["end"]) for e in entities if e.get("entity") in ("country", "region") and isinstance(e.get("start"), int) and isinstance(e.get("end"), int))
        either = any(_OR.fullmatch(text[end:start]) for (_, end), (start, _) in zip(spans, spans[1:]))
        removed = _removed_values(entities, text)
        if removed and operation not in ("list", "clear"):  # "take Nepal out": no remove phrase in one piece
            operation = "remove"
        elif operation is None and old and not new and set(old) <= {"country", "region"}:
            operation = "remove"  # "not Egypt or Morocco", "no Tunisia": a place moved away from, none named instead
        return cls(operation, scopes, new, old, frozenset(str(op) for op in operations), removed, exclusive, either)

    def changes_anything(self) -> bool:
        return bool(self.new or self.old or self.operation in ("clear", "remove"))


@dataclass(frozen=True)
class FilterOutcome:
    filters: Filters
    # a question back to the user instead of a change: "remove" (which of the filters on should go?) or
    # "several" (two values of one filter: "only Asia and only Africa"); the choices are the answers
    conflict: str | None = None
    choices: tuple[tuple[str, Any], ...] = ()  # (filter name, value) the user can pick from
    unknown: tuple[str, ...] = ()  # values that are no valid filter


def _validated(filters: Filters) -> tuple[Filters, list[str]]:
    """The filters with every unusable value dropped, and what was wrong with those."""
    kept: dict[str, Any] = {}
    unknown: list[str] = []
    for name in ("sdg", "country", "region"):
        value = getattr(filters, name)
        if value is None:
            continue
        try:
            kept[name] = getattr(Filters(**{name: value}).validated(), name)
        except (FilterError, TypeError, ValueError) as exc:
            unknown.append(str(exc))
    for name in ("places", "exclude"):
        values = []
        for value in getattr(filters, name):
            try:
                Filters(places=(value,)).validated()
                values.append(value)
            except (FilterError, TypeError, ValueError) as exc:
                unknown.append(str(exc))
        kept[name] = tuple(values)
    return Filters(**kept).validated(), unknown


def _is_on(current: Filters, name: str, value: Any) -> bool:
    if name == "sdg":
        return str(value) == str(current.sdg)
    try:
        key = Filters(places=(value,)).validated()
    except (FilterError, TypeError, ValueError):
        return False
    place = key.country or key.region
    if place in (current.country, current.region) or place in current.places:
        return True
    # "drop the Africa filter" with West Africa on
    return any(sub is not None and sub.division == place for sub in (subregions().get(p) for p in (current.region, *current.places)))


def _within(country: Any, region: Any) -> bool:
    try:
        code = Filters(country=country).validated().country
        key = Filters(places=(region,)).validated().region
    except (FilterError, TypeError, ValueError):
        return False
    return key is not None and code in place_countries(key)


def apply(current: Filters, request: FilterRequest) -> FilterOutcome:
    """The filters after this request."""
    sdg, country, region = current.sdg, current.country, current.region
    places, exclude = current.places, current.exclude
    cleared: set[str] = set()
    added = request.new if request.operation != "remove" else {}
    if request.operation == "clear" or (request.operation == "remove" and "all" in request.scopes and not request.old):
        cleared |= {"sdg", "country", "region"}
        places = exclude = ()
    elif request.operation == "remove":
        named_places = any(request.new.get(n) or request.old.get(n) for n in ("country", "region"))
        for scope in request.scopes:
            # "leave out Bangladesh, they're everywhere", "everything except Nigeria": a place named is what
            # goes, not the place filter
            if not (named_places and scope in ("place", "country", "region", "all")):
                cleared |= set(SCOPES_OF.get(scope, ()))
        if cleared & {"country", "region"}:
            places = exclude = ()
        # Values said under a remove phrase go when they are on; a place that is not on is left out of
        # the results ("leave out Bangladesh"). Other values are added ("remove Morocco, add Sudan").
        removing = request.removed or {name: request.new.get(name, []) + request.old.get(name, []) for name in {**request.new, **request.old}}
        if request.removed:
            added = {name: [v for v in values if v not in request.removed.get(name, [])] for name, values in request.new.items()}
            added = {name: values for name, values in added.items() if values}
        else:
            # "remove Kenya" / "drop SDG 5": the values named (with or without the `old` role) go. A value that
            # is not on goes on when the message also removes something else or says "add": "remove Morocco,
            # add Sudan", "убери фильтр, покажи что есть по Таджикистану".
            active = {name for name, values in request.new.items() if any(_is_on(current, name, v) for v in values)}
            inactive = {name: [v for v in values if not _is_on(current, name, v)] for name, values in request.new.items()}
            inactive = {name: values for name, values in inactive.items() if values}
            if inactive and (active or request.old or request.scopes or request.operations & {"add", "replace"}):
                added, removing = inactive, {name: request.new[name] for name in active}
        left_out = list(exclude)
        for name, values in removing.items():
            for value in values:
                if _is_on(current, name, value):
                    if name == "sdg":
                        cleared.add("sdg")
                    else:
                        key = Filters(places=(value,)).validated()
                        place = key.country or key.region
                        if place == country:
                            cleared.add("country")
                        elif place == region or (subregions().get(region) is not None and subregions().get(region).division == place):
                            cleared.add("region")
                        places = tuple(p for p in places if p != place and getattr(subregions().get(p), "division", None) != place)
                elif name in ("country", "region") and value not in left_out:
                    left_out.append(value)
        exclude = tuple(left_out)
        if not cleared and not added and exclude == current.exclude and places == current.places:
            active_names = [n for n in ("country", "region", "sdg") if getattr(current, n) is not None]
            if len(active_names) == 1:
                cleared.add(active_names[0])
            elif active_names:
                return FilterOutcome(current, conflict="remove", choices=tuple((n, getattr(current, n)) for n in active_names))
    if request.operation != "remove":  # (a remove has dealt with its values above)
        for name in request.old:  # moving away from a value clears it even when no new one is given
            cleared.add(name)
            places = ()
    if "sdg" in cleared:
        sdg = None
    if "country" in cleared:
        country = None
    if "region" in cleared:
        region = None
    if added:
        said = (added.get("country") or []) + (added.get("region") or [])
        for name in ("country", "region", "sdg"):
            values = added.get(name) or []
            # "only Asia and only Africa" contradicts itself; "Kyrgyzstan or Tajikistan" is either
            if len(values) > 1 and (name == "sdg" or request.exclusive >= 2):
                return FilterOutcome(current, conflict="several", choices=tuple((name, v) for v in values))
        countries, regions = added.get("country") or [], added.get("region") or []
        inside = len(countries) == 1 and len(regions) == 1 and _within(countries[0], regions[0])
        if len(said) > 1 and not inside:  # (a country named with its own region narrows it: "Kenya in East Africa")
            places, country, region = tuple(said), None, None
        elif added.get("country"):
            country, places = added["country"][0], ()
            # a country inside the region stays meaningful; a region given with it is kept, else dropped
            region = added["region"][0] if added.get("region") else None
        elif added.get("region"):
            region, country, places = added["region"][0], None, ()
        if added.get("sdg"):
            sdg = added["sdg"][0]
    new_places = [p for p in (country, region, *places) if p]
    if new_places and (country, region, places) != (current.country, current.region, current.places):
        # a country left out of North Africa means nothing in the Gulf: it goes with the place it was in
        # (one said in this very message stays: "drop Kazakhstan… what's there for Kyrgyzstan or Tajikistan?")
        exclude = tuple(c for c in exclude if c not in current.exclude or any(c == p or _within(c, p) for p in new_places))
    try:
        sdg_value = int(sdg) if sdg not in (None, "") else None
    except (TypeError, ValueError):
        sdg_value = None
    filters, unknown = _validated(Filters(sdg=sdg_value, country=country, region=region, places=places, exclude=exclude))
    return FilterOutcome(filters, unknown=tuple(unknown))
