"""`python -m bench.knowledge` — speed and memory of the knowledge package, printed in one run.

Measures query embedding (PyTorch, ONNX Runtime, raw ONNX session), ingestion throughput against
the model's raw batch throughput, top-5 search latency at 1k/10k/100k synthetic records with and
without filters (with the query embedding and without it), process memory and store sizes; then
the same figures with the real seed catalogue mixed into the synthetic records, with the labelled
queries' hybrid hit@3 among those distractors.
Synthetic stores and their vectors are cached under `<state_dir>/bench/`, so only the first run
pays for embedding 100k texts.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from knowledge.settings import settings

SIZES = (1_000, 10_000, 100_000)
QUERIES = Path(__file__).resolve().parent.parent / "knowledge" / "eval" / "queries.jsonl"
TARGET_FILTERED_P95_MS = 10.0
TARGET_INGEST_SHARE = 0.9
TARGET_ONNX_OVERHEAD = 1.2
TARGET_RETRIEVER_MB = 300  # at 100k records (issue #13)
TARGET_RETRIEVER_LOAD_S = 3.0


def log(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float]:
    return float(np.percentile(samples_ms, 50)), float(np.percentile(samples_ms, 95))


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    return memory_mb()["VmRSS"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_mb() -> dict[str, float]:
    """This process's resident memory in MB: all of it, the private (anonymous) part and the part
    backed by files (memory-mapped vectors and indexes, shared with every process mapping them)."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile"):
                found[name] = int(value.split()[0]) / 1024
    return found


def retriever_memory(root: Path, queries: Sequence[str]) -> dict[str, float]:
    """What one more process (a restart, another worker) pays for the store at `root`: load time,
    and resident memory after searching every query with and without filters, in both kinds, as
    measured in a fresh interpreter (`--memory-of`), so nothing this bench holds is counted."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "bench.knowledge", "--memory-of", str(root), "--queries", str(len(queries))],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _memory_of(root: Path, queries: Sequence[str]) -> dict[str, float]:
    from knowledge.embedder import MiniLmEmbedder
    from knowledge.search import Filters, Retriever
    from knowledge.store import KnowledgeStore

    embedder = MiniLmEmbedder("onnx")
    embedder.encode(["warm up"])
    store = KnowledgeStore(root, embedder)
    before = memory_mb()
    started = time.perf_counter()
    retriever = Retriever(store, embedder, multilingual=None)
    load_seconds = time.perf_counter() - started
    rng = random.Random(7)
    for query in queries:
        for filters in (Filters(), Filters(sdg=rng.randint(1, 17)), Filters(region=rng.choice(["africa", "asia_pacific", "arab_states"]))):
            retriever.search(query, kind="solution", top_k=5, filters=filters)
        retriever.search(query, kind="partner", top_k=5)
    after = memory_mb()
    return {
        "load_seconds": round(load_seconds, 3),
        "searches": 4 * len(queries),
        **{key: round(after[key] - before[key], 1) for key in ("VmRSS", "RssAnon", "RssFile")},
    }


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def bench_queries(limit: int) -> list[str]:
    lines = QUERIES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["query"] for line in lines if line.strip()][:limit]


class MemoEmbedder:
    """Serves vectors computed before the timing starts, to time search without the embedding."""

    def __init__(self, embedder, texts: Sequence[str]) -> None:
        self.dimension = embedder.dimension
        self._embedder = embedder
        self._memo = {t: v for t, v in zip(texts, embedder.encode(list(texts)))}

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if all(t in self._memo for t in texts):
            return np.vstack([self._memo[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        return self._embedder.encode(texts, batch_size=batch_size, progress=progress)


class TimedEmbedder:
    """Adds up the time spent embedding, to split ingestion into model time and store overhead."""

    def __init__(self, embedder) -> None:
        self.dimension = embedder.dimension
        self.backend = getattr(embedder, "backend", "?")
        self._embedder = embedder
        self.seconds = 0.0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._embedder.encode(texts, batch_size=batch_size, progress=progress)
        finally:
            self.seconds += time.perf_counter() - started


# -- sections ----------------------------------------------------------------------------------
def query_embedding(queries: Sequence[str]) -> dict[str, object]:
    from knowledge.embedder import MiniLmEmbedder, model_path
    from knowledge.onnx_runtime import OnnxMiniLm

    print(f"\n== query embedding (one query per call, ms; {len(queries)} queries x 3 rounds) ==")
    torch_embedder = MiniLmEmbedder("torch")
    onnx_embedder = MiniLmEmbedder("onnx")
    model: OnnxMiniLm = onnx_embedder._model
    feeds = {q: model.features([q]) for q in queries}  # tokenised beforehand: the session alone
    one, two = (OnnxMiniLm(model_path(), query_threads=n, batch_threads=n) for n in (1, 2))
    variants: dict[str, Callable[[str], object]] = {
        "torch (MiniLmEmbedder.encode)": lambda q: torch_embedder.encode([q]),
        "onnx (MiniLmEmbedder.encode)": lambda q: onnx_embedder.encode([q]),
        "raw onnxruntime session.run": lambda q: model.session.run(None, feeds[q]),
        "onnx, intra_op threads=1": lambda q: one.encode([q]),
        "onnx, intra_op threads=2": lambda q: two.encode([q]),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    # Each variant runs all queries in a block (interleaving query by query made every variant
    # pay for the caches the previous one evicted), and the blocks are repeated in three rounds
    # so a change in the machine's load is shared between them.
    for _ in range(3):
        for name, call in variants.items():
            call(queries[0])
            for query in queries:
                torch_embedder.clear_cache()
                onnx_embedder.clear_cache()
                started = time.perf_counter()
                call(query)
                samples[name].append((time.perf_counter() - started) * 1000)
    p50 = {name: percentiles(values)[0] for name, values in samples.items()}
    for name, values in samples.items():
        print(f"  {name:<34} p50 {percentiles(values)[0]:7.2f}   p95 {percentiles(values)[1]:7.2f}")
    torch_p50, onnx_p50, raw_p50 = (p50[name] for name in list(variants)[:3])
    overhead = onnx_p50 / raw_p50 if raw_p50 else float("nan")
    print(
        f"  onnx is {torch_p50 / onnx_p50:.1f}x faster than torch; onnx / raw session = {overhead:.2f}x "
        f"(target <= {TARGET_ONNX_OVERHEAD}x: {'met' if overhead <= TARGET_ONNX_OVERHEAD else 'MISSED'})"
    )
    return {"torch": torch_embedder, "onnx": onnx_embedder}


def ingestion(embedder, count: int) -> None:
    from knowledge.store import KnowledgeStore
    from knowledge.synthetic import generate

    print(f"\n== ingestion of {count} synthetic records ({getattr(embedder, 'backend', '?')} backend) ==")
    records = generate(count, seed=4242)  # another stream than the cached stores: nothing is reused
    texts = [r.text() for r in records]
    embedder.encode(texts[:64])

    def raw_pass() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        embedder.encode(texts, batch_size=64)
        return time.perf_counter() - started, time.process_time() - cpu

    before = raw_pass()
    root = settings().state_dir / "bench" / f"ingest-{os.getpid()}"
    timed_embedder = TimedEmbedder(embedder)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        report = KnowledgeStore(root, timed_embedder).ingest(records)
        ingest_seconds, ingest_cpu = time.perf_counter() - started, time.process_time() - cpu
        size = disk_mb(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    # Raw throughput is measured before and after the import, so a change in the machine's load
    # during the run is shared fairly between the two numbers.
    after = raw_pass()
    raw_seconds, raw_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    raw_rate, ingest_rate = count / raw_seconds, count / ingest_seconds
    share, cpu_share = ingest_rate / raw_rate, raw_cpu / ingest_cpu
    print(
        f"  raw embedder.encode       {raw_rate:8.1f} texts/s   "
        f"(mean of {before[0]:.1f} s before and {after[0]:.1f} s after the import; CPU {raw_cpu:.1f} s)"
    )
    print(
        f"  KnowledgeStore.ingest     {ingest_rate:8.1f} records/s ({ingest_seconds:.1f} s, CPU {ingest_cpu:.1f} s; "
        f"{report.added} added, store {size:.0f} MB)"
    )
    verdict = lambda value: "met" if value >= TARGET_INGEST_SHARE else "MISSED"  # noqa: E731
    print(
        f"  ingestion = {share:.0%} of raw embedding throughput by wall clock ({verdict(share)}), "
        f"{cpu_share:.0%} by CPU time ({verdict(cpu_share)}); target >= {TARGET_INGEST_SHARE:.0%}"
    )
    # Other processes on a shared machine slow one run more than the other; this split and the
    # CPU-time ratio do not depend on them.
    overhead = ingest_seconds - timed_embedder.seconds
    inside = timed_embedder.seconds / ingest_seconds
    print(
        f"  inside ingest: embedding {timed_embedder.seconds:.1f} s, everything else {overhead:.1f} s "
        f"(embedding = {inside:.0%} of ingest time, so ingestion runs at {inside:.0%} of the embedding "
        f"speed of the same run: {verdict(inside)})"
    )


@dataclass
class FilterCase:
    name: str
    make: Callable[[random.Random, list], object]


def filter_cases():
    from knowledge.search import Filters

    def pick(rng: random.Random, solutions: list, field: str):
        # A random record's value: filters are drawn as often as values occur in the catalogue.
        while True:
            record = rng.choice(solutions)
            values = getattr(record, field)
            if values:
                return rng.choice(values)

    return [
        FilterCase("none", lambda rng, s: Filters()),
        FilterCase("sdg", lambda rng, s: Filters(sdg=pick(rng, s, "sdgs"))),
        FilterCase("country", lambda rng, s: Filters(country=pick(rng, s, "countries"))),
        FilterCase("region", lambda rng, s: Filters(region=pick(rng, s, "regions"))),
    ]


def seed_records():
    from knowledge.catalogue import load_catalogue

    return load_catalogue([str(p) for p in settings().catalogue_paths])


def mixed_store(size: int, embedder, log=log):
    """The seed catalogue plus synthetic records up to `size`, built once under `<state_dir>/bench/`
    (a new directory when the catalogue changes)."""
    from knowledge.catalogue import content_hash
    from knowledge.store import KnowledgeStore
    from knowledge.synthetic import SEED, KnownVectors, generate, synthetic_vectors

    real = seed_records()
    tag = hashlib.sha256("".join(content_hash(r) for r in real).encode()).hexdigest()[:10]
    root = settings().state_dir / "bench" / f"mixed-{SEED}-{size}-{tag}"
    store = KnowledgeStore(root, embedder)
    if store.current_generation() is None:
        count = max(size - len(real), 0)
        synthetic = generate(count)
        vectors = synthetic_vectors(count, embedder, log=log)
        log(f"building the {size}-record mixed store in {root} (once)")
        KnowledgeStore(root, KnownVectors([r.text() for r in synthetic], vectors, embedder)).ingest(real + synthetic)
    return store


def search_latency(embedder, queries: Sequence[str], sizes: Sequence[int], *, mixed: bool = False) -> list[tuple[int, str, float, float]]:
    from knowledge.sdg import SdgTagger
    from knowledge.search import ANN_THRESHOLD, Retriever
    from knowledge.synthetic import synthetic_store

    what = "the seed catalogue mixed into synthetic records" if mixed else "synthetic records"
    print(f"\n== top-5 hybrid search latency over {what} (ms; {len(queries)} queries per row; {embedder.backend} query embedding) ==")
    print(f"  {'records':>8} {'filter':<8} {'rows':>7} {'with embedding':>22} {'without embedding':>22}")
    print(f"  {'':>8} {'':<8} {'':>7} {'p50':>10} {'p95':>11} {'p50':>10} {'p95':>11}")
    memo = MemoEmbedder(embedder, queries)
    tagger_live = SdgTagger(embedder)
    tagger_memo = SdgTagger(memo)
    results = []
    for size in sizes:
        store = mixed_store(size, embedder) if mixed else synthetic_store(size, embedder, log=log)
        rss_before, _ = rss_mb()
        started = time.perf_counter()
        retriever = Retriever(store, embedder, tagger=tagger_live)
        load_seconds = time.perf_counter() - started
        rss_retriever = rss_mb()[0] - rss_before
        # What a restart or another action server pays: the generation's snapshot cache exists now.
        started = time.perf_counter()
        Retriever(store, embedder, tagger=tagger_live)
        reload_seconds = time.perf_counter() - started
        solutions = [r for r in retriever.records if r.kind == "solution"]
        for case in filter_cases():
            rng = random.Random(size)
            filters = [case.make(rng, solutions) for _ in queries]
            rows = np.mean([retriever.postings.rows("solution", f.validated()).size for f in filters])
            retriever.search(queries[0], top_k=5, filters=filters[0])  # warm caches
            # Each query is new to the embedder, as a user's would be.
            retriever.embedder, retriever.tagger = embedder, tagger_live
            with_embedding = [_time_search(retriever, q, f, reset=embedder.clear_cache) for q, f in zip(queries, filters)]
            retriever.embedder, retriever.tagger = memo, tagger_memo
            without = [_time_search(retriever, q, f) for q, f in zip(queries, filters)]
            (a50, a95), (b50, b95) = percentiles(with_embedding), percentiles(without)
            results.append((size, case.name, b95, a95))
            note = " (HNSW)" if case.name == "none" and len(solutions) > ANN_THRESHOLD else ""
            print(f"  {size:>8} {case.name:<8} {rows:>7.0f} {a50:>10.2f} {a95:>11.2f} {b50:>10.2f} {b95:>11.2f}{note}")
        current, peak = rss_mb()
        print(
            f"  {size:>8} store {disk_mb(store.root):.0f} MB on disk; Retriever loads and indexes it in {load_seconds:.1f} s "
            f"({reload_seconds:.1f} s again from the snapshot cache) "
            f"and holds {rss_retriever:.0f} MB; process RSS {current:.0f} MB (peak {peak:.0f} MB)"
        )
        if not mixed:
            fresh = retriever_memory(store.root, queries)
            verdict = ""
            if size >= 100_000:
                met = fresh["VmRSS"] <= TARGET_RETRIEVER_MB and fresh["load_seconds"] <= TARGET_RETRIEVER_LOAD_S
                verdict = f"; target <= {TARGET_RETRIEVER_MB} MB and <= {TARGET_RETRIEVER_LOAD_S:.0f} s: {'met' if met else 'MISSED'}"
            print(
                f"  {size:>8} one more process (a restart, another worker) loads it in {fresh['load_seconds']:.2f} s and, after "
                f"{fresh['searches']} searches, holds {fresh['VmRSS']:.0f} MB more: {fresh['RssAnon']:.0f} MB private, "
                f"{fresh['RssFile']:.0f} MB memory-mapped files shared by every process on the machine{verdict}"
            )
        if mixed:
            from knowledge.evaluate import labelled_sets, score_queries

            retriever.embedder, retriever.tagger = embedder, tagger_live
            labelled = labelled_sets(known={r.id: r.kind for r in retriever.records})
            started = time.perf_counter()
            score = score_queries(retriever, labelled, modes=("hybrid",))["hybrid"]
            print(
                f"  {size:>8} labelled queries among the distractors: hybrid hit@3 {score.hits3 / len(labelled):.3f}, "
                f"hit@1 {score.hits1 / len(labelled):.3f} ({len(labelled)} queries in {time.perf_counter() - started:.0f} s)"
            )
        del retriever
    return results


def _time_search(retriever, query: str, filters, reset: Callable[[], None] | None = None) -> float:
    if reset:
        reset()
    started = time.perf_counter()
    retriever.search(query, kind="solution", top_k=5, filters=filters)
    return (time.perf_counter() - started) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.knowledge", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="catalogue sizes for search latency")
    parser.add_argument("--ingest", type=int, default=10_000, help="records for the ingestion measurement (0 skips it)")
    parser.add_argument("--queries", type=int, default=100, help="queries per latency row")
    parser.add_argument("--no-mixed", action="store_true", help="leave out the figures with the real catalogue mixed in")
    parser.add_argument("--memory-of", type=Path, help=argparse.SUPPRESS)  # the fresh process of `retriever_memory`
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    queries = bench_queries(args.queries)
    if args.memory_of:
        print(json.dumps(_memory_of(args.memory_of, queries)))
        return 0
    load = os.getloadavg()
    print(f"bench.knowledge on {os.cpu_count()} cores (load average {load[0]:.1f}, {load[1]:.1f}); state in {settings().state_dir}")
    started = time.perf_counter()
    embedders = query_embedding(queries)
    onnx = embedders["onnx"]
    del embedders["torch"]
    if args.ingest:
        ingestion(onnx, args.ingest)
    results = search_latency(onnx, queries, sizes) if sizes else []
    if sizes and not args.no_mixed:
        search_latency(onnx, queries, sizes, mixed=True)
    filtered = [p95 for size, name, p95, _ in results if size == max(sizes) and name != "none"]
    if filtered:
        worst = max(filtered)
        print(
            f"\nfiltered top-5 at {max(sizes)} records, worst p95 without embedding: {worst:.2f} ms "
            f"(target <= {TARGET_FILTERED_P95_MS:.0f} ms: {'met' if worst <= TARGET_FILTERED_P95_MS else 'MISSED'})"
        )
    current, peak = rss_mb()
    print(f"process RSS at the end {current:.0f} MB, peak {peak:.0f} MB; bench took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
