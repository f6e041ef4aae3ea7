"""`make bench` (cross-lingual part): what needs in other languages cost — language
identification per query, the multilingual encoder per query, whole searches in English and in
French/Russian/Arabic on the seed store, and building the multilingual index of the seed catalogue
(time and memory)."""
from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.evaluate import EVAL_DIR, LANGUAGES, _jsonl


def _ms(samples: Sequence[float]) -> str:
    values = np.asarray(samples)
    return f"p50 {np.percentile(values, 50):.2f} ms, p95 {np.percentile(values, 95):.2f} ms"


def _queries() -> tuple[list[str], dict[str, list[str]]]:
    english = [row["query"] for row in _jsonl(EVAL_DIR / "queries.jsonl")][:100]
    foreign = {lang: [row["query"] for row in _jsonl(EVAL_DIR / f"queries_dev_{lang}.jsonl")] for lang in LANGUAGES if (EVAL_DIR / f"queries_dev_{lang}.jsonl").exists()}
    return english, foreign


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.catalogue import load_catalogue
    from knowledge.embedder import MiniLmEmbedder
    from knowledge.multilingual import INDEX_FILE, MultilingualEncoder, query_language, write_index
    from knowledge.sdg import SdgTagger
    from knowledge.search import Retriever
    from knowledge.settings import settings
    from knowledge.store import KnowledgeStore, record_chunks

    english, foreign = _queries()
    everything = english + [q for qs in foreign.values() for q in qs]

    query_language.cache_clear()
    query_language("warm up the identifier")
    samples = []
    for text in everything:
        query_language.cache_clear()
        started = time.perf_counter()
        query_language(text)
        samples.append((time.perf_counter() - started) * 1000)
    print(f"language identification (script, then fastText lite): {_ms(samples)} over {len(everything)} queries")

    before = _rss_mb()
    started = time.perf_counter()
    encoder = MultilingualEncoder()
    encoder.warm()
    load_seconds = time.perf_counter() - started
    samples, cpu = [], []
    for text in everything:
        encoder.clear_cache()
        started, cpu_started = time.perf_counter(), time.process_time()
        encoder.encode([text])
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    print(
        f"multilingual encoder (USE v3, 1 thread): loaded in {load_seconds:.1f} s (+{_rss_mb() - before:.0f} MB peak RSS); "
        f"per query {_ms(samples)}; CPU {_ms(cpu)}"
    )

    records = load_catalogue([str(p) for p in settings().catalogue_paths])
    chunks = [(r.id, str(i), record_chunks(r)) for i, r in enumerate(records)]
    with tempfile.TemporaryDirectory(prefix="galaxy-bench-xl-") as scratch:
        before = _rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        write_index(Path(scratch), chunks, encoder)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        size = (Path(scratch) / INDEX_FILE).stat().st_size / 1e6
        texts = sum(len(c) for _, _, c in chunks)
        print(
            f"multilingual index of the seed catalogue: {len(records)} records, {texts} chunks in {seconds:.1f} s "
            f"({cpu_seconds:.1f} s CPU), {size:.2f} MB on disk, +{_rss_mb() - before:.0f} MB peak RSS"
        )

    embedder = MiniLmEmbedder(settings().embed_backend)
    store = KnowledgeStore(settings().store_dir, embedder)
    if store.current_generation() is None:
        print("no knowledge store: run `make store` for the search latencies")
        return 0
    for label, multilingual in (("English-only retriever", None), ("with the multilingual index", encoder)):
        retriever = Retriever(store, embedder, tagger=SdgTagger(embedder), multilingual=multilingual)
        retriever.warm()
        groups = {"en": english} | (foreign if retriever.cross_lingual else {})
        for lang, texts in groups.items():
            samples, cpu = [], []
            for text in texts:
                embedder.clear_cache()
                encoder.clear_cache()
                query_language.cache_clear()
                started, cpu_started = time.perf_counter(), time.process_time()
                retriever.search(text, top_k=5)
                samples.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            # CPU time too: on a shared machine wall-clock latency mostly measures the neighbours.
            print(f"search, {label}, {lang} needs ({len(texts)}): {_ms(samples)}; CPU {_ms(cpu)} (all encoders' caches cleared)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
