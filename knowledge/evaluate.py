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

Cross-lingual sets (needs in French, Russian, Arabic against the English catalogue), per language:
`queries_dev_{lang}.jsonl` (written for tuning: `python -m knowledge.calibrate` fits on them) and
the independent held-out `queries_{lang}.jsonl` (never tuned on), scored by language for MiniLM,
BM25, the multilingual encoder alone and hybrid; `unanswerable_dev_xx.jsonl` and
`unanswerable_{lang}.jsonl` are their unanswerable needs (`--xl-dir` reads the sets elsewhere).
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
CROSS_LINGUAL_MODES = ("dense", "bm25", "multilingual", "hybrid")
LANGUAGES = ("fr", "ru", "ar")
CROSS_LINGUAL_UNANSWERABLE_DEV = "unanswerable_dev_xx.jsonl"
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
    """The independent `unanswerable.jsonl` when it exists, else the provisional dev set (English;
    the cross-lingual ones are `cross_lingual_unanswerable`)."""
    files = sorted(p for p in eval_dir.glob("unanswerable*.jsonl") if not _cross_lingual_name(p.name))
    main = [p for p in files if p.name == "unanswerable.jsonl"]
    return [q for p in (main or files) for q in load_unanswerable(p)]


def _cross_lingual_name(name: str) -> bool:
    return name == CROSS_LINGUAL_UNANSWERABLE_DEV or any(name == f"unanswerable_{lang}.jsonl" for lang in LANGUAGES)


def cross_lingual_sets(eval_dir: Path = EVAL_DIR, known: dict[str, str] | None = None, *, held_out: bool = False) -> dict[str, list[LabelledQuery]]:
    """Per language, the dev queries (`queries_dev_{lang}.jsonl`) or the held-out ones (`queries_{lang}.jsonl`)."""
    sets = {}
    for lang in LANGUAGES:
        path = eval_dir / (f"queries_{lang}.jsonl" if held_out else f"queries_dev_{lang}.jsonl")
        if path.exists():
            sets[lang] = load_queries(path, known)
    return sets


def cross_lingual_unanswerable(eval_dir: Path = EVAL_DIR, *, held_out: bool = False) -> list[UnanswerableQuery]:
    """Needs in other languages the catalogue does not cover: the dev file, or the held-out ones;
    rows of the labelled files with an empty `expected` count too (the held-out sets hold some)."""
    paths = [eval_dir / f"unanswerable_{lang}.jsonl" for lang in LANGUAGES] if held_out else [eval_dir / CROSS_LINGUAL_UNANSWERABLE_DEV]
    found = [q for p in paths if p.exists() for q in load_unanswerable(p)]
    for lang in LANGUAGES:
        path = eval_dir / (f"queries_{lang}.jsonl" if held_out else f"queries_dev_{lang}.jsonl")
        if path.exists():
            found += [
                UnanswerableQuery(raw["query"], raw.get("kind") or "solution")
                for raw in _jsonl(path)
                if not (raw.get("relevant") or raw.get("expected") or raw.get("titles") or raw.get("relevant_titles"))
            ]
    return found


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


def print_floor(score: FloorScore, out=sys.stdout, label: str = "") -> None:
    print(
        f"\n{label}\"no close match\" at relevance floor {score.threshold:.3f}: precision {score.precision:.3f}, "
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


def print_cross_lingual(retriever, sets: dict[str, list[LabelledQuery]], title: str, out=sys.stdout) -> dict[str, dict[str, ModeScore]]:
    """hit@1, hit@3, MRR@10 per language and mode, and the hybrid misses at 3."""
    modes = CROSS_LINGUAL_MODES if retriever.cross_lingual else MODES
    print(f"\n{title}", file=out)
    print(f"{'lang':<6}{'n':>4}  {'mode':<13}{'hit@1':>8}{'hit@3':>8}{'MRR@10':>8}   read as", file=out)
    results = {}
    for lang, queries in sets.items():
        if not queries:
            continue
        scores = score_queries(retriever, queries, modes)
        results[lang] = scores
        read = {}
        for q in queries:
            language = retriever.language_of(q.query)
            read[language] = read.get(language, 0) + 1
        total = len(queries)
        for number, (mode, score) in enumerate(scores.items()):
            h1, h3, _, mrr = score.row(total)
            note = ", ".join(f"{k} {v}" for k, v in sorted(read.items())) if number == 0 else ""
            print(f"{lang if number == 0 else '':<6}{total if number == 0 else '':>4}  {mode:<13}{h1:>8.3f}{h3:>8.3f}{mrr:>8.3f}   {note}", file=out)
    for lang, scores in results.items():
        for item, got in scores["hybrid"].misses3:
            print(f"  [{lang}] {item.query!r}\n      expected {list(item.expected)}  got {got}", file=out)
    return results


def cross_lingual_floor(retriever, sets: dict[str, list[LabelledQuery]], unanswerable: Sequence[UnanswerableQuery]) -> FloorScore:
    """The "no close match" decision for needs in other languages, at the floor in use."""
    answerable = [top_relevance(retriever, q.query, q.kind, q.filters) for queries in sets.values() for q in queries]
    missing = [top_relevance(retriever, q.query, q.kind) for q in unanswerable]
    return floor_score(answerable, missing, retriever.relevance.foreign_floor)


def faq_cross_lingual(faq, path: Path) -> dict[str, dict[str, int]]:
    """FAQ questions in other languages (`question`, `expected` entry id or null for a question
    the FAQ does not cover, `language`) through `FaqIndex.best`: per language, how many were
    answered with the right entry, with a wrong one, or declined ("I don't know")."""
    counts: dict[str, dict[str, int]] = {}
    for raw in _jsonl(path):
        match = faq.best(raw["question"])
        got = match.entry.id if match else None
        expected = raw.get("expected")
        row = counts.setdefault(raw.get("language", "?"), {"right": 0, "wrong": 0, "declined": 0, "outside": 0, "outside_declined": 0})
        if expected is None:
            row["outside"] += 1
            row["outside_declined"] += got is None
        else:
            row["right" if got == expected else "declined" if got is None else "wrong"] += 1
    return counts


def faq_answerability(faq, path: Path, *, halves: bool = True) -> dict[str, dict[str, int]]:
    """English questions about the Galaxy (`question`, `entry` id or null for one no entry answers,
    written apart from the FAQ's variants) through `FaqIndex.best`, per half of the file ("tuning":
    even lines, "report": odd lines; the fitted answerability model has seen both, so its honest
    figure is the cross-validated one `python -m knowledge.faq_calibrate` prints): answerable questions
    answered plainly with the right entry, hedged ("the nearest I know"), with a wrong entry or
    declined; questions no entry answers declined, hedged or answered as if covered. `halves=False`
    counts the whole file as one held-out row (a set the model was never fitted on)."""
    counts: dict[str, dict[str, int]] = {}
    for number, raw in enumerate(_jsonl(path), start=1):
        match = faq.best(raw["question"])
        half = counts.setdefault(("report" if number % 2 else "tuning") if halves else "held-out", dict.fromkeys(
            ("plain", "hedged", "wrong", "declined", "outside", "outside_declined", "outside_hedged", "outside_answered"), 0))
        if raw["entry"] is None:
            half["outside"] += 1
            half["outside_declined" if match is None else "outside_hedged" if not match.covered else "outside_answered"] += 1
        elif match is None:
            half["declined"] += 1
        elif match.entry.id != raw["entry"]:
            half["wrong"] += 1
        else:
            half["plain" if match.covered else "hedged"] += 1
    return counts


def print_faq_answerability(counts: dict[str, dict[str, int]], name: str, out=sys.stdout) -> None:
    print(f"\nFAQ answerability ({name}; the FAQ's own search and coverage check, no ResponseSelector)", file=out)
    for half, row in counts.items():
        answerable = row["plain"] + row["hedged"] + row["wrong"] + row["declined"]
        print(
            f"  {half}: {row['plain']}/{answerable} answerable questions answered plainly with the right entry, {row['hedged']} hedged, "
            f"{row['wrong']} with a wrong entry, {row['declined']} declined; of {row['outside']} questions no entry answers "
            f"{row['outside_declined']} declined, {row['outside_hedged']} hedged, {row['outside_answered']} answered as if covered",
            file=out,
        )


def print_faq_cross_lingual(counts: dict[str, dict[str, int]], name: str, out=sys.stdout) -> None:
    print(f"\nFAQ questions in other languages against the English FAQ ({name}; the FAQ's own search, no ResponseSelector)", file=out)
    for lang, row in counts.items():
        covered = row["right"] + row["wrong"] + row["declined"]
        print(
            f"  {lang}: {row['right']}/{covered} answered with the right entry, {row['wrong']} with a wrong one, {row['declined']} declined; "
            f"{row['outside_declined']}/{row['outside']} questions outside the FAQ declined",
            file=out,
        )


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
    parser.add_argument("--xl-dir", help="where the cross-lingual sets are (default: knowledge/eval/)")
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
    xl_dir = Path(args.xl_dir) if args.xl_dir else EVAL_DIR
    if not args.queries:
        if not retriever.cross_lingual:
            print("\nno multilingual index in the store (GALAXY_MULTILINGUAL_SEARCH off?): cross-lingual sets scored English-only")
        for held_out, title in ((False, "cross-lingual dev sets (tuned on)"), (True, "cross-lingual held-out sets (never tuned on)")):
            sets = cross_lingual_sets(xl_dir, known, held_out=held_out)
            if not sets:
                continue
            print_cross_lingual(retriever, sets, f"{title}: needs in other languages against the English catalogue")
            unanswerable_xl = cross_lingual_unanswerable(xl_dir, held_out=held_out)
            if unanswerable_xl and retriever.cross_lingual:
                print_floor(cross_lingual_floor(retriever, sets, unanswerable_xl), label="cross-lingual: ")
    if not args.queries and settings().faq_path.exists():
        from knowledge.faq import FaqIndex

        faq = FaqIndex.from_file(settings().faq_path, embedder)
        for name in ("faq_dev_xx.jsonl", "faq_xx.jsonl"):
            if (xl_dir / name).exists():
                print_faq_cross_lingual(faq_cross_lingual(faq, xl_dir / name), name)
        if (xl_dir / "faq_answerable.jsonl").exists():
            print_faq_answerability(faq_answerability(faq, xl_dir / "faq_answerable.jsonl"), "faq_answerable.jsonl")
        if (xl_dir / "faq_answerable_heldout.jsonl").exists():  # never fitted on: the honest figure
            print_faq_answerability(faq_answerability(faq, xl_dir / "faq_answerable_heldout.jsonl", halves=False), "faq_answerable_heldout.jsonl")
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
