"""The action server as a process: actions run off the event loop, readiness and metrics answer only
a token holder or loopback, and a newly imported catalogue is served without a restart."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.action_calls import action_call
from harness.stack import ROOT, free_port
from tests.conftest import MINI_CATALOGUE

NEW_SOLUTION = {
    "id": "s-mangrove-honey",
    "title": "Mangrove beekeeping cooperatives for coastal fishing villages",
    "summary": "Fishing households keep bees in restored mangroves and sell the honey together.",
    "description": "Cooperatives replant mangrove belts, hang hives in them and share a honey press.",
    "countries": ["MOZ"], "regions": [], "sdgs": [14, 1], "themes": ["livelihoods", "coastal ecosystems"],
    "provider": "p-fund", "provider_name": "Poverty and Hunger Facility", "other_partners": [], "year": 2020,
    "status": "active", "source_url": "https://example.org/s/mangrove-honey", "sources": [], "updated_at": "2026-11-30",
}


def _env(workdir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        GALAXY_ENV_FILE="",
        GALAXY_STATE_DIR=str(workdir / "state"),
        GALAXY_STORE_DIR=str(workdir / "store"),
        DATABASE_URL=f"sqlite:///{workdir / 'state' / 'introductions.sqlite3'}",
        ACTION_SERVER_TOKEN="rasa-knows-this",
        INTRODUCTION_SECRET="test-secret-not-for-production",
        GENERATION_POLL_SECONDS="0.5",
        CHROMA_URL="",
    )


def ingest(env: dict[str, str], *paths: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "knowledge", "ingest", *map(str, paths), "--sync"], env=env, cwd=ROOT, check=True, capture_output=True
    )


class ActionServer:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "actions.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "actions", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(f"{self.url}/health", timeout=1).ok:
                    return
            except requests.RequestException:  # not listening yet, or still loading the catalogue
                time.sleep(0.3)
        raise AssertionError(f"action server did not start:\n{self.log.read_text()}")

    def call(self, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{self.url}/webhook", params={"token": "rasa-knows-this"}, json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[ActionServer, dict[str, str], Path]]:
    workdir = tmp_path_factory.mktemp("action-server")
    env = _env(workdir)
    ingest(env, MINI_CATALOGUE)
    running = ActionServer(env, workdir)
    try:
        yield running, env, workdir
    finally:
        running.stop()


def texts(reply: dict[str, Any]) -> str:
    return "\n".join(m.get("text") or "" for m in reply["responses"])


def test_readiness_names_records_generation_and_database(server) -> None:
    running, env, _ = server
    answer = requests.get(f"{running.url}/ready", timeout=10)
    assert answer.status_code == 200
    body = answer.json()
    store = Path(env["GALAXY_STORE_DIR"])
    assert body["ready"] is True and body["database"] == "ok"
    assert body["records"] == sum(1 for line in MINI_CATALOGUE.read_text().splitlines() if line.strip())
    assert body["generation"] == (store / "CURRENT").read_text().strip()


def test_readiness_and_metrics_refuse_a_proxied_caller_without_the_token(server) -> None:
    running, _, _ = server
    for path in ("/ready", "/metrics"):
        proxied = requests.get(f"{running.url}{path}", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        assert proxied.status_code == 401
        with_token = requests.get(f"{running.url}{path}", params={"token": "rasa-knows-this"}, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        assert with_token.status_code == 200


def test_metrics_count_calls_by_action(server) -> None:
    running, _, _ = server
    def count() -> float:
        page = requests.get(f"{running.url}/metrics", timeout=10).text
        line = next((l for l in page.splitlines() if l.startswith('galaxy_action_calls_total{action="action_search_solutions"}')), None)
        return float(line.split()[-1]) if line else 0.0
    before = count()
    reply = running.call(action_call("action_search_solutions", "solar lighting for rural women"))
    assert "Solar" in texts(reply) or "solar" in texts(reply)
    assert count() == before + 1
    page = requests.get(f"{running.url}/metrics", timeout=10).text
    assert 'galaxy_action_seconds_count{action="action_search_solutions"}' in page


def test_concurrent_conversations_each_get_their_own_answer(server) -> None:
    """Several calls at once, as from a webinar crowd: every reply answers its own tracker."""
    running, _, _ = server
    needs = {"water-1": ("rainwater ponds for dry villages", "Rainwater"), "solar-2": ("solar lighting for rural women", "olar")}
    replies: dict[str, str] = {}

    def ask(sender: str, need: str) -> None:
        replies[sender] = texts(running.call(action_call("action_search_solutions", need, sender=sender)))

    threads = [threading.Thread(target=ask, args=(f"{s}-{n}", q)) for n in range(4) for s, (q, _) in needs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(replies) == 8
    for sender, reply in replies.items():
        assert needs[sender.rsplit("-", 1)[0]][1] in reply.split("\n\n", 2)[1], (sender, reply)


def test_a_second_action_server_carries_on_a_conversation_the_first_began(server) -> None:
    """Stateless across processes: "details of the first one" on another server opens the first
    server's first result, because everything it needs travels in the tracker's slots."""
    first, env, workdir = server
    # a vague need, so the list holds several nearest records ("rural communities" names one title outright)
    reply = first.call(action_call("action_search_solutions", "rural community projects", sender="moving-visitor"))
    slots = {e["name"]: e["value"] for e in reply["events"] if e.get("event") == "slot"}
    assert len(slots["last_results"]) >= 2 and slots["last_query"] == "rural community projects"
    titles = {r["id"]: r.get("title") or r.get("name") for r in map(json.loads, MINI_CATALOGUE.read_text().splitlines())}
    second = ActionServer(env, workdir)
    try:
        opened = second.call(action_call(
            "action_show_details", '/show_details{"ordinal":2}', sender="moving-visitor", slots=slots,
            intent="show_details", entities=[{"entity": "ordinal", "value": 2}],
        ))
    finally:
        second.stop()
    chosen = slots["last_results"][1]
    assert titles[chosen] in texts(opened)
    assert {"event": "slot", "name": "selected_id", "value": chosen} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in opened["events"]
    ]


# Changes the served catalogue, so it comes after the tests that search the mini catalogue.
def test_a_new_import_is_served_without_a_restart(server) -> None:
    running, env, workdir = server
    query = "beekeeping in mangroves for fishing villages"
    assert NEW_SOLUTION["title"] not in texts(running.call(action_call("action_search_solutions", query)))
    before = requests.get(f"{running.url}/ready", timeout=10).json()["generation"]
    changed = workdir / "changed.jsonl"
    changed.write_text(MINI_CATALOGUE.read_text().rstrip("\n") + "\n" + json.dumps(NEW_SOLUTION) + "\n", encoding="utf-8")
    ingest(env, changed)
    deadline = time.monotonic() + 60
    while requests.get(f"{running.url}/ready", timeout=10).json()["generation"] == before:
        assert time.monotonic() < deadline, "the new generation was never loaded"
        time.sleep(0.3)
    assert NEW_SOLUTION["title"] in texts(running.call(action_call("action_search_solutions", query)))
    assert running.process.poll() is None  # the same process: no restart


def test_actions_run_off_the_event_loop() -> None:
    """The executor hands each call to a worker thread; the server's loop thread never runs an action."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from rasa_sdk import Action

    from actions.metrics import ActionMetrics
    from actions.server import OffloadingExecutor

    ran_on: list[str] = []

    class Probe(Action):
        def name(self) -> str:
            return "action_probe"

        async def run(self, dispatcher, tracker, domain):  # noqa: ANN001 - rasa-sdk's signature
            ran_on.append(threading.current_thread().name)
            dispatcher.utter_message(text="probed")
            return []

    metrics = ActionMetrics()
    executor = OffloadingExecutor(ThreadPoolExecutor(max_workers=2, thread_name_prefix="action"), metrics)
    executor.register_action(Probe())

    async def main() -> Any:
        return await executor.run(action_call("action_probe", "hello"))

    result = asyncio.run(main())
    assert ran_on and ran_on[0].startswith("action") and ran_on[0] != threading.main_thread().name
    assert result.model_dump()["responses"][0]["text"] == "probed"
    assert metrics.calls.labels(action="action_probe")._value.get() == 1
