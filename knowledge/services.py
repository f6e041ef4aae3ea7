"""Builds the long-lived knowledge objects of a process (embedder, store, retriever, SDG tagger),
once, at start-up — never at import time."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.embedder import MiniLmEmbedder, TextEmbedder
from knowledge.faq import FaqIndex
from knowledge.sdg import SdgTagger
from knowledge.search import Retriever
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


def build_services(
    settings: Settings,
    *,
    store_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
    warm: bool = True,
) -> KnowledgeServices:
    started = time.perf_counter()
    embedder = embedder or MiniLmEmbedder(settings.embed_backend)
    store = KnowledgeStore(store_dir or settings.store_dir, embedder)
    tagger = _tagger(embedder)
    retriever = Retriever(store, embedder, tagger=tagger)
    faq = _faq_index(settings, embedder)
    if warm:
        retriever.warm()
    logger.info("knowledge ready: %d records in %.1fs", len(retriever), time.perf_counter() - started)
    return KnowledgeServices(embedder=embedder, store=store, retriever=retriever, faq=faq, tagger=tagger)


def _tagger(embedder: TextEmbedder) -> SdgTagger:
    return SdgTagger(embedder)


def _faq_index(settings: Settings, embedder: TextEmbedder) -> FaqIndex | None:
    if not settings.faq_path.exists():
        logger.warning("no FAQ file at %s: FAQ fallback search is off", settings.faq_path)
        return None
    return FaqIndex.from_file(settings.faq_path, embedder)
