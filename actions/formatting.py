"""Channel-neutral reply building: text with light markdown, plus buttons whose payloads are
Rasa intents. Channels (REST, Telegram, widget) render both. Labels, country, region and SDG names
follow the conversation's language (`Texts`); the records' own texts stay as the catalogue has them."""
from __future__ import annotations

import json
from typing import Any, Sequence

from actions.i18n import Texts, country_name, region_label, sdg_label, sdg_name
from knowledge.catalogue import PARTNER_TYPES as PARTNER_TYPE_VALUES, Partner, Record, Solution
from knowledge.geo import geography
from knowledge.search import Filters, SearchResult

MAX_COUNTRIES_SHOWN = 5
ENGLISH = Texts("en")
PARTNER_TYPES = frozenset(PARTNER_TYPE_VALUES)


def payload(intent: str, **entities: Any) -> str:
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"


def partner_type_name(kind: str, t: Texts = ENGLISH) -> str:
    """A partner's type ("development_bank") as words in the conversation's language."""
    return t(f"partner_type.{kind}") if kind in PARTNER_TYPES else kind.replace("_", " ")


def countries_text(codes: Sequence[str], t: Texts = ENGLISH) -> str:
    names = [country_name(c, t.language) for c in codes]
    if len(names) > MAX_COUNTRIES_SHOWN:
        return t("card.and_more", shown=", ".join(names[:MAX_COUNTRIES_SHOWN]), count=len(names) - MAX_COUNTRIES_SHOWN)
    return ", ".join(names) or t("card.not_stated")


def sdgs_text(goals: Sequence[int], t: Texts = ENGLISH) -> str:
    return ", ".join(f"{g} ({sdg_name(g, t.language)})" for g in goals) or t("card.not_stated")


def place_label(key: str, language: str) -> str:
    """A country's or a region's name (a place filter holds either)."""
    return country_name(key, language) if geography().is_country(key) else region_label(key, language)


def filters_text(filters: Filters, t: Texts = ENGLISH) -> str:
    parts = []
    if filters.country:
        parts.append(country_name(filters.country, t.language))
    if filters.region:
        parts.append(region_label(filters.region, t.language))
    if filters.places:
        parts.append(t("filters.or").join(place_label(p, t.language) for p in filters.places))
    if filters.exclude:
        names = [country_name(c, t.language) for c in filters.exclude]
        # "not Egypt, Morocco or Tunisia": one part of the filters, not three
        said = t("filters.excluded_last").join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
        parts.append(t("filters.excluded", places=said))
    if filters.sdg:
        parts.append(f"{sdg_label(filters.sdg, t.language)} ({sdg_name(filters.sdg, t.language)})")
    if filters.partner_type:
        parts.append(filters.partner_type.replace("_", " "))
    return ", ".join(parts)


def provider_text(record: Solution, lookup, t: Texts = ENGLISH) -> str:
    if record.provider:
        partner = lookup(record.provider)
        if isinstance(partner, Partner):
            return partner.display_name()
    return record.provider_name or t("card.not_stated")


def why_text(result: SearchResult, t: Texts = ENGLISH) -> str:
    """Why a result matches, in the conversation's language: search's own sentence in English, the
    same reasons in the words of `actions/messages` otherwise."""
    if t.language == "en" or not result.reasons:
        return result.why
    parts = []
    for kind, values in result.reasons:
        if kind == "sdgs":
            parts.append(", ".join(f"{sdg_label(g, t.language)} ({sdg_name(g, t.language)})" for g in values))
        elif kind == "countries":
            parts.append(t("why.in", places=", ".join(country_name(c, t.language) for c in values)))
        elif kind == "regions":
            parts.append(t("why.in", places=", ".join(region_label(r, t.language) for r in values)))
        elif kind == "provided_by":
            names = [country_name(k, t.language) if geography().is_country(k) else region_label(k, t.language) for k in values]
            parts.append(t("why.provided_by", places=t("why.or").join(names)))
        elif kind == "matches":
            parts.append(t("why.matches", words=", ".join(f"'{w}'" for w in values)))
        else:
            parts.append(t(f"why.{kind}"))
    return "; ".join(parts)


def result_block(rank: int, result: SearchResult, lookup, t: Texts = ENGLISH) -> str:
    record = result.record
    if isinstance(record, Solution):
        lines = [
            f"{rank}. **{record.title}**",
            f"   {t('card.countries')}: {countries_text(record.countries, t)} · {t('card.sdgs')}: {sdgs_text(record.sdgs, t)}",
            f"   {t('card.provider')}: {provider_text(record, lookup, t)}",
        ]
        if record.summary:
            lines.append(f"   {record.summary}")
    else:
        where = country_name(record.country, t.language) if record.country else t("card.global")
        lines = [
            f"{rank}. **{record.display_name()}** — {partner_type_name(record.type, t)}, {where}",
            f"   {t('card.works_on')}: {', '.join(record.focus_areas) or t('card.not_stated')} · {t('card.sdgs')}: {sdgs_text(record.sdgs, t)}",
        ]
    lines.append(f"   {t('card.why')}: {why_text(result, t)}")
    lines.append(f"   {t('card.source')}: {record.source_url}")
    return "\n".join(lines)


def connectable(record: Record, lookup) -> bool:
    """Whether an introduction can be asked for: a partner, or a solution whose provider is one."""
    if isinstance(record, Partner):
        return True
    return bool(record.provider) and isinstance(lookup(record.provider), Partner)


def result_buttons(results: Sequence[SearchResult], *, more: bool, lookup, first_rank: int = 1, t: Texts = ENGLISH) -> list[dict[str, str]]:
    """Per result: its details and, when it has a partner behind it, its own "Connect" button."""
    buttons: list[dict[str, str]] = []
    for rank, result in enumerate(results, start=1):
        shown_rank = first_rank + rank - 1  # the number the user sees; references resolve it
        buttons.append({"title": t("button.details", rank=shown_rank), "payload": payload("show_details", ordinal=shown_rank)})
        if connectable(result.record, lookup):
            buttons.append({"title": t("button.connect", rank=shown_rank), "payload": payload("request_introduction", ordinal=shown_rank)})
    if more:
        buttons.append({"title": t("button.show_more"), "payload": payload("show_more")})
    return buttons


def details_text(record: Record, lookup, t: Texts = ENGLISH) -> str:
    if isinstance(record, Solution):
        lines = [
            f"**{record.title}**",
            record.description or record.summary,
            f"{t('card.countries')}: {countries_text(record.countries, t)}",
            f"{t('card.sdgs')}: {sdgs_text(record.sdgs, t)}",
            f"{t('card.provider')}: {provider_text(record, lookup, t)}",
        ]
        if record.themes:
            lines.append(f"{t('card.themes')}: {', '.join(record.themes)}")
        if record.year:
            lines.append(f"{t('card.year')}: {record.year}")
        if record.status != "unknown":
            lines.append(f"{t('card.status')}: {record.status}")
    else:
        lines = [
            f"**{record.display_name()}**",
            record.description,
            f"{t('card.type')}: {partner_type_name(record.type, t)}",
            f"{t('card.based_in')}: {country_name(record.country, t.language) if record.country else t('card.global_or_not_stated')}",
            f"{t('card.works_on')}: {', '.join(record.focus_areas) or t('card.not_stated')}",
            f"{t('card.sdgs')}: {sdgs_text(record.sdgs, t)}",
        ]
    sources = list(dict.fromkeys([record.source_url, *record.sources]))
    lines.append(f"{t('card.sources')}: " + " · ".join(sources))
    return "\n".join(line for line in lines if line)
