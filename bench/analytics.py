"""Staff analytics at scale (issue #15): 100,000 clearly synthetic conversations in a tracker-store database,
the time to build the dataset and the HTML report from them (cold and warm text cache), and the dashboard's
page latencies over HTTP (the real `python -m analytics.web` process, logged in), first view of a filter and
cached. Prints numbers only.

    python -m bench.analytics [--conversations 100000] [--no-tagger]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import sqlalchemy as sa

from analytics.synthetic import synthetic_conversations, write_conversations
from harness.stack import free_port
from knowledge.settings import PROJECT_ROOT, settings

PAGES = ("overview", "demand", "unmet", "introductions", "faq", "feedback")
FILTERS = ("", "?channel=telegram", "?channel=socketio&from=2026-09-01", "?from=2026-10-01&to=2026-11-15", "?channel=rest")


def ensure_conversations(path: Path, count: int) -> float:
    """Writes the synthetic store once (kept under <state>/bench/); returns the seconds it took (0: cached)."""
    url = f"sqlite:///{path}"
    if path.exists():
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT COUNT(DISTINCT sender_id) FROM events")).scalar()
        engine.dispose()
        if stored == count:
            return 0.0
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    engine = sa.create_engine(url)
    write_conversations(engine, synthetic_conversations(count, seed=11))
    engine.dispose()
    return time.perf_counter() - started


def build_report(url: str, cache_path: Path, tagger: bool) -> tuple[float, float, int]:
    """(dataset seconds, dataset + HTML seconds, HTML size); the models load before the clock starts."""
    from analytics.dataset import CachedEmbedder, TextCache, build_dataset
    from analytics.report import View, render_report

    cache = TextCache(cache_path)
    models = {}
    if tagger:
        from knowledge.embedder import MiniLmEmbedder
        from knowledge.sdg import SdgTagger

        models["embedder"] = CachedEmbedder(MiniLmEmbedder(settings().embed_backend), cache)
        models["tagger"] = SdgTagger(models["embedder"])
    started = time.perf_counter()
    dataset = build_dataset(url, None, embedder=models.get("embedder"), tagger=models.get("tagger"), cache=cache)
    built = time.perf_counter() - started
    page = render_report(dataset, View())
    cache.close()
    distinct = len(dataset.texts)
    print(f"    ({dataset.conversations:,} conversations, {len(dataset.sessions):,} sessions, {len(dataset.searches):,} searches, "
          f"{distinct:,} distinct need and question texts)", flush=True)
    return built, time.perf_counter() - started, len(page)


def page_latencies(db: Path, state: Path, tagger: bool) -> dict[str, tuple[list[float], list[float]]]:
    port = free_port()
    token = "bench-dashboard-token"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "GALAXY_ENV_FILE": "", "GALAXY_STATE_DIR": str(state),
           "TRACKER_STORE_URL": f"sqlite:///{db}", "DATABASE_URL": f"sqlite:///{state / 'introductions.sqlite3'}",
           "DASHBOARD_TOKEN": token, "DASHBOARD_PORT": str(port)}
    command = [sys.executable, "-m", "analytics.web", "--port", str(port)] + ([] if tagger else ["--no-tagger"])
    log = open(state / "dashboard.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{base}/health", timeout=5).status == 200:
                    break
            except OSError:
                time.sleep(1)
        else:
            raise RuntimeError("the dashboard did not get ready")
        opener.open(f"{base}/login", data=urllib.parse.urlencode({"token": token}).encode(), timeout=30)
        results: dict[str, tuple[list[float], list[float]]] = {}
        for page in PAGES:
            first, cached = [], []
            for query in FILTERS:
                for bucket in (first, cached):
                    started = time.perf_counter()
                    with opener.open(f"{base}/{page}{query}", timeout=60) as response:
                        response.read()
                    bucket.append((time.perf_counter() - started) * 1000)
            results[page] = (first, cached)
        return results
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--no-tagger", action="store_true", help="tagger-free build (no MiniLM)")
    args = parser.parse_args(argv)
    bench_dir = settings().state_dir / "bench" / "analytics"
    db = bench_dir / f"conversations_{args.conversations}.sqlite3"
    wrote = ensure_conversations(db, args.conversations)
    size_mb = db.stat().st_size / 1e6
    print(f"  synthetic tracker store: {args.conversations:,} conversations, {size_mb:.0f} MB"
          + (f" (written in {wrote:.1f}s)" if wrote else " (cached)"), flush=True)
    cache = bench_dir / "text_cache.sqlite3"
    if cache.exists():
        cache.unlink()
    tagger = not args.no_tagger
    for label in ("cold text cache", "warm text cache"):
        built, total, size = build_report(f"sqlite:///{db}", cache, tagger)
        print(f"  report ({label}{', SDG tagger and clustering' if tagger else ', tagger-free'}): dataset {built:.1f}s, "
              f"dataset + HTML {total:.1f}s ({size / 1e6:.1f} MB, target < 60s)", flush=True)
    state = bench_dir / "dashboard_state"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    (state / "analytics").mkdir()
    shutil.copy(cache, state / "analytics" / "text_cache.sqlite3")
    latencies = page_latencies(db, state, tagger)
    print(f"  dashboard pages over HTTP ({len(FILTERS)} filters each; target < 1000 ms):")
    for page, (first, cached) in latencies.items():
        print(f"    /{page:<14} first view p50 {statistics.median(first):6.1f} ms, max {max(first):6.1f} ms; "
              f"cached p50 {statistics.median(cached):5.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
