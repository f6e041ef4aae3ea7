"""The catalogue store in a real Chroma server (`chroma run` from the chromadb package, on a free
loopback port with a temporary path): imports build generations there, switch, roll back, and a
process serving from it loads a new import without a restart."""
from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from harness.stack import free_port
from tests.conftest import MINI_CATALOGUE

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.fail(f"the chroma CLI is missing from {CHROMA.parent} (chromadb is in requirements/actions.lock)")
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = open(path / "chroma.log", "wb")
    server = subprocess.Popen([str(CHROMA), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (path / "chroma.log").read_text()
            try:
                if requests.get(f"{url}/api/v2/heartbeat", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "chroma run did not start"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_generations_live_in_the_server_and_switch(chroma_url, tmp_path, embedder) -> None:
    from knowledge.catalogue import load_catalogue
    from knowledge.search import Retriever
    from knowledge.store import KnowledgeStore

    records = load_catalogue([MINI_CATALOGUE])
    store = KnowledgeStore(tmp_path / "unused", embedder, chroma_url=chroma_url)
    first = store.ingest(records[:-1], sync=True)
    assert first.added == len(records) - 1 and store.serving_generation() == first.generation
    assert not (tmp_path / "unused").exists(), "an import writes nothing locally in server mode"

    # Another process (a second action server) sees the same generation and records through the server.
    reader = KnowledgeStore(tmp_path / "elsewhere", embedder, chroma_url=chroma_url)
    retriever = Retriever(reader, embedder)
    assert len(retriever) == len(records) - 1 and retriever.get(records[-1].id) is None
    assert retriever.search("rainwater ponds for dry villages", top_k=1)[0].id == "s-rainwater"

    second = store.ingest(records, sync=True)
    assert (second.added, second.unchanged) == (1, len(records) - 1)  # the copy kept the earlier embeddings
    assert reader.serving_generation() == second.generation
    assert Retriever(reader, embedder).get(records[-1].id) is not None

    third = store.ingest(records[1:], sync=True)
    assert third.removed == 1
    kept = {row["generation"]: row["state"] for row in store.generations()}
    assert kept == {third.generation: "serving", second.generation: "previous"}  # the first was pruned
    assert store.rollback().name == second.generation
    assert reader.serving_generation() == second.generation


def test_a_serving_process_loads_a_new_import_from_the_server(chroma_url, tmp_path, embedder) -> None:
    from knowledge.catalogue import load_catalogue
    from knowledge.services import build_services
    from knowledge.settings import load_settings
    from knowledge.store import KnowledgeStore

    records = load_catalogue([MINI_CATALOGUE])
    writer = KnowledgeStore(tmp_path / "writer", embedder, chroma_url=chroma_url)
    writer.ingest([r for r in records if r.id != "s-rainwater"], sync=True)
    config = replace(load_settings(), chroma_url=chroma_url, state_dir=tmp_path)
    services = build_services(config, store_dir=tmp_path / "reader", embedder=embedder, warm=False)
    assert services.retriever.get("s-rainwater") is None
    assert services.refresh() is False  # nothing new yet

    imported = writer.ingest(records, sync=True)
    assert services.refresh() is True
    assert services.generation == imported.generation
    assert services.retriever.search("rainwater ponds for dry villages", top_k=1)[0].id == "s-rainwater"


def test_a_second_reader_loads_from_its_snapshot_cache(chroma_url, tmp_path, embedder) -> None:
    """The first load of a generation reads the server and caches it under the local store folder;
    the next load (a restart) reads the cache, with the same records and vectors."""
    from knowledge.catalogue import load_catalogue
    from knowledge.store import SNAPSHOTS, KnowledgeStore

    records = load_catalogue([MINI_CATALOGUE])
    report = KnowledgeStore(tmp_path / "writer", embedder, chroma_url=chroma_url).ingest(records, sync=True)
    reader = KnowledgeStore(tmp_path / "reader", embedder, chroma_url=chroma_url)
    first = reader.snapshot()
    assert (tmp_path / "reader" / SNAPSHOTS / report.generation / "complete").exists()
    again = reader.snapshot()
    assert [r.id for r in again.records] == [r.id for r in first.records] and again.records == first.records
    assert (again.embeddings == first.embeddings).all() and (again.chunk_rows == first.chunk_rows).all()
