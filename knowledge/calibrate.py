"""`python -m knowledge.calibrate` — chooses the fusion weight and the relevance floor by k-fold
cross-validation over the labelled sets and the unanswerable needs in knowledge/eval/, prints
what it chose with held-out scores, and writes them to knowledge/data/relevance.json.

Re-run it whenever the catalogue or the evaluation sets change; search reads the file at start-up.
- Fusion weight: for each fold, the weight with the best MRR@10 on the other folds is scored on it.
- Floor: the "no close match" decision (first result's best-chunk cosine below the floor) is a
  classifier whose positives are the unanswerable needs; for each fold, the floor with the best F1
  on the other folds is scored on it. The written values are those chosen on all the data.
- Needs in other languages (`foreign` in the file): the weights of the multilingual encoder and of
  MiniLM, and the floor on the encoder's cosine, chosen the same way on the cross-lingual dev sets
  (`queries_dev_{fr,ru,ar}.jsonl`, `unanswerable_dev_xx.jsonl`; never the held-out ones).
  `--foreign-only` re-chooses these and keeps the English values.
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
    cross_lingual_sets,
    cross_lingual_unanswerable,
    FloorScore,
    floor_score,
    labelled_sets,
    top_relevance,
    unanswerable_sets,
)
from knowledge.settings import settings

WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# (multilingual encoder, MiniLM) weights for needs in other languages; BM25 has the rest.
FOREIGN_WEIGHTS = tuple((m, d) for m in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0) for d in (0.0, 0.1, 0.2, 0.3) if m + d <= 1.0 + 1e-9)
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


def cross_validated_floor(answerable: np.ndarray, missing: np.ndarray, k: int, seed: int) -> dict:
    """The floor fitted on all top relevances, and its precision/recall at saying "no close match" when
    each fold's floor is fitted without that fold (answerable and unanswerable needs folded apart)."""
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
    return {
        "threshold": round(overall.threshold, 4),
        "fit_precision": round(overall.precision, 4),
        "fit_recall": round(overall.recall, 4),
        "cv_precision": round(precision, 4),
        "cv_recall": round(recall, 4),
        "cv_f1": round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
    }


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
        result.update(cross_validated_floor(answerable, missing, k, seed))
    else:
        log("no unanswerable needs in knowledge/eval/: the floor keeps its current value")
        result["threshold"] = original.floor
    retriever.relevance = RelevanceModel(result["dense_weight"], result["threshold"])
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def calibrate_foreign(retriever, *, k: int = FOLDS, seed: int = SEED, log=_log) -> dict:
    """Fusion weights and floor for needs in other languages, by cross-validation on the dev sets."""
    from dataclasses import replace

    if not retriever.cross_lingual:
        raise SystemExit("the store has no multilingual index: build it with GALAXY_MULTILINGUAL_SEARCH on")
    known = {r.id: r.kind for r in retriever.records}
    sets = cross_lingual_sets(known=known)
    queries = [q for lang in sorted(sets) for q in sets[lang]]
    unanswerable = cross_lingual_unanswerable()
    if not queries:
        raise SystemExit("no cross-lingual dev queries in knowledge/eval/")
    original = retriever.relevance
    rr: dict[tuple[float, float], np.ndarray] = {}
    for pair in FOREIGN_WEIGHTS:
        retriever.relevance = replace(original, foreign_multilingual_weight=pair[0], foreign_dense_weight=pair[1])
        rr[pair] = reciprocal_ranks(retriever, queries)
        log(f"multilingual {pair[0]:.1f}, MiniLM {pair[1]:.1f}, BM25 {1 - sum(pair):.1f}: MRR@{MRR_DEPTH} {rr[pair].mean():.3f}")

    def best(rows: np.ndarray) -> tuple[float, float]:
        # Ties go to more weight on the multilingual encoder (the only one that reads the query).
        return max(FOREIGN_WEIGHTS, key=lambda p: (round(float(rr[p][rows].mean()), 9), p[0], -p[1]))

    query_folds = folds(len(queries), k, seed)
    held_out_rr = np.zeros(len(queries))
    chosen = []
    for test in query_folds:
        pair = best(np.setdiff1d(np.arange(len(queries)), test))
        chosen.append(list(pair))
        held_out_rr[test] = rr[pair][test]
    pair = best(np.arange(len(queries)))
    retriever.relevance = replace(original, foreign_multilingual_weight=pair[0], foreign_dense_weight=pair[1])
    result: dict = {
        "multilingual_weight": pair[0],
        "dense_weight": pair[1],
        "cv_mrr": round(float(held_out_rr.mean()), 4),
        "weights_chosen_per_fold": chosen,
        "labelled_queries": {lang: len(v) for lang, v in sets.items()},
        "unanswerable_needs": len(unanswerable),
        "folds": k,
    }
    answerable = np.asarray([top_relevance(retriever, q.query, q.kind, q.filters) for q in queries])
    missing = np.asarray([top_relevance(retriever, q.query, q.kind) for q in unanswerable])
    if missing.size:
        result.update(cross_validated_floor(answerable, missing, k, seed))
    else:
        result["threshold"] = original.foreign_floor
    retriever.relevance = replace(retriever.relevance, foreign_floor=result["threshold"])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    from knowledge.search import RELEVANCE_FILE

    parser = argparse.ArgumentParser(prog="python -m knowledge.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store directory (default: a fresh store of GALAXY_CATALOGUE in a temporary directory)")
    parser.add_argument("--out", default=str(RELEVANCE_FILE), help="where to write the chosen values")
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    parser.add_argument("--foreign-only", action="store_true", help="re-choose only the values for needs in other languages")
    args = parser.parse_args(argv)

    from knowledge.catalogue import load_catalogue
    from knowledge.embedder import MiniLmEmbedder
    from knowledge.sdg import SdgTagger
    from knowledge.search import Retriever
    from knowledge.store import KnowledgeStore

    from knowledge.multilingual import shared_encoder
    from knowledge.search import RelevanceModel

    embedder = MiniLmEmbedder(settings().embed_backend)
    with tempfile.TemporaryDirectory(prefix="galaxy-calibrate-") as scratch:
        if args.store:
            store = KnowledgeStore(Path(args.store), embedder)
        else:
            store = KnowledgeStore(Path(scratch) / "store", embedder, shared_encoder())
            paths = [str(p) for p in settings().catalogue_paths]
            _log(f"building a store of {', '.join(paths)}")
            store.ingest(load_catalogue(paths))
        retriever = Retriever(store, embedder, tagger=SdgTagger(embedder))
        if args.foreign_only:
            result = json.loads(Path(args.out).read_text(encoding="utf-8")) if Path(args.out).exists() else {}
            retriever.relevance = RelevanceModel.load(Path(args.out))
        else:
            result = calibrate(retriever, k=args.folds)
        foreign = calibrate_foreign(retriever, k=args.folds) if retriever.cross_lingual else None
    if foreign is not None:
        result["foreign"] = foreign
        print(
            f"needs in other languages: multilingual weight {foreign['multilingual_weight']}, MiniLM {foreign['dense_weight']} "
            f"(held-out MRR@{MRR_DEPTH} {foreign['cv_mrr']:.3f}; per fold {foreign['weights_chosen_per_fold']})"
        )
        if "cv_precision" in foreign:
            print(
                f"cross-lingual floor {foreign['threshold']:.4f}: \"no close match\" held-out precision {foreign['cv_precision']:.3f}, "
                f"recall {foreign['cv_recall']:.3f}, F1 {foreign['cv_f1']:.3f} (on all data: precision {foreign['fit_precision']:.3f}, "
                f"recall {foreign['fit_recall']:.3f}; {foreign['labelled_queries']} labelled, {foreign['unanswerable_needs']} unanswerable)"
            )
    if args.foreign_only:
        if not args.dry_run:
            Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            print(f"written to {args.out}")
        return 0
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
