"""Channel-neutral reply building: text with light markdown, plus buttons whose payloads are
Rasa intents. Channels (REST, Telegram, widget) render both."""
from __future__ import annotations

import json
from typing import Any, Sequence

from knowledge.catalogue import Partner, Record, Solution
from knowledge.geo import REGION_LABELS, geography, sdg_name
from knowledge.search import Filters, SearchResult

MAX_COUNTRIES_SHOWN = 5


def payload(intent: str, **entities: Any) -> str:
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"


def countries_text(codes: Sequence[str]) -> str:
    geo = geography()
    names = [geo.country_name(c) for c in codes]
    if len(names) > MAX_COUNTRIES_SHOWN:
        return ", ".join(names[:MAX_COUNTRIES_SHOWN]) + f" and {len(names) - MAX_COUNTRIES_SHOWN} more"
    return ", ".join(names) or "not stated"


def sdgs_text(goals: Sequence[int]) -> str:
    return ", ".join(f"{g} ({sdg_name(g)})" for g in goals) or "not stated"


def filters_text(filters: Filters) -> str:
    parts = []
    if filters.country:
        parts.append(geography().country_name(filters.country))
    if filters.region:
        parts.append(REGION_LABELS.get(filters.region, filters.region))
    if filters.sdg:
        parts.append(f"SDG {filters.sdg} ({sdg_name(filters.sdg)})")
    if filters.partner_type:
        parts.append(filters.partner_type.replace("_", " "))
    return ", ".join(parts)


def provider_text(record: Solution, lookup) -> str:
    if record.provider:
        partner = lookup(record.provider)
        if isinstance(partner, Partner):
            return partner.display_name()
    return record.provider_name or "not stated"


def result_block(rank: int, result: SearchResult, lookup) -> str:
    record = result.record
    if isinstance(record, Solution):
        lines = [
            f"{rank}. **{record.title}**",
            f"   Countries: {countries_text(record.countries)} · SDGs: {sdgs_text(record.sdgs)}",
            f"   Provider: {provider_text(record, lookup)}",
        ]
        if record.summary:
            lines.append(f"   {record.summary}")
    else:
        where = geography().country_name(record.country) if record.country else "global"
        lines = [
            f"{rank}. **{record.display_name()}** — {record.type.replace('_', ' ')}, {where}",
            f"   Works on: {', '.join(record.focus_areas) or 'not stated'} · SDGs: {sdgs_text(record.sdgs)}",
        ]
    lines.append(f"   Why: {result.why}")
    lines.append(f"   Source: {record.source_url}")
    return "\n".join(lines)


def connectable(record: Record, lookup) -> bool:
    """Whether an introduction can be asked for: a partner, or a solution whose provider is one."""
    if isinstance(record, Partner):
        return True
    return bool(record.provider) and isinstance(lookup(record.provider), Partner)


def result_buttons(results: Sequence[SearchResult], *, more: bool, lookup, first_rank: int = 1) -> list[dict[str, str]]:
    """Per result: its details and, when it has a partner behind it, its own "Connect" button."""
    buttons: list[dict[str, str]] = []
    for rank, result in enumerate(results, start=1):
        shown_rank = first_rank + rank - 1  # the number the user sees; references resolve it
        buttons.append({"title": f"Details of {shown_rank}", "payload": payload("show_details", ordinal=shown_rank)})
        if connectable(result.record, lookup):
            buttons.append({"title": f"Connect me with {shown_rank}", "payload": payload("request_introduction", ordinal=shown_rank)})
    if more:
        buttons.append({"title": "Show more", "payload": payload("show_more")})
    return buttons


def details_text(record: Record, lookup) -> str:
    if isinstance(record, Solution):
        lines = [
            f"**{record.title}**",
            record.description or record.summary,
            f"Countries: {countries_text(record.countries)}",
            f"SDGs: {sdgs_text(record.sdgs)}",
            f"Provider: {provider_text(record, lookup)}",
        ]
        if record.themes:
            lines.append(f"Themes: {', '.join(record.themes)}")
        if record.year:
            lines.append(f"Year: {record.year}")
        if record.status != "unknown":
            lines.append(f"Status: {record.status}")
    else:
        lines = [
            f"**{record.display_name()}**",
            record.description,
            f"Type: {record.type.replace('_', ' ')}",
            f"Based in: {geography().country_name(record.country) if record.country else 'global / not stated'}",
            f"Works on: {', '.join(record.focus_areas) or 'not stated'}",
            f"SDGs: {sdgs_text(record.sdgs)}",
        ]
    sources = list(dict.fromkeys([record.source_url, *record.sources]))
    lines.append("Sources: " + " · ".join(sources))
    return "\n".join(line for line in lines if line)
