"""Shared fixtures: the real MiniLM model, a small real catalogue in a temporary store, and
rasa-sdk dispatcher/tracker factories for action tests."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# A developer's own .env must not change what the tests see (and the servers they start inherit this).
os.environ["GALAXY_ENV_FILE"] = ""

FIXTURES = Path(__file__).parent / "fixtures"
MINI_CATALOGUE = FIXTURES / "mini_catalogue.jsonl"


@pytest.fixture(scope="session")
def embedder():
    from knowledge.embedder import MiniLmEmbedder

    return MiniLmEmbedder("torch")


@pytest.fixture(scope="session")
def mini_store(tmp_path_factory, embedder):
    from knowledge.catalogue import load_catalogue
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(tmp_path_factory.mktemp("store"), embedder)
    store.ingest(load_catalogue([MINI_CATALOGUE]))
    return store


@pytest.fixture(scope="session")
def retriever(mini_store, embedder):
    from knowledge.sdg import SdgTagger
    from knowledge.search import Retriever

    return Retriever(mini_store, embedder, tagger=SdgTagger(embedder))


@pytest.fixture(scope="session")
def services(mini_store, embedder, retriever):
    from knowledge.faq import FaqIndex
    from knowledge.services import KnowledgeServices
    from knowledge.settings import DATA_DIR

    return KnowledgeServices(
        embedder=embedder,
        store=mini_store,
        retriever=retriever,
        tagger=retriever.tagger,
        faq=FaqIndex.from_file(DATA_DIR / "faq.jsonl", embedder),
    )


@pytest.fixture
def context(services, tmp_path):
    from dataclasses import replace

    from actions.context import ActionContext
    from knowledge.settings import load_settings

    return ActionContext(settings=replace(load_settings(), state_dir=tmp_path), services=services)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    return {}


def make_tracker(
    text: str = "",
    *,
    intent: str = "find_solution",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    intent_ranking: list[dict[str, Any]] | None = None,
    sender_id: str = "test-user",
    metadata: dict[str, Any] | None = None,
    input_channel: str | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": intent_ranking or [{"name": intent, "confidence": 0.9}],
        "metadata": metadata or {},
    }
    events = [{"event": "user", "text": text, "input_channel": input_channel}] if input_channel else []
    return Tracker(sender_id, slots or {}, latest, events, False, None, {}, "action_listen")


@pytest.fixture
def tracker_factory():
    return make_tracker


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The real action server and Rasa server, started once for the end-to-end modules that need no special
    settings (a module that does, such as test_e2e_introductions, defines its own `stack`)."""
    from harness.stack import started

    yield from started(tmp_path_factory.mktemp("stack"))
