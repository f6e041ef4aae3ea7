"""Answers to questions about one record ("who paid for it?", "did it work?", "how long did the Kenya
one run?") from its catalogue fields; when the catalogue lacks the field, it says so and gives the
source link. Never a new search."""
from __future__ import annotations

from collections.abc import Callable

from actions.formatting import ENGLISH, countries_text, partner_type_name, provider_text, sdgs_text
from actions.i18n import Texts, country_name
from knowledge.catalogue import Partner, Record, Solution

Lookup = Callable[[str], Record | None]
ATTRIBUTES = (
    "start_year", "duration", "status", "funders", "results", "budget", "sdgs", "countries", "provider",
    "partners", "sources", "contact", "type", "focus", "themes",
)


def _sources(record: Record) -> list[str]:
    return list(dict.fromkeys([record.source_url, *record.sources]))


def _missing(record: Record, attribute: str, t: Texts) -> str:
    what = t(f"record.label.{attribute}") if attribute in ATTRIBUTES else t("record.label.other")
    return t("record.missing", what=what, name=record.name, source=_sources(record)[0])


def _solution_answer(record: Solution, attribute: str, lookup: Lookup, t: Texts) -> str | None:
    title = f"**{record.title}**"
    if attribute == "start_year":
        return t("record.started", title=title, year=record.year) if record.year else None
    if attribute == "duration":
        if not record.year:
            return None
        status = record.status if record.status in ("active", "completed") else "unknown"
        return t(f"record.duration.{status}", title=title, year=record.year)
    if attribute == "status":
        if record.status not in ("active", "completed"):
            return None
        return t("record.status", title=title, status=t(f"record.status.{record.status}"))
    if attribute == "funders":
        return t("record.funders", title=title, funders=", ".join(record.funders)) if record.funders else None
    if attribute == "results":
        return t("record.results", title=title, results=record.results) if record.results else None
    if attribute == "budget":
        return t("record.budget", title=title, budget=record.budget) if record.budget else None
    if attribute == "sdgs":
        return t("record.sdgs", title=title, sdgs=sdgs_text(record.sdgs, t)) if record.sdgs else None
    if attribute == "countries":
        if not record.countries:
            return None
        text = t("record.countries", title=title, countries=countries_text(record.countries, t))
        if record.provider_countries:
            text += t("record.provided_from", countries=countries_text(record.provider_countries, t))
        return text
    if attribute == "provider":
        provider = provider_text(record, lookup, t)
        return t("record.provider", title=title, provider=provider) if provider != t("card.not_stated") else None
    if attribute == "partners":
        names = []
        for partner_id in record.other_partners:
            partner = lookup(partner_id)
            names.append(partner.display_name() if isinstance(partner, Partner) else partner_id)
        if not names:
            return None
        return t("record.partners", provider=provider_text(record, lookup, t), title=title, partners=", ".join(names))
    if attribute == "themes":
        return t("record.themes", title=title, themes=", ".join(record.themes)) if record.themes else None
    if attribute == "contact":
        provider = lookup(record.provider) if record.provider else None
        if isinstance(provider, Partner):
            return t("record.contact_provider", provider=provider.display_name(), title=title)
        return None
    return None


def _partner_answer(record: Partner, attribute: str, t: Texts) -> str | None:
    name = f"**{record.display_name()}**"
    if attribute == "type":
        return t("record.partner_type", name=name, type=partner_type_name(record.type, t))
    if attribute in ("countries", "provider"):
        return t("record.based_in", name=name, country=country_name(record.country, t.language)) if record.country else None
    if attribute in ("focus", "themes", "results"):
        return t("record.works_on", name=name, focus=", ".join(record.focus_areas)) if record.focus_areas else None
    if attribute == "sdgs":
        return t("record.partner_sdgs", name=name, sdgs=sdgs_text(record.sdgs, t)) if record.sdgs else None
    if attribute == "contact":
        return t("record.contact_partner", name=name)
    return None


def answer(record: Record, attribute: str, lookup: Lookup, t: Texts = ENGLISH) -> tuple[str, bool]:
    """(reply, found), in the conversation's language: found is False when the catalogue lacks the field."""
    if attribute == "sources":
        return t("record.sources", name=record.name, sources=" · ".join(_sources(record))), True
    text = _solution_answer(record, attribute, lookup, t) if isinstance(record, Solution) else _partner_answer(record, attribute, t)
    if text is None:
        return _missing(record, attribute, t), False
    return text, True
