"""Prints intent accuracy, intent macro-F1 and entity F1 from a `rasa test nlu` output folder.

    python scripts/nlu_report.py FOLDER [--min-accuracy 0.93]   # exit 1 below the floor
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# Extractors that only ever produce some entity types: scored on those alone (Rasa's report counts
# every annotated entity against each extractor, so the closed vocabularies would show 0 on a set
# that annotates only countries, regions and SDGs).
EXTRACTOR_LABELS = {"DialogueVocabularyExtractor": ("operation", "scope", "attribute")}


def main(folder: str, min_accuracy: float | None = None) -> int:
    out = Path(folder)
    intents = json.loads((out / "intent_report.json").read_text())
    print(f"intent accuracy   {intents['accuracy']:.3f}")
    if min_accuracy is not None and intents["accuracy"] < min_accuracy:
        print(f"FAIL: intent accuracy {intents['accuracy']:.3f} is below {min_accuracy}")
        worst = sorted((v["f1-score"], k) for k, v in intents.items() if isinstance(v, dict) and "f1-score" in v and k not in ("macro avg", "weighted avg", "micro avg"))[:5]
        print("weakest intents: " + ", ".join(f"{k} {f:.2f}" for f, k in worst))
        return 1
    print(f"intent macro-F1   {intents['macro avg']['f1-score']:.3f}")
    for report in sorted(out.glob("*Extractor_report.json")):
        entities = json.loads(report.read_text())
        name = report.stem.replace("_report", "")
        if name in EXTRACTOR_LABELS:
            scored = {k: v for k, v in entities.items() if k in EXTRACTOR_LABELS[name] and v.get("support")}
            if not scored:
                print(f"entity F1 ({name})  no {'/'.join(EXTRACTOR_LABELS[name])} entities annotated in this set")
                continue
            support = sum(v["support"] for v in scored.values())
            weighted = sum(v["f1-score"] * v["support"] for v in scored.values()) / support
            print(f"entity F1 ({name}, {', '.join(scored)})  weighted {weighted:.3f}  macro {sum(v['f1-score'] for v in scored.values()) / len(scored):.3f}")
            continue
        micro = entities.get("micro avg") or entities.get("weighted avg")
        print(f"entity F1 ({name})  micro {micro['f1-score']:.3f}  macro {entities['macro avg']['f1-score']:.3f}")
    if (out / "response_selection_report.json").exists():
        responses = json.loads((out / "response_selection_report.json").read_text())
        print(f"FAQ response accuracy {responses.get('accuracy', 0):.3f}")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    floor = None
    if "--min-accuracy" in args:
        at = args.index("--min-accuracy")
        floor = float(args[at + 1])
        del args[at : at + 2]
    raise SystemExit(main(args[0] if args else ".galaxy/results/nlu", floor))
