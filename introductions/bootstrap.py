"""Builds the introductions service of a process on top of the catalogue it brokers for: the catalogue
is passed in (a retriever), so brokering depends on retrieval and never the other way round."""
from __future__ import annotations

import logging

from introductions.db import upgrade
from introductions.service import IntroductionService
from knowledge.catalogue import Partner, Solution
from knowledge.search import Filters, Retriever
from knowledge.settings import Settings

logger = logging.getLogger(__name__)


def build_introductions(settings: Settings, retriever: Retriever) -> IntroductionService | None:
    """The introductions store, migrated to the latest schema; None (and an error in the log)
    when the database cannot be reached, so search keeps working."""

    def partner(record_id: str) -> Partner | None:
        record = retriever.get(record_id)
        return record if isinstance(record, Partner) else None

    def solution(record_id: str) -> Solution | None:
        record = retriever.get(record_id)
        return record if isinstance(record, Solution) else None

    def similar(partner_id: str) -> list[Partner]:
        declined = partner(partner_id)
        if declined is None:
            return []
        # Partners of the same kind working on the same themes first (another cooperation agency for an
        # agency), then any partner on those themes.
        need = " ".join([*declined.focus_areas, declined.description[:300]])
        found = retriever.search(need, kind="partner", top_k=4, filters=Filters(partner_type=declined.type))
        found += retriever.search(need, kind="partner", top_k=4)
        similar_ones = {r.record.id: r.record for r in found if isinstance(r.record, Partner) and r.record.id != partner_id}
        return list(similar_ones.values())

    try:
        upgrade(settings.database_url)
        return IntroductionService(
            settings.database_url, settings, partner, solution_lookup=solution, similar_partners=similar
        )
    except Exception as exc:  # noqa: BLE001 - any database failure means "introductions are off"
        logger.error("introductions are unavailable: %s", type(exc).__name__)
        return None
