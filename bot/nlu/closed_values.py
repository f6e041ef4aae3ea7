"""The closed vocabularies of the dialogue: how a filter changes (`operation`), which filter it is about
(`scope`) and which field of a record a question asks for (`attribute`), as phrase lists for the
gazetteer's EntityRuler; plus the `old` role of a filter value the user moves away from ("Asia instead
of Africa"). Kept free of Rasa imports so either virtual environment can test it.

One phrase may stand for two entities ("anywhere" = remove + place); the pattern id lists both.
"""
from __future__ import annotations

import re
from typing import Any

# value -> phrases (lower case; matched token by token, so inflections are listed)
OPERATION: dict[str, tuple[str, ...]] = {
    "add": (
        "also", "as well", "too", "add", "plus", "on top", "in addition", "narrow", "narrow it", "narrow down",
        "limit", "limit it", "restrict", "restrict it", "focus on", "only", "just", "filter by", "filter on",
        "filter for", "keep only", "limited to",
    ),
    "replace": (
        "instead", "instead of", "rather than", "rather", "switch to", "switch it to", "change to", "change it to",
        "swap", "swap it for", "replace", "replace it with", "make it", "not that but", "change the",
        "switch the",
    ),
    "remove": (
        "remove", "drop", "take away", "take off", "take out", "get rid of", "delete", "forget", "forget about",
        "without", "exclude", "no longer", "stop filtering", "ditch", "undo", "lift", "lose", "don't filter",
        "do not filter", "dont filter", "unfilter", "no need for", "leave out", "ignore",
    ),
    "clear": (
        "clear", "clear all", "clear everything", "reset", "reset everything", "start fresh", "from scratch",
        "no filters", "no filter", "all filters", "all the filters", "every filter", "wipe",
        "remove all filters", "remove all the filters", "drop all filters",
    ),
    "list": (
        "which filters", "what filters", "which filter", "what filter", "filters are on", "filters on",
        "filters applied", "filters are applied", "filters active", "active filters", "current filters",
        "filters set", "filters are set", "filters do you have", "filters am i using", "what am i filtering",
        "what are you filtering", "what is my search", "what's my search", "current search",
        "what are we searching", "what are you searching", "what did i ask", "what was i looking for",
        "what are you looking for", "search settings", "my filters", "the filters now", "filters right now",
    ),
}
SCOPE: dict[str, tuple[str, ...]] = {
    "country": ("country", "countries", "nation", "nations", "country filter"),
    "region": ("region", "regions", "continent", "continents", "region filter", "area", "areas"),
    "place": ("location", "place", "places", "geography", "geographic filter", "location filter", "place filter"),
    "sdg": ("sdg", "sdgs", "goal", "goals", "sdg filter", "goal filter", "global goal", "global goals"),
    "topic": ("topic", "subject", "theme", "keyword", "keywords", "query", "search term", "search terms"),
    "all": ("filters", "everything", "all of it", "all of them", "the lot"),
    # one filter, not said which: a question back when several are on
    "filter": ("filter", "that filter", "this filter", "the filter", "one filter"),
}
# Phrases that are both an operation and a scope.
COMBINED: dict[tuple[str, str], tuple[str, ...]] = {
    ("remove", "place"): (
        "anywhere", "everywhere", "worldwide", "globally", "all over the world", "any country", "any countries",
        "any region", "any place", "any location", "all countries", "all regions", "every country",
        "every region", "other countries", "other regions", "any part of the world", "not just there",
        "world wide", "whole world", "entire world",
    ),
    ("remove", "sdg"): ("any sdg", "any goal", "any sdgs", "all sdgs", "all goals", "every sdg", "every goal", "other goals", "other sdgs"),
    ("remove", "country"): ("any nation",),
    ("clear", "all"): ("all filters", "every filter", "no filters", "all the filters", "clear everything", "reset everything"),
}
ATTRIBUTE: dict[str, tuple[str, ...]] = {
    "start_year": (
        "start", "started", "starts", "begin", "began", "begun", "launch", "launched", "start year",
        "when did", "what year", "which year", "since when", "how old", "established", "founded", "created",
        "set up", "date", "kick off", "kicked off",
    ),
    "duration": ("how long", "duration", "run for", "ran for", "last", "lasted", "timeline", "timeframe", "time frame", "period", "end", "ended", "ends", "finish", "finished"),
    "status": (
        "status", "still running", "still going", "still active", "still on", "ongoing", "active", "running",
        "over", "completed", "closed", "is it still", "current state", "alive",
    ),
    "funders": (
        "funder", "funders", "funded", "funds", "funding", "fund it", "financed", "financing", "finance",
        "paid", "paid for", "pays", "pay for", "donor", "donors", "sponsor", "sponsors", "sponsored",
        "money", "who paid", "bankrolled", "backed", "backers",
    ),
    "results": (
        "result", "results", "impact", "impacts", "outcome", "outcomes", "achieve", "achieved", "achievements",
        "did it work", "does it work", "work out", "worked", "success", "successful", "effect", "effects",
        "beneficiaries", "benefit", "benefited", "how many people", "evidence", "difference", "accomplish",
        "accomplished", "deliver", "delivered", "helped",
    ),
    "budget": ("budget", "cost", "costs", "costed", "how much", "price", "amount", "spent", "spend", "expensive", "dollars", "usd"),
    "sdgs": ("which sdgs", "what sdgs", "which goals", "what goals", "sdg", "sdgs", "goal", "goals", "global goals"),
    "countries": (
        "which countries", "what countries", "where", "countries", "country", "which country", "what country",
        "reach", "reached", "implemented in", "took place", "happen", "happened", "cover", "covered", "based",
        "located", "location",
    ),
    "provider": (
        "provider", "provided", "provides", "who runs", "run by", "runs it", "who is behind", "who's behind",
        "behind it", "implemented by", "implementer", "implementing", "who made", "who developed", "developed by",
        "who leads", "led by", "organisation behind", "organization behind", "owner", "owns", "who did",
        "responsible", "in charge",
    ),
    "partners": ("partners", "partner", "who else", "involved", "collaborators", "collaborate", "together with", "co-partners", "participants", "members"),
    "sources": (
        "source", "sources", "link", "links", "url", "website", "web page", "webpage", "read more", "reference",
        "references", "documentation", "check this", "verify", "proof", "where can i read", "where can i check",
        "where can i find out more", "more information", "more info",
    ),
    "contact": ("contact", "email", "e-mail", "phone", "reach them", "get in touch", "contact details", "address"),
    "type": ("what kind of organisation", "what kind of organization", "what type", "type of organisation", "type of organization", "kind of organisation", "kind of organization"),
    "focus": ("focus", "focus areas", "work on", "works on", "specialise", "specialize", "what do they do", "areas of work"),
    "themes": ("themes", "sector", "sectors", "field", "fields"),
}
# A filter value the user moves away from: "instead of Africa", "not Kenya but", "remove SDG 5".
_OLD_CUE = re.compile(
    r"(?:\binstead\s+of|\brather\s+than|\bnot|\bno\s+longer|\bno\s+more|\bexcept|\bother\s+than|\bexcluding|\bwithout"
    r"|\bremove|\bdrop|\bforget|\bforget\s+about|\bdelete|\btake\s+(?:away|off|out)|\bget\s+rid\s+of|\bditch|\blose"
    r"|\bignore|\bleave\s+out|\bswap|\breplace|\bchange|\bswitch|\bfrom)(?:\s+(?:the|that|this|my|in|of|a|an))*\s*$",
    re.IGNORECASE,
)
ROLE_ENTITIES = ("country", "region", "sdg")


_TOKEN = re.compile(r"[\w'’-]+")


def _phrase_tables() -> dict[str, dict[tuple[str, ...], str]]:
    """label -> {phrase tokens: value}; a combined phrase is filed under "operation+scope"."""
    tables: dict[str, dict[tuple[str, ...], str]] = {}
    for label, table in (("operation", OPERATION), ("scope", SCOPE), ("attribute", ATTRIBUTE)):
        for value, phrases in table.items():
            for phrase in phrases:
                tables.setdefault(label, {})[tuple(_TOKEN.findall(phrase.lower()))] = value
    for (operation, scope), phrases in COMBINED.items():
        for phrase in phrases:
            tables.setdefault("operation+scope", {})[tuple(_TOKEN.findall(phrase.lower()))] = f"{operation}+{scope}"
    return tables


_TABLES = _phrase_tables()
_LONGEST = max(len(p) for table in _TABLES.values() for p in table)


def closed_entities(text: str) -> list[dict[str, Any]]:
    """Every operation, scope and attribute phrase in the text: per label the longest phrase wins and
    phrases of one label never overlap; different labels may share words ("country" is a scope and an
    attribute: which one counts is the intent's business)."""
    tokens = [(m.group(0).lower().replace("’", "'"), m.start(), m.end()) for m in _TOKEN.finditer(text[:5000])]
    words = [t[0] for t in tokens]
    found: list[dict[str, Any]] = []
    combined_spans: list[tuple[int, int]] = []
    for label in ("operation+scope", "operation", "scope", "attribute"):
        table, i = _TABLES[label], 0
        while i < len(tokens):
            for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
                value = table.get(tuple(words[i : i + size]))
                if value is None:
                    continue
                start, end = tokens[i][1], tokens[i + size - 1][2]
                if label == "operation+scope":
                    combined_spans.append((start, end))
                elif label in ("operation", "scope") and any(s < end and start < e for s, e in combined_spans):
                    break  # already read as an operation and a scope together
                found += expand(label, value, start, end)
                i += size - 1
                break
            i += 1
    return sorted(found, key=lambda e: (e["start"], e["entity"]))


def expand(label: str, value: str, start: int, end: int) -> list[dict[str, Any]]:
    """The entities one phrase stands for."""
    if label == "operation+scope":
        operation, scope = value.split("+")
        return [
            {"entity": "operation", "value": operation, "start": start, "end": end},
            {"entity": "scope", "value": scope, "start": start, "end": end},
        ]
    return [{"entity": label, "value": value, "start": start, "end": end}]


def assign_roles(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks a country, region or SDG mention the user moves away from with role `old`."""
    for entity in entities:
        if entity.get("entity") in ROLE_ENTITIES and "start" in entity:
            before = text[max(0, entity["start"] - 40) : entity["start"]]
            if _OLD_CUE.search(before):
                entity["role"] = "old"
    return entities
