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

from knowledge.geo import fold, sdgs, subregions
from knowledge.search import FilterError, Filters

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
    if re.search(r"\d|\bsdgs?\b|\bgoal\b", span, re.IGNORECASE):
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


@dataclass(frozen=True)
class FilterRequest:
    """What one message asks of the filters."""

    operation: str | None = None
    scopes: frozenset[str] = frozenset()
    new: dict[str, list[Any]] = field(default_factory=dict)  # filter name -> values, in the order said
    old: dict[str, list[Any]] = field(default_factory=dict)
    operations: frozenset[str] = frozenset()  # every operation said ("remove Morocco, add Sudan": both)

    @classmethod
    def of(cls, tracker: Tracker, text: str) -> "FilterRequest":
        entities = with_subregions(tracker.latest_message.get("entities") or [], text)
        new: dict[str, list[Any]] = {}
        old: dict[str, list[Any]] = {}
        for entity in entities:
            name = entity.get("entity")
            if name not in ("country", "region", "sdg") or not names_goal(entity, text):
                continue
            target = old if entity.get("role") == "old" else new
            values = target.setdefault(name, [])
            if entity.get("value") not in values:
                values.append(entity.get("value"))
        operations = [e.get("value") for e in entities if e.get("entity") == "operation"]
        # The strongest operation said wins: "clear everything" beats "only"; "instead" beats "also".
        operation = next((op for op in ("list", "clear", "remove", "replace", "add") if op in operations), None)
        scopes = frozenset(str(e.get("value")) for e in entities if e.get("entity") == "scope")
        return cls(operation, scopes, new, old, frozenset(str(op) for op in operations))

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
    return Filters(**kept), unknown


def apply(current: Filters, request: FilterRequest) -> FilterOutcome:
    """The filters after this request."""
    sdg, country, region = current.sdg, current.country, current.region
    cleared: set[str] = set()
    added = request.new if request.operation != "remove" else {}
    if request.operation == "clear" or (request.operation == "remove" and "all" in request.scopes and not request.old):
        cleared |= {"sdg", "country", "region"}
    elif request.operation == "remove":
        for scope in request.scopes:
            cleared |= set(SCOPES_OF.get(scope, ()))
        # "remove Kenya" / "drop SDG 5": the values named (with or without the `old` role) go. A value that
        # is not on goes on when the message also removes something else or says "add": "remove Morocco,
        # add Sudan", "убери фильтр, покажи что есть по Таджикистану".
        active = {name for name, values in request.new.items() if any(str(v) == str(getattr(current, name)) for v in values)}
        inactive = {name: [v for v in values if str(v) != str(getattr(current, name))] for name, values in request.new.items()}
        inactive = {name: values for name, values in inactive.items() if values}
        if inactive and (active or request.old or request.scopes or request.operations & {"add", "replace"}):
            added = inactive
            cleared |= active | set(request.old)
        else:
            for name in {**request.new, **request.old}:
                cleared.add(name)
        if not cleared and not added:
            active = [n for n in ("country", "region", "sdg") if getattr(current, n) is not None]
            if len(active) == 1:
                cleared.add(active[0])
            elif active:
                return FilterOutcome(current, conflict="remove", choices=tuple((n, getattr(current, n)) for n in active))
    for name in request.old:  # moving away from a value clears it even when no new one is given
        cleared.add(name)
    if "sdg" in cleared:
        sdg = None
    if "country" in cleared:
        country = None
    if "region" in cleared:
        region = None
    if added:
        for name in ("country", "region", "sdg"):
            values = added.get(name) or []
            if len(values) > 1:
                return FilterOutcome(current, conflict="several", choices=tuple((name, v) for v in values))
        if added.get("country"):
            country = added["country"][0]
            # a country inside the region stays meaningful; a region given with it is kept, else dropped
            region = added["region"][0] if added.get("region") else None
        elif added.get("region"):
            region, country = added["region"][0], None
        if added.get("sdg"):
            sdg = added["sdg"][0]
    try:
        sdg_value = int(sdg) if sdg not in (None, "") else None
    except (TypeError, ValueError):
        sdg_value = None
    filters, unknown = _validated(Filters(sdg=sdg_value, country=country, region=region))
    return FilterOutcome(filters, unknown=tuple(unknown))
