"""Builds the long-lived knowledge objects of a process (embedder, store, retriever, SDG tagger),
once, at start-up — never at import time — and swaps in a newly imported catalogue generation
while the process serves (`KnowledgeServices.refresh`)."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.embedder import MiniLmEmbedder, TextEmbedder
from knowledge.faq import FaqIndex
from knowledge.sdg import SdgTagger
from knowledge.search import Retriever
from knowledge.settings import Settings
from knowledge.store import KnowledgeStore

logger = logging.getLogger(__name__)


class LiveRetriever:
    """The retriever of the serving generation, replaced whole when a new one is imported.

    Everything that holds the retriever (actions, the introductions service) holds this handle: an
    attribute lookup goes to the retriever serving at that moment, so a search that started on the
    old generation finishes on it (its bound method keeps the old object) and the next one sees the new.
    """

    def __init__(self, retriever: Retriever) -> None:
        self.current = retriever

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)

    def __len__(self) -> int:
        return len(self.current)


@dataclass
class KnowledgeServices:
    embedder: TextEmbedder
    store: KnowledgeStore
    retriever: Retriever  # a LiveRetriever when built by build_services
    tagger: SdgTagger
    faq: FaqIndex | None = None
    generation: str | None = None  # the catalogue generation the retriever holds
    loaded_at: float = field(default_factory=time.time)
    _refreshing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refresh(self) -> bool:
        """Loads the serving generation when it is not the one held; True when it swapped.

        Blocking (a load reads the whole generation): call it off the event loop. The old retriever
        serves until the new one is complete."""
        serving = self.store.serving_generation()
        if serving is None or serving == self.generation:
            return False
        if not self._refreshing.acquire(blocking=False):
            return False  # another thread is loading it already
        try:
            started = time.perf_counter()
            fresh = Retriever(self.store, self.embedder, tagger=self.tagger, relevance=self.retriever.relevance)
            fresh.warm()
            if isinstance(self.retriever, LiveRetriever):
                self.retriever.current = fresh
            else:
                self.retriever = fresh
            self.generation, self.loaded_at = serving, time.time()
            logger.info("now serving generation %s: %d records, loaded in %.1fs", serving, len(fresh), time.perf_counter() - started)
            return True
        finally:
            self._refreshing.release()


def build_services(
    settings: Settings,
    *,
    store_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
    warm: bool = True,
) -> KnowledgeServices:
    started = time.perf_counter()
    embedder = embedder or MiniLmEmbedder(settings.embed_backend)
    store = KnowledgeStore(store_dir or settings.store_dir, embedder, chroma_url=settings.chroma_url)
    tagger = _tagger(embedder)
    # The generation is read before the records, so a switch during the load is seen by the next refresh.
    generation = store.serving_generation()
    retriever = Retriever(store, embedder, tagger=tagger)
    faq = _faq_index(settings, embedder)
    if warm:
        retriever.warm()
    logger.info("knowledge ready: %d records in %.1fs", len(retriever), time.perf_counter() - started)
    return KnowledgeServices(
        embedder=embedder, store=store, retriever=LiveRetriever(retriever), faq=faq, tagger=tagger, generation=generation  # type: ignore[arg-type]
    )


def _tagger(embedder: TextEmbedder) -> SdgTagger:
    return SdgTagger(embedder)


def _faq_index(settings: Settings, embedder: TextEmbedder) -> FaqIndex | None:
    if not settings.faq_path.exists():
        logger.warning("no FAQ file at %s: FAQ fallback search is off", settings.faq_path)
        return None
    return FaqIndex.from_file(settings.faq_path, embedder)
