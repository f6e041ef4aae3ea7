"""`python -m knowledge.calibrate` — chooses the fusion weight and the relevance floor by k-fold
cross-validation over the labelled sets and the unanswerable needs in knowledge/eval/, prints
what it chose with held-out scores, and writes them to knowledge/data/relevance.json.

Re-run it whenever the catalogue or the evaluation sets change; search reads the file at start-up.
- Fusion weight: for each fold, the weight with the best MRR@10 on the other folds is scored on it.
- Floor: the "no close match" decision (first result's best-chunk cosine below the floor) is a
  classifier whose positives are the unanswerable needs; for each fold, the floor with the best F1
  on the other folds is scored on it. The written values are those chosen on all the data.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.evaluate import (
    MRR_DEPTH,
    FloorScore,
    floor_score,
    labelled_sets,
    top_relevance,
    unanswerable_sets,
)
from knowledge.settings import settings

WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
FOLDS = 5
SEED = 12


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def reciprocal_ranks(retriever, queries) -> np.ndarray:
    from knowledge.search import Filters

    ranks = []
    for item in queries:
        ids = [r.id for r in retriever.search(item.query, kind=item.kind, top_k=MRR_DEPTH, filters=Filters(**item.filters))]
        rank = next((i + 1 for i, rid in enumerate(ids) if rid in item.expected), None)
        ranks.append(1.0 / rank if rank else 0.0)
    return np.asarray(ranks)


def folds(count: int, k: int, seed: int) -> list[np.ndarray]:
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return [np.asarray(sorted(order[i::k]), dtype=np.int64) for i in range(k)]


def best_weight(rr: dict[float, np.ndarray], rows: np.ndarray) -> float:
    # Ties go to the weight nearest the middle of the grid (no reason to prefer an extreme).
    middle = WEIGHTS[len(WEIGHTS) // 2]
    return max(WEIGHTS, key=lambda w: (round(float(rr[w][rows].mean()), 9), -abs(w - middle)))


def best_floor(answerable: np.ndarray, unanswerable: np.ndarray) -> FloorScore:
    values = np.unique(np.concatenate([answerable, unanswerable]))
    candidates = (values[:-1] + values[1:]) / 2 if values.size > 1 else values
    # F1 first; among equals, the floor with fewer answerable queries flagged, then the lower one.
    return max(
        (floor_score(answerable, unanswerable, float(t)) for t in candidates),
        key=lambda s: (round(s.f1, 9), -s.false_alarms, -s.threshold),
    )


def calibrate(retriever, *, k: int = FOLDS, seed: int = SEED, log=_log) -> dict:
    from knowledge.search import RelevanceModel

    known = {r.id: r.kind for r in retriever.records}
    queries = labelled_sets(known=known)
    unanswerable = unanswerable_sets()
    if not queries:
        raise SystemExit("no labelled queries in knowledge/eval/")
    started = time.perf_counter()
    original = retriever.relevance
    rr: dict[float, np.ndarray] = {}
    for weight in WEIGHTS:
        retriever.relevance = RelevanceModel(weight, original.floor)
        rr[weight] = reciprocal_ranks(retriever, queries)
        log(f"dense weight {weight:.1f}: MRR@{MRR_DEPTH} {rr[weight].mean():.3f}")
    query_folds = folds(len(queries), k, seed)
    held_out_rr = np.zeros(len(queries))
    chosen_weights = []
    for test in query_folds:
        train = np.setdiff1d(np.arange(len(queries)), test)
        weight = best_weight(rr, train)
        chosen_weights.append(weight)
        held_out_rr[test] = rr[weight][test]
    weight = best_weight(rr, np.arange(len(queries)))

    retriever.relevance = RelevanceModel(weight, original.floor)
    answerable = np.asarray([top_relevance(retriever, q.query, q.kind, q.filters) for q in queries])
    missing = np.asarray([top_relevance(retriever, q.query, q.kind) for q in unanswerable])
    result: dict = {
        "dense_weight": weight,
        "cv_mrr": round(float(held_out_rr.mean()), 4),
        "mrr_by_weight": {str(w): round(float(v.mean()), 4) for w, v in rr.items()},
        "weights_chosen_per_fold": chosen_weights,
        "labelled_queries": len(queries),
        "unanswerable_needs": len(unanswerable),
        "folds": k,
    }
    if missing.size:
        answer_folds, missing_folds = folds(len(answerable), k, seed), folds(len(missing), k, seed + 1)
        tp = fp = 0
        for a_test, m_test in zip(answer_folds, missing_folds):
            a_train = np.setdiff1d(np.arange(answerable.size), a_test)
            m_train = np.setdiff1d(np.arange(missing.size), m_test)
            floor = best_floor(answerable[a_train], missing[m_train]).threshold
            tp += int((missing[m_test] < floor).sum())
            fp += int((answerable[a_test] < floor).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / missing.size
        overall = best_floor(answerable, missing)
        result.update(
            threshold=round(overall.threshold, 4),
            fit_precision=round(overall.precision, 4),
            fit_recall=round(overall.recall, 4),
            cv_precision=round(precision, 4),
            cv_recall=round(recall, 4),
            cv_f1=round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
        )
    else:
        log("no unanswerable needs in knowledge/eval/: the floor keeps its current value")
        result["threshold"] = original.floor
    retriever.relevance = RelevanceModel(result["dense_weight"], result["threshold"])
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.search import RELEVANCE_FILE

    parser = argparse.ArgumentParser(prog="python -m knowledge.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store directory (default: a fresh store of GALAXY_CATALOGUE in a temporary directory)")
    parser.add_argument("--out", default=str(RELEVANCE_FILE), help="where to write the chosen values")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)

    from knowledge.catalogue import load_catalogue
    from knowledge.embedder import MiniLmEmbedder
    from knowledge.sdg import SdgTagger
    from knowledge.search import Retriever
    from knowledge.store import KnowledgeStore

    embedder = MiniLmEmbedder(settings().embed_backend)
    with tempfile.TemporaryDirectory(prefix="galaxy-calibrate-") as scratch:
        if args.store:
            store = KnowledgeStore(Path(args.store), embedder)
        else:
            store = KnowledgeStore(Path(scratch) / "store", embedder)
            paths = [str(p) for p in settings().catalogue_paths]
            _log(f"building a store of {', '.join(paths)}")
            store.ingest(load_catalogue(paths))
        retriever = Retriever(store, embedder, tagger=SdgTagger(embedder))
        result = calibrate(retriever, k=args.folds)
    print(
        f"dense weight {result['dense_weight']} (held-out MRR@{MRR_DEPTH} {result['cv_mrr']:.3f}; "
        f"per fold {result['weights_chosen_per_fold']})"
    )
    if "cv_precision" in result:
        print(
            f"relevance floor {result['threshold']:.4f}: \"no close match\" held-out precision {result['cv_precision']:.3f}, "
            f"recall {result['cv_recall']:.3f}, F1 {result['cv_f1']:.3f} "
            f"(on all data: precision {result['fit_precision']:.3f}, recall {result['fit_recall']:.3f}; "
            f"{result['labelled_queries']} labelled, {result['unanswerable_needs']} unanswerable, {result['folds']} folds)"
        )
    if not args.dry_run:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
