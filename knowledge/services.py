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

from knowledge.embedder import DeferredEmbedder, MiniLmEmbedder, TextEmbedder
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


class DeferredTagger:
    """The SDG tagger, built (with the embedder it needs) on its first `tag`."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self._embedder = embedder
        self._tagger: SdgTagger | None = None
        self._lock = threading.Lock()

    def tag(self, text: str, top_k: int = 3) -> list[tuple[int, float]]:
        with self._lock:
            if self._tagger is None:
                self._tagger = _tagger(self._embedder)
        return self._tagger.tag(text, top_k=top_k)


def build_services(
    settings: Settings,
    *,
    store_dir: Path | None = None,
    embedder: TextEmbedder | None = None,
    warm: bool = True,
    deferred: bool = False,
) -> KnowledgeServices:
    """`deferred`: for a process that mostly looks records up and seldom searches (the partner web app):
    the encoders and the SDG tagger load on the first search, and there is no FAQ index."""
    started = time.perf_counter()
    if embedder is None:
        embedder = DeferredEmbedder(lambda: MiniLmEmbedder(settings.embed_backend)) if deferred else MiniLmEmbedder(settings.embed_backend)
    store = KnowledgeStore(store_dir or settings.store_dir, embedder, chroma_url=settings.chroma_url)
    tagger = DeferredTagger(embedder) if deferred else _tagger(embedder)
    # The generation is read before the records, so a switch during the load is seen by the next refresh.
    generation = store.serving_generation()
    retriever = Retriever(store, embedder, tagger=tagger)
    faq = None if deferred else _faq_index(settings, embedder)
    if warm and not deferred:
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
