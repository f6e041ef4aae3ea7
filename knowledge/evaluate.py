"""`python -m knowledge.evaluate` — retrieval quality on the labelled queries (hit@1, hit@3, MRR@10
for dense, BM25 and hybrid ranking) and recall@10 of Chroma's HNSW index against exact search.

A hit is any expected id in the top k. The recall check builds (once, then reuses) a synthetic
store under `<state_dir>/bench/`; `--skip-recall` leaves it out.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.settings import settings

MODES = ("dense", "bm25", "hybrid")
MRR_DEPTH = 10
DEFAULT_QUERIES = Path(__file__).resolve().parent / "eval" / "queries.jsonl"
RECALL_RECORDS = 25_000
RECALL_QUERIES = 200
RECALL_K = 10


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    kind: str
    expected: tuple[str, ...]
    filters: dict


@dataclass
class ModeScore:
    hits1: int = 0
    hits3: int = 0
    reciprocal_ranks: float = 0.0
    misses3: list[tuple[LabelledQuery, list[str]]] = field(default_factory=list)

    def row(self, total: int) -> tuple[float, float, float]:
        return self.hits1 / total, self.hits3 / total, self.reciprocal_ranks / total


def load_queries(path: Path) -> list[LabelledQuery]:
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            queries.append(LabelledQuery(raw["query"], raw["kind"], tuple(raw["expected"]), raw.get("filters") or {}))
    return queries


def score_queries(retriever, queries: Sequence[LabelledQuery], modes: Sequence[str] = MODES) -> dict[str, ModeScore]:
    from knowledge.search import Filters

    scores = {mode: ModeScore() for mode in modes}
    for item in queries:
        filters = Filters(**item.filters)
        for mode in modes:
            ids = [r.id for r in retriever.search(item.query, kind=item.kind, top_k=MRR_DEPTH, filters=filters, mode=mode)]
            rank = next((i + 1 for i, rid in enumerate(ids) if rid in item.expected), None)
            score = scores[mode]
            score.hits1 += rank == 1
            score.hits3 += rank is not None and rank <= 3
            score.reciprocal_ranks += 1.0 / rank if rank else 0.0
            if rank is None or rank > 3:
                score.misses3.append((item, ids[:3]))
    return scores


def print_quality(queries: Sequence[LabelledQuery], scores: dict[str, ModeScore], out=sys.stdout) -> None:
    total = len(queries)
    kinds = {k: sum(1 for q in queries if q.kind == k) for k in ("solution", "partner")}
    filtered = sum(1 for q in queries if q.filters)
    print(
        f"{total} labelled queries ({kinds['solution']} solution, {kinds['partner']} partner; {filtered} with filters)",
        file=out,
    )
    modes = list(scores)
    print(f"{'metric':<10}" + "".join(f"{m:>10}" for m in modes), file=out)
    for index, name in enumerate(("hit@1", "hit@3", f"MRR@{MRR_DEPTH}")):
        print(f"{name:<10}" + "".join(f"{scores[m].row(total)[index]:>10.3f}" for m in modes), file=out)
    for name, attribute in (("hits@1", "hits1"), ("hits@3", "hits3")):
        print(f"{name:<10}" + "".join(f"{f'{getattr(scores[m], attribute)}/{total}':>10}" for m in modes), file=out)
    if "hybrid" in scores:
        misses = scores["hybrid"].misses3
        print(f"\nhybrid misses at 3 ({len(misses)}):", file=out)
        for item, got in misses:
            where = f" {item.filters}" if item.filters else ""
            print(f"  [{item.kind}] {item.query!r}{where}\n      expected {list(item.expected)}  got {got}", file=out)


# -- recall of the vector index ---------------------------------------------------------------
def recall_queries(queries: Sequence[LabelledQuery], records, count: int = RECALL_QUERIES, seed: int = 7) -> list[str]:
    """The labelled queries' texts, topped up with titles of random synthetic records."""
    texts = list(dict.fromkeys(q.query for q in queries))[:count]
    rng = np.random.default_rng(seed)
    while len(texts) < count:
        title = records[int(rng.integers(len(records)))].title
        texts.append(title.replace("[synthetic]", "").strip())
    return texts


def ann_recall(store, query_vectors: np.ndarray, *, k: int = RECALL_K) -> tuple[float, float, float]:
    """(recall@k of store.query_ann against exact cosine top-k over the solutions,
    HNSW ms p50, exact numpy ms p50)."""
    snapshot = store.snapshot()
    rows = [i for i, r in enumerate(snapshot.records) if r.kind == "solution"]
    ids = np.array([snapshot.records[i].id for i in rows])
    matrix = np.ascontiguousarray(snapshot.embeddings[rows])
    found = 0
    ann_ms: list[float] = []
    exact_ms: list[float] = []
    for vector in query_vectors:
        started = time.perf_counter()
        scores = np.einsum("ij,j->i", matrix, vector)
        exact = set(ids[np.argpartition(-scores, k)[:k]])
        exact_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        approximate = {i for i, _ in store.query_ann("solution", vector, k)}
        ann_ms.append((time.perf_counter() - started) * 1000)
        found += len(exact & approximate)
    return found / (k * len(query_vectors)), float(np.median(ann_ms)), float(np.median(exact_ms))


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.evaluate", description=__doc__)
    parser.add_argument("--store", help="store directory (default: GALAXY_STORE_DIR)")
    parser.add_argument("--queries", default=str(DEFAULT_QUERIES), help="labelled queries (JSONL)")
    parser.add_argument("--skip-recall", action="store_true", help="leave out the HNSW recall check")
    parser.add_argument("--recall-records", type=int, default=RECALL_RECORDS, help="size of the synthetic store")
    args = parser.parse_args(argv)

    from knowledge.embedder import MiniLmEmbedder
    from knowledge.sdg import SdgTagger
    from knowledge.search import Retriever
    from knowledge.store import KnowledgeStore

    embedder = MiniLmEmbedder(settings().embed_backend)
    store = KnowledgeStore(Path(args.store or settings().store_dir), embedder)
    if store.current_generation() is None:
        print(f"error: no knowledge store at {store.root}; run `make store` first", file=sys.stderr)
        return 2
    retriever = Retriever(store, embedder, tagger=SdgTagger(embedder))
    queries = load_queries(Path(args.queries))
    print_quality(queries, score_queries(retriever, queries))

    if not args.skip_recall:
        from knowledge.synthetic import generate, synthetic_store

        # The synthetic store is embedded with ONNX Runtime (same vectors as torch, faster).
        onnx = MiniLmEmbedder("onnx") if embedder.backend != "onnx" else embedder
        synthetic = synthetic_store(args.recall_records, onnx, log=_log)
        texts = recall_queries(queries, generate(args.recall_records))
        recall, ann_ms, exact_ms = ann_recall(synthetic, onnx.encode(texts))
        print(
            f"\nHNSW recall@{RECALL_K} against exact search: {recall:.3f} "
            f"({len(texts)} queries over the solutions of {args.recall_records} synthetic records; "
            f"p50 per query: HNSW {ann_ms:.2f} ms, exact numpy {exact_ms:.2f} ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
