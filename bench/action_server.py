"""`python -m bench.action_server` — one action server process under a crowd: sequential latency of a
search action, then a burst (64 calls at concurrency 32 by default) with realistic trackers, and the
/health latency measured while the burst runs (what a stalled event loop shows first).

The store is the serving generation of GALAXY_STORE_DIR (`make store`); `--module` starts another
server module (e.g. a copy of an older actions/server.py) for a before/after comparison.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

from harness.action_calls import action_call
from harness.stack import ROOT, free_port

QUERIES = ROOT / "knowledge" / "eval" / "queries.jsonl"
TOKEN = "bench-action-server-token"


def queries(limit: int) -> list[str]:
    found = []
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if item.get("kind", "solution") == "solution":
                found.append(item["query"])
    return found[:limit]


def start(module: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the action server stopped:\n{log.read_text()}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit("the action server did not start")


def call(session: requests.Session, url: str, query: str, sender: str) -> float:
    started = time.perf_counter()
    answer = session.post(f"{url}/webhook", params={"token": TOKEN}, json=action_call("action_search_solutions", query, sender), timeout=120)
    answer.raise_for_status()
    assert answer.json()["responses"], "an empty reply"
    return (time.perf_counter() - started) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.action_server", description=__doc__)
    parser.add_argument("--module", default="actions", help="server module to start (default: actions)")
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sequential", type=int, default=20)
    args = parser.parse_args(argv)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p), HF_HUB_OFFLINE="1", ACTION_SERVER_TOKEN=TOKEN, GENERATION_POLL_SECONDS="2")
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-action-server-{port}.log"
    process = start(args.module, env, port, log)
    try:
        texts = queries(args.calls + args.sequential)
        session = requests.Session()
        call(session, url, "warm up", "warm")
        sequential = [call(session, url, texts[i % len(texts)], f"seq-{i}") for i in range(args.sequential)]

        health: list[float] = []
        done = threading.Event()

        def probe() -> None:
            with requests.Session() as probe_session:
                while not done.is_set():
                    started = time.perf_counter()
                    probe_session.get(f"{url}/health", timeout=120)
                    health.append((time.perf_counter() - started) * 1000)
                    time.sleep(0.05)

        prober = threading.Thread(target=probe)
        local = threading.local()

        def one(i: int) -> float:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            return call(local.session, url, texts[(args.sequential + i) % len(texts)], f"burst-{i}")

        prober.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            burst = list(pool.map(one, range(args.calls)))
        elapsed = time.perf_counter() - started
        done.set()
        prober.join()
    finally:
        process.terminate()
        process.wait(timeout=30)

    p = lambda xs, q: float(np.percentile(xs, q))  # noqa: E731
    print(f"server module: {args.module}; backend {os.environ.get('GALAXY_EMBED_BACKEND', 'onnx (default)')}; {os.cpu_count()} cores")
    print(f"sequential action_search_solutions: p50 {p(sequential, 50):.0f} ms, p95 {p(sequential, 95):.0f} ms, mean {statistics.mean(sequential):.0f} ms ({args.sequential} calls)")
    print(f"burst {args.calls} calls at concurrency {args.concurrency}: {args.calls / elapsed:.1f} calls/s, p50 {p(burst, 50):.0f} ms, p95 {p(burst, 95):.0f} ms, max {max(burst):.0f} ms")
    print(f"/health during the burst: p50 {p(health, 50):.0f} ms, p95 {p(health, 95):.0f} ms, max {max(health):.0f} ms ({len(health)} probes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
