"""`python -m knowledge.sdg_train` — rebuilds the SDG tagger's learned layer (data/sdg_model.npz).

Training data: the public SDG-labelled sentences of data/sdg_labelled.json (official targets,
indicators, UN database series, solutions whose source states their SDGs) and the goals' keywords,
for the logistic regression and the evidence pools; the dev split of eval/sdg_dev.jsonl for the
blend's weights and goal biases. Which evidence to use, the regularisation and the regression's C
are chosen by repeated stratified 5-fold cross-validation on the dev split. The test split
(eval/sdg_test.jsonl) is never read here. Deterministic; embedding the sentences takes a few minutes
on two cores, the fitting a few seconds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.sdg import FEATURES, MODEL_PATH, POOLS, SdgModel, SdgTagger, log_softmax

DATA_DIR = Path(__file__).resolve().parent / "data"
EVAL_DIR = Path(__file__).resolve().parent / "eval"
LABELLED = DATA_DIR / "sdg_labelled.json"
GOALS_FILE = DATA_DIR / "sdgs.json"
DEV = EVAL_DIR / "sdg_dev.jsonl"
TEST = EVAL_DIR / "sdg_test.jsonl"
# What the model was built from: a change to any of these makes the artefact stale.
INPUTS = (LABELLED, GOALS_FILE, DEV)

SECONDARY_WEIGHT = 0.5  # a text's later goals count half as much as its first
FOLDS = 5
REPEATS = 3
FEATURE_SETS: tuple[tuple[str, ...], ...] = (
    ("zero_shot",),
    ("zero_shot", "indicators_best", "indicators_top3"),
    ("zero_shot", "indicators_best", "indicators_top3", "keywords_best", "keywords_top3"),
    ("zero_shot", "indicators_best", "indicators_top3", "learned"),
    ("zero_shot", "indicators_best", "indicators_top3", "keywords_best", "keywords_top3", "learned"),
    FEATURES,
)
PENALTIES = (0.1, 0.3, 1.0, 3.0, 10.0)
LEARNED_C = (1.0, 4.0, 16.0)


@dataclass(frozen=True)
class SdgExample:
    text: str
    sdgs: tuple[int, ...]  # primary first
    kind: str


@dataclass(frozen=True)
class SdgScore:
    """top-1/top-3: any labelled goal among the first k; primary: the first labelled goal."""

    top1: float
    top3: float
    primary1: float
    primary3: float
    count: int

    @property
    def total(self) -> float:
        return self.top1 + self.top3 + self.primary1 + self.primary3


def load_split(path: Path) -> list[SdgExample]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [SdgExample(r["text"], tuple(r["sdgs"]), r.get("style", "")) for r in rows]


def load_public(path: Path = LABELLED) -> list[SdgExample]:
    items = json.loads(path.read_text(encoding="utf-8"))["items"]
    return [SdgExample(i["text"], tuple(i["sdgs"]), i["kind"]) for i in items]


def keyword_examples() -> list[SdgExample]:
    from knowledge.geo import sdgs

    examples = []
    for number, goal in sorted(sdgs().items()):
        examples.append(SdgExample(f"{goal.name}: {goal.title}", (number,), "title"))
        examples += [SdgExample(k, (number,), "keyword") for k in dict.fromkeys((*goal.keywords, *goal.aliases))]
    return examples


def score(logits: np.ndarray, examples: Sequence[SdgExample]) -> SdgScore:
    order = np.argsort(-logits, axis=1, kind="stable")[:, :3] + 1
    n = len(examples)
    return SdgScore(
        top1=sum(int(o[0]) in e.sdgs for o, e in zip(order, examples)) / n,
        top3=sum(bool(set(o.tolist()) & set(e.sdgs)) for o, e in zip(order, examples)) / n,
        primary1=sum(int(o[0]) == e.sdgs[0] for o, e in zip(order, examples)) / n,
        primary3=sum(e.sdgs[0] in o.tolist() for o, e in zip(order, examples)) / n,
        count=n,
    )


def title_baseline(embedder, texts: Sequence[str]) -> np.ndarray:
    """The plain zero-shot MiniLM baseline: cosine with each goal's "name: title"."""
    from knowledge.geo import sdgs

    titles = embedder.encode([f"{g.name}: {g.title}" for _, g in sorted(sdgs().items())])
    return embedder.encode(list(texts)) @ titles.T


def goal_matrix(examples: Sequence[SdgExample], secondary: float = SECONDARY_WEIGHT) -> np.ndarray:
    """(n, 17) targets: 1 for the primary goal, `secondary` for the others."""
    y = np.zeros((len(examples), 17), dtype=np.float64)
    for row, example in enumerate(examples):
        for rank, goal in enumerate(example.sdgs):
            y[row, goal - 1] = 1.0 if rank == 0 else secondary
    return y


def fit_regression(vectors: np.ndarray, examples: Sequence[SdgExample], c: float):
    from sklearn.linear_model import LogisticRegression

    rows, goals, weights = [], [], []
    for vector, example in zip(vectors, examples):
        for rank, goal in enumerate(example.sdgs):
            rows.append(vector)
            goals.append(goal)
            weights.append(1.0 if rank == 0 else SECONDARY_WEIGHT)
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(np.asarray(rows), np.asarray(goals), sample_weight=np.asarray(weights))
    assert list(model.classes_) == list(range(1, 18))
    return model.coef_.astype(np.float32), model.intercept_.astype(np.float32)


def fit_blend(features: np.ndarray, targets: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights (shared by all goals) and one bias per goal maximising the soft-label likelihood.
    Biases are shrunk ten times harder than weights: a goal's prior should move only on evidence."""
    from scipy.optimize import minimize

    n, _, width = features.shape
    mass = targets.sum(axis=1, keepdims=True)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        weights, bias = params[:width], params[width:]
        logp = log_softmax(features @ weights + bias)
        value = -(targets * logp).sum() / n + penalty * (1e-3 * weights @ weights + 1e-2 * bias @ bias)
        grad = (np.exp(logp) * mass - targets) / n
        g_weights = np.einsum("ng,ngf->f", grad, features) + 2e-3 * penalty * weights
        g_bias = grad.sum(axis=0) + 2e-2 * penalty * bias
        return float(value), np.concatenate([g_weights, g_bias])

    result = minimize(loss, np.zeros(width + 17), jac=True, method="L-BFGS-B")
    return result.x[:width].astype(np.float32), result.x[width:].astype(np.float32)


def folds(examples: Sequence[SdgExample], repeat: int) -> np.ndarray:
    """Fold of each example, stratified by primary goal; each repeat shuffles with a fixed seed."""
    rng = np.random.default_rng(1000 + repeat)
    order = rng.permutation(len(examples))
    order = order[np.argsort([examples[i].sdgs[0] for i in order], kind="stable")]
    assignment = np.empty(len(examples), dtype=int)
    assignment[order] = np.arange(len(examples)) % FOLDS
    return assignment


def inputs_digest(paths: Sequence[Path] = INPUTS) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pools_from(vectors: np.ndarray, examples: Sequence[SdgExample], kinds: set[str]) -> tuple[np.ndarray, np.ndarray]:
    rows = [i for i, e in enumerate(examples) if e.kind in kinds]
    goals = np.zeros((len(rows), 17), dtype=bool)
    for row, i in enumerate(rows):
        goals[row, [g - 1 for g in examples[i].sdgs]] = True
    return vectors[rows], goals


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.sdg_train", description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    parser.add_argument("--check", action="store_true", help="only say whether the model is current")
    args = parser.parse_args(argv)
    if args.check:
        current = args.out.exists() and str(np.load(args.out)["inputs_sha256"]) == inputs_digest()
        print("the SDG model is current" if current else f"the SDG model is stale: run python -m knowledge.sdg_train")
        return 0 if current else 1

    from knowledge.embedder import MiniLmEmbedder
    from knowledge.settings import settings

    started = time.perf_counter()
    embedder = MiniLmEmbedder(settings().embed_backend)
    zero_shot_tagger = SdgTagger(embedder, model=None)
    public = load_public() + keyword_examples()
    dev = load_split(DEV)
    _log(f"embedding {len(public)} public sentences and {len(dev)} dev texts ...")
    public_vectors = zero_shot_tagger.encode([e.text for e in public])
    dev_vectors = zero_shot_tagger.encode([e.text for e in dev])
    dev_zero_shot = zero_shot_tagger.zero_shot([e.text for e in dev], dev_vectors)
    pools = {
        "indicators": pools_from(public_vectors, public, {"indicator"}),
        "series": pools_from(public_vectors, public, {"series"}),
        "keywords": pools_from(public_vectors, public, {"keyword", "title"}),
    }
    assert set(pools) == set(POOLS)
    regressions = {c: fit_regression(public_vectors, public, c) for c in LEARNED_C}
    targets = goal_matrix(dev)

    def model_for(features: tuple[str, ...], c: float, weights=None, bias=None) -> SdgModel:
        coef, intercept = regressions[c]
        return SdgModel(features, np.zeros(len(features), np.float32) if weights is None else weights,
                        np.zeros(17, np.float32) if bias is None else bias, pools, coef, intercept)

    results = []
    assignments = [folds(dev, r) for r in range(REPEATS)]
    for features in FEATURE_SETS:
        for c in LEARNED_C if "learned" in features else LEARNED_C[:1]:
            tensor = model_for(features, c).feature_tensor(dev_vectors, dev_zero_shot, features)
            for penalty in PENALTIES:
                scores, losses = [], []
                for assignment in assignments:
                    held_out_logits = np.zeros((len(dev), 17), dtype=np.float32)
                    for fold in range(FOLDS):
                        train = assignment != fold
                        weights, bias = fit_blend(tensor[train], targets[train], penalty)
                        held_out_logits[~train] = tensor[~train] @ weights + bias
                    scores.append(score(held_out_logits, dev))
                    losses.append(float(-(targets * log_softmax(held_out_logits)).sum() / len(dev)))
                mean = SdgScore(*(float(np.mean([getattr(s, f) for s in scores])) for f in ("top1", "top3", "primary1", "primary3")), len(dev))
                results.append((round(mean.total, 6), -float(np.mean(losses)), features, c, penalty, mean))
    results.sort(key=lambda r: (r[0], r[1]), reverse=True)
    _, neg_loss, features, c, penalty, cv = results[0]
    weights, bias = fit_blend(model_for(features, c).feature_tensor(dev_vectors, dev_zero_shot, features), targets, penalty)
    model = model_for(features, c, weights, bias)
    baseline = score(dev_zero_shot, dev)
    model.save(
        args.out,
        inputs_sha256=inputs_digest(),
        c=c,
        penalty=penalty,
        cv_dev=np.array([cv.top1, cv.top3, cv.primary1, cv.primary3]),
        cv_dev_zero_shot=np.array([baseline.top1, baseline.top3, baseline.primary1, baseline.primary3]),
        public_sentences=len(public),
        dev_texts=len(dev),
    )
    print(f"{len(results)} settings cross-validated ({REPEATS}x{FOLDS}-fold on {len(dev)} dev texts); best:")
    print(f"  features {', '.join(features)}; penalty {penalty}" + (f"; C {c}" if "learned" in features else ""))
    print(f"  weights {[round(float(w), 2) for w in weights]}")
    print(f"  held-out dev  top-1 {cv.top1:.3f}  top-3 {cv.top3:.3f}  primary top-1 {cv.primary1:.3f}  primary top-3 {cv.primary3:.3f}")
    print(f"  zero-shot dev top-1 {baseline.top1:.3f}  top-3 {baseline.top3:.3f}  primary top-1 {baseline.primary1:.3f}  primary top-3 {baseline.primary3:.3f}")
    for total, _, f, cc, p, s in results[1:6]:
        print(f"  runner-up {total:.3f}: {'+'.join(f)} penalty {p} C {cc}")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
