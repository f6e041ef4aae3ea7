"""Answers to questions about one record ("who paid for it?", "did it work?", "how long did the Kenya
one run?") from its catalogue fields; when the catalogue lacks the field, it says so and gives the
source link. Never a new search."""
from __future__ import annotations

from collections.abc import Callable

from actions.formatting import countries_text, provider_text, sdgs_text
from knowledge.catalogue import Partner, Record, Solution
from knowledge.geo import geography

Lookup = Callable[[str], Record | None]
ATTRIBUTES = (
    "start_year", "duration", "status", "funders", "results", "budget", "sdgs", "countries", "provider",
    "partners", "sources", "contact", "type", "focus", "themes",
)
LABELS = {
    "start_year": "when it started", "duration": "how long it ran", "status": "its current status",
    "funders": "who funded it", "results": "its results", "budget": "its budget", "sdgs": "its SDGs",
    "countries": "where it took place", "provider": "who provided it", "partners": "its partners",
    "sources": "its sources", "contact": "contact details", "type": "what kind of organisation it is",
    "focus": "what it works on", "themes": "its themes",
}


def _sources(record: Record) -> list[str]:
    return list(dict.fromkeys([record.source_url, *record.sources]))


def _missing(record: Record, attribute: str) -> str:
    return (
        f"The catalogue doesn't record {LABELS.get(attribute, 'that')} for **{record.name}**. "
        f"The source may say more: {_sources(record)[0]}"
    )


def _solution_answer(record: Solution, attribute: str, lookup: Lookup) -> str | None:
    title = f"**{record.title}**"
    if attribute == "start_year":
        return f"{title} started in {record.year}." if record.year else None
    if attribute == "duration":
        if not record.year:
            return None
        status = {"active": " and is still active", "completed": " and has been completed"}.get(record.status, "; the catalogue doesn't say when it ended")
        return f"{title} started in {record.year}{status}."
    if attribute == "status":
        return f"The status of {title} is: {record.status}." if record.status and record.status != "unknown" else None
    if attribute == "funders":
        return f"{title} was funded by {', '.join(record.funders)}." if record.funders else None
    if attribute == "results":
        return f"Results of {title}, as the sources state them: {record.results}" if record.results else None
    if attribute == "budget":
        return f"The budget of {title}: {record.budget}." if record.budget else None
    if attribute == "sdgs":
        return f"{title} contributes to these SDGs: {sdgs_text(record.sdgs)}." if record.sdgs else None
    if attribute == "countries":
        if not record.countries:
            return None
        text = f"{title} took place in {countries_text(record.countries)}."
        if record.provider_countries:
            text += f" It was provided from {countries_text(record.provider_countries)}."
        return text
    if attribute == "provider":
        provider = provider_text(record, lookup)
        return f"{title} is provided by {provider}." if provider != "not stated" else None
    if attribute == "partners":
        names = []
        for partner_id in record.other_partners:
            partner = lookup(partner_id)
            names.append(partner.display_name() if isinstance(partner, Partner) else partner_id)
        if not names:
            return None
        return f"Besides the provider ({provider_text(record, lookup)}), {title} involves {', '.join(names)}."
    if attribute == "themes":
        return f"Themes of {title}: {', '.join(record.themes)}." if record.themes else None
    if attribute == "contact":
        provider = lookup(record.provider) if record.provider else None
        if isinstance(provider, Partner):
            return (
                f"I don't share contact details, but I can introduce you to {provider.display_name()}, the provider of {title}: "
                "press \"Connect me\" and they get your request once you agree."
            )
        return None
    return None


def _partner_answer(record: Partner, attribute: str) -> str | None:
    name = f"**{record.display_name()}**"
    if attribute == "type":
        return f"{name} is a {record.type.replace('_', ' ')}."
    if attribute in ("countries", "provider"):
        return f"{name} is based in {geography().country_name(record.country)}." if record.country else None
    if attribute in ("focus", "themes", "results"):
        return f"{name} works on {', '.join(record.focus_areas)}." if record.focus_areas else None
    if attribute == "sdgs":
        return f"{name} works towards these SDGs: {sdgs_text(record.sdgs)}." if record.sdgs else None
    if attribute == "contact":
        return (
            f"I don't share contact details, but I can introduce you to {name}: press \"Connect me\" and they get "
            "your request once you agree."
        )
    return None


def answer(record: Record, attribute: str, lookup: Lookup) -> tuple[str, bool]:
    """(reply, found): found is False when the catalogue lacks the field."""
    if attribute == "sources":
        return f"Sources for **{record.name}**: " + " · ".join(_sources(record)), True
    text = _solution_answer(record, attribute, lookup) if isinstance(record, Solution) else _partner_answer(record, attribute)
    if text is None:
        return _missing(record, attribute), False
    return text, True
