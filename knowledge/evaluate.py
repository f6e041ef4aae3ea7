"""`python -m knowledge.evaluate` — retrieval quality on the labelled sets in knowledge/eval/
(hit@1, hit@3, recall@10, MRR@10 for dense, BM25 and hybrid ranking), precision and recall of the
"no close match" decision on the unanswerable sets, and recall@10 of Chroma's HNSW index against
exact search, and top-1/top-3 of the SDG tagger on the SDG dev and test sets.

Labelled sets are `queries.jsonl` and `needs.jsonl` (when present): each line has `query`, `kind`
(optional: taken from the records), `filters`, and the relevant records as ids (`relevant` or
`expected`) or reference titles, mapped to ids through `reference_ids.json` when it exists.
Unanswerable sets are `unanswerable*.jsonl` (`query`, `kind`): needs the catalogue does not cover.
A hit is any relevant id in the top k. The recall check builds (once, then reuses) a synthetic
store under `<state_dir>/bench/`; `--skip-recall` leaves it out. `--sdg-only` prints the SDG
tagging section alone (it needs no store).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from knowledge.settings import settings

if TYPE_CHECKING:
    from knowledge.sdg_train import SdgScore

MODES = ("dense", "bm25", "hybrid")
MRR_DEPTH = 10
EVAL_DIR = Path(__file__).resolve().parent / "eval"
LABELLED_FILES = ("queries.jsonl", "needs.jsonl")
REFERENCE_IDS = EVAL_DIR / "reference_ids.json"
RECALL_DEPTH = 10
RECALL_RECORDS = 25_000
RECALL_QUERIES = 200
RECALL_K = 10


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    kind: str
    expected: tuple[str, ...]
    filters: dict


@dataclass(frozen=True)
class UnanswerableQuery:
    query: str
    kind: str


@dataclass
class ModeScore:
    hits1: int = 0
    hits3: int = 0
    reciprocal_ranks: float = 0.0
    recall10: float = 0.0
    misses3: list[tuple[LabelledQuery, list[str]]] = field(default_factory=list)

    def row(self, total: int) -> tuple[float, float, float, float]:
        return self.hits1 / total, self.hits3 / total, self.recall10 / total, self.reciprocal_ranks / total


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_queries(path: Path, known: dict[str, str] | None = None, titles: dict[str, str] | None = None) -> list[LabelledQuery]:
    """Labelled queries of one file. `known` maps ids to kinds (to check ids and infer `kind`);
    `titles` maps reference titles to ids. Labels naming nothing known are reported and left out."""
    if titles is None:
        titles = json.loads(REFERENCE_IDS.read_text(encoding="utf-8")) if REFERENCE_IDS.exists() else {}
    folded = {t.casefold().strip(): i for t, i in titles.items()}
    queries = []
    for number, raw in enumerate(_jsonl(path), start=1):
        labels = raw.get("relevant") or raw.get("expected") or raw.get("titles") or raw.get("relevant_titles") or []
        labels = [labels] if isinstance(labels, str) else labels
        ids = []
        for label in labels:
            rid = label if (known is None or label in known) else folded.get(str(label).casefold().strip())
            if rid is None:
                _log(f"{path.name}:{number}: {label!r} is neither a record id nor a title in {REFERENCE_IDS.name}")
            else:
                ids.append(rid)
        kind = raw.get("kind") or (known or {}).get(ids[0] if ids else "", "solution")
        if ids:
            queries.append(LabelledQuery(raw["query"], kind, tuple(dict.fromkeys(ids)), raw.get("filters") or {}))
    return queries


def load_unanswerable(path: Path) -> list[UnanswerableQuery]:
    return [UnanswerableQuery(raw["query"], raw.get("kind") or "solution") for raw in _jsonl(path)]


def labelled_sets(eval_dir: Path = EVAL_DIR, known: dict[str, str] | None = None) -> list[LabelledQuery]:
    queries: list[LabelledQuery] = []
    for name in LABELLED_FILES:
        if (eval_dir / name).exists():
            queries += load_queries(eval_dir / name, known)
    return queries


def unanswerable_sets(eval_dir: Path = EVAL_DIR) -> list[UnanswerableQuery]:
    """The independent `unanswerable.jsonl` when it exists, else the provisional dev set."""
    files = sorted(p for p in eval_dir.glob("unanswerable*.jsonl"))
    main = [p for p in files if p.name == "unanswerable.jsonl"]
    return [q for p in (main or files) for q in load_unanswerable(p)]


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
            score.recall10 += len(set(ids[:RECALL_DEPTH]) & set(item.expected)) / len(item.expected)
            if rank is None or rank > 3:
                score.misses3.append((item, ids[:3]))
    return scores


def top_relevance(retriever, query: str, kind: str, filters: dict | None = None) -> float:
    """The absolute relevance (best-chunk cosine) of the first hybrid result; 1.0 for a named
    partner, -1.0 when nothing comes back."""
    from knowledge.search import Filters

    results = retriever.search(query, kind=kind, top_k=1, filters=Filters(**(filters or {})))
    if not results:
        return -1.0
    return 1.0 if results[0].score >= 1.0 else results[0].dense


@dataclass(frozen=True)
class FloorScore:
    """The "no close match" decision: positives are the unanswerable needs."""

    threshold: float
    precision: float
    recall: float
    f1: float
    false_alarms: int  # answerable queries told "no close match"
    answerable: int
    unanswerable: int


def floor_score(answerable: Sequence[float], unanswerable: Sequence[float], threshold: float) -> FloorScore:
    a, u = np.asarray(answerable), np.asarray(unanswerable)
    tp = int((u < threshold).sum())
    fp = int((a < threshold).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / u.size if u.size else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return FloorScore(threshold, precision, recall, f1, fp, a.size, u.size)


def print_floor(score: FloorScore, out=sys.stdout) -> None:
    print(
        f"\n\"no close match\" at relevance floor {score.threshold:.3f}: precision {score.precision:.3f}, "
        f"recall {score.recall:.3f}, F1 {score.f1:.3f} ({score.unanswerable} unanswerable needs, "
        f"{score.false_alarms}/{score.answerable} answerable queries wrongly flagged)",
        file=out,
    )


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
    for index, name in enumerate(("hit@1", "hit@3", f"recall@{RECALL_DEPTH}", f"MRR@{MRR_DEPTH}")):
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


# -- SDG tagging ------------------------------------------------------------------------------
def sdg_quality(embedder) -> dict[str, dict[str, SdgScore]]:
    """Scores of the title-cosine baseline, the zero-shot tagger and the tagger with its learned
    layer on the SDG dev and test splits: {split: {scorer: SdgScore}}."""
    from knowledge.sdg import SdgTagger
    from knowledge.sdg_train import DEV, TEST, load_split, score, title_baseline

    zero_shot, learned = SdgTagger(embedder, model=None), SdgTagger(embedder)
    results = {}
    for name, path in (("dev", DEV), ("test", TEST)):
        examples = load_split(path)
        texts = [e.text for e in examples]
        results[name] = {
            "MiniLM title cosine": score(title_baseline(embedder, texts), examples),
            "zero-shot tagger (old)": score(zero_shot.logits(texts), examples),
            "tagger + learned layer": score(learned.logits(texts), examples),
        }
    return results


def print_sdg_quality(results, out=sys.stdout) -> None:
    from knowledge.sdg import MODEL_PATH

    print("\nSDG tagging (a hit at k: any labelled goal in the first k; primary: the first labelled goal)", file=out)
    print(f"{'split':<6}{'scorer':<26}{'top-1':>8}{'top-3':>8}{'prim@1':>8}{'prim@3':>8}", file=out)
    for split, scores in results.items():
        for scorer, s in scores.items():
            print(f"{split:<6}{scorer:<26}{s.top1:>8.3f}{s.top3:>8.3f}{s.primary1:>8.3f}{s.primary3:>8.3f}  ({s.count})", file=out)
    if MODEL_PATH.exists():
        cv = np.load(MODEL_PATH)["cv_dev"]
        print(
            f"the learned layer is fitted on the dev split; cross-validated there it scores top-1 {cv[0]:.3f}, "
            f"top-3 {cv[1]:.3f}, primary {cv[2]:.3f}/{cv[3]:.3f}. The test split is never tuned on.",
            file=out,
        )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.evaluate", description=__doc__)
    parser.add_argument("--store", help="store directory (default: GALAXY_STORE_DIR)")
    parser.add_argument("--queries", help="one labelled file instead of the sets in knowledge/eval/")
    parser.add_argument("--skip-recall", action="store_true", help="leave out the HNSW recall check")
    parser.add_argument("--recall-records", type=int, default=RECALL_RECORDS, help="size of the synthetic store")
    parser.add_argument("--sdg-only", action="store_true", help="only the SDG tagging section")
    args = parser.parse_args(argv)

    from knowledge.embedder import MiniLmEmbedder
    from knowledge.sdg import SdgTagger
    from knowledge.search import Retriever
    from knowledge.store import KnowledgeStore

    embedder = MiniLmEmbedder(settings().embed_backend)
    if args.sdg_only:
        print_sdg_quality(sdg_quality(embedder))
        return 0
    store = KnowledgeStore(Path(args.store or settings().store_dir), embedder)
    if store.current_generation() is None:
        print(f"error: no knowledge store at {store.root}; run `make store` first", file=sys.stderr)
        return 2
    retriever = Retriever(store, embedder, tagger=SdgTagger(embedder))
    known = {r.id: r.kind for r in retriever.records}
    queries = load_queries(Path(args.queries), known) if args.queries else labelled_sets(known=known)
    print_quality(queries, score_queries(retriever, queries))
    unanswerable = unanswerable_sets()
    if unanswerable:
        answerable = [top_relevance(retriever, q.query, q.kind, q.filters) for q in queries]
        missing = [top_relevance(retriever, q.query, q.kind) for q in unanswerable]
        print_floor(floor_score(answerable, missing, retriever.relevance.floor))
    print_sdg_quality(sdg_quality(embedder))

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
