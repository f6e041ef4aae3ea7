"""Builds the long-lived knowledge objects of a process (embedder, store, retriever, SDG tagger),
once, at start-up — never at import time."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.embedder import MiniLmEmbedder, TextEmbedder
from knowledge.catalogue import Partner, Solution
from knowledge.faq import FaqIndex
from knowledge.introductions.db import upgrade
from knowledge.introductions.service import IntroductionService
from knowledge.sdg import SdgTagger
from knowledge.search import Filters, Retriever
from knowledge.settings import Settings
from knowledge.store import KnowledgeStore

logger = logging.getLogger(__name__)


@dataclass
class KnowledgeServices:
    embedder: TextEmbedder
    store: KnowledgeStore
    retriever: Retriever
    tagger: SdgTagger
    faq: FaqIndex | None = None
    introductions: IntroductionService | None = None


def build_services(
    settings: Settings,
    *,
    store_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
    warm: bool = True,
    with_introductions: bool = True,
) -> KnowledgeServices:
    started = time.perf_counter()
    embedder = embedder or MiniLmEmbedder(settings.embed_backend)
    store = KnowledgeStore(store_dir or settings.store_dir, embedder)
    tagger = _tagger(embedder)
    retriever = Retriever(store, embedder, tagger=tagger)
    faq = _faq_index(settings, embedder)
    if warm:
        retriever.warm()
    introductions = build_introductions(settings, retriever) if with_introductions else None
    logger.info("knowledge ready: %d records in %.1fs", len(retriever), time.perf_counter() - started)
    return KnowledgeServices(embedder=embedder, store=store, retriever=retriever, faq=faq, tagger=tagger, introductions=introductions)


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


def _tagger(embedder: TextEmbedder) -> SdgTagger:
    return SdgTagger(embedder)


def _faq_index(settings: Settings, embedder: TextEmbedder) -> FaqIndex | None:
    if not settings.faq_path.exists():
        logger.warning("no FAQ file at %s: FAQ fallback search is off", settings.faq_path)
        return None
    return FaqIndex.from_file(settings.faq_path, embedder)
