"""`python -m knowledge.faq_calibrate` — fits the model that judges whether the FAQ entry found for an
English question says what is asked (`knowledge.faq.Answerability`), and writes it to
knowledge/data/faq_answerability.json with its cross-validated numbers.

Data: knowledge/eval/faq_answerable.jsonl (`question`, `entry` id, or null for a question no entry
answers). Each question gets the entry the FAQ's own search finds (`FaqIndex.best`); the label is
whether that entry is the right one. Questions the search declines are left out (nothing to judge).
The threshold is chosen on 5-fold cross-validated probabilities: the fewest plain wrong answers while
at least RIGHT_KEPT of the right entries found stay plain answers (below it the answer is hedged,
"the nearest I know is…", which still shows the entry). The honest
number is on knowledge/eval/faq_answerable_heldout.jsonl, which is never fitted on (`python -m knowledge.evaluate`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from knowledge.faq import ANSWERABILITY_FILE, FEATURES, FaqIndex
from knowledge.settings import settings

EVAL = Path(__file__).resolve().parent / "eval" / "faq_answerable.jsonl"
RIGHT_KEPT = 0.9  # of the right entries found, the share that must stay plain answers
FOLDS = 5
REGULARISATION = 1.0  # sklearn's C


def labelled(faq: FaqIndex, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (entry found is the right one) of the English questions the search answers."""
    rows, labels = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        match = faq.best(raw["question"])
        if match is None or faq.foreign(raw["question"]):
            continue
        rows.append(faq.features(raw["question"], match.entry, faq.similarities(raw["question"])))
        labels.append(match.entry.id == raw.get("entry"))
    return np.array(rows), np.array(labels, dtype=bool)


def choose_threshold(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, int, int]:
    """The threshold with the fewest plain wrong answers among those that keep at least RIGHT_KEPT of
    the right entries found plain, and those counts (plain right, plain wrong)."""
    best = (0.0, int(labels.sum()), int((~labels).sum()))
    for threshold in np.round(np.arange(0.05, 0.96, 0.01), 2):
        plain = probabilities >= threshold
        right, wrong = int((plain & labels).sum()), int((plain & ~labels).sum())
        if right >= RIGHT_KEPT * labels.sum() and wrong < best[2]:
            best = (float(threshold), right, wrong)
    return best


def fit(features: np.ndarray, labels: np.ndarray) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    mean, scale = features.mean(axis=0), features.std(axis=0)
    scale[scale == 0] = 1.0
    z = (features - mean) / scale
    model = LogisticRegression(C=REGULARISATION, max_iter=1000)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    cv = cross_val_predict(model, z, labels, cv=folds, method="predict_proba")[:, 1]
    threshold, right, wrong = choose_threshold(cv, labels)
    model.fit(z, labels)
    return {
        "features": list(FEATURES),
        "weights": [round(float(w), 6) for w in model.coef_[0]],
        "bias": round(float(model.intercept_[0]), 6),
        "mean": [round(float(m), 6) for m in mean],
        "scale": [round(float(s), 6) for s in scale],
        "threshold": threshold,
        "questions": int(len(labels)),
        "right_entry_found": int(labels.sum()),
        "cv_auc": round(float(roc_auc_score(labels, cv)), 3),
        "cv_plain_right": right,
        "cv_plain_wrong": wrong,
        "right_kept": RIGHT_KEPT,
        "data": "knowledge/eval/faq_answerable.jsonl",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EVAL)
    parser.add_argument("--out", type=Path, default=ANSWERABILITY_FILE)
    args = parser.parse_args(argv)
    from knowledge.embedder import MiniLmEmbedder

    faq = FaqIndex.from_file(settings().faq_path, MiniLmEmbedder(settings().embed_backend), answerability=None)
    features, labels = labelled(faq, args.data)
    result = fit(features, labels)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"{result['questions']} questions ({result['right_entry_found']} with the right entry found): cross-validated AUC "
        f"{result['cv_auc']}, threshold {result['threshold']}: {result['cv_plain_right']} answered plainly and right, "
        f"{result['cv_plain_wrong']} plainly and wrong; written to {args.out}",
        file=sys.stdout,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
