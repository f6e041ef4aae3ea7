"""Prints intent accuracy, intent macro-F1 and entity F1 from a `rasa test nlu` output folder."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: str) -> int:
    out = Path(folder)
    intents = json.loads((out / "intent_report.json").read_text())
    print(f"intent accuracy   {intents['accuracy']:.3f}")
    print(f"intent macro-F1   {intents['macro avg']['f1-score']:.3f}")
    for report in sorted(out.glob("*Extractor_report.json")):
        entities = json.loads(report.read_text())
        micro = entities.get("micro avg") or entities.get("weighted avg")
        print(f"entity F1 ({report.stem.replace('_report', '')})  micro {micro['f1-score']:.3f}  macro {entities['macro avg']['f1-score']:.3f}")
    if (out / "response_selection_report.json").exists():
        responses = json.loads((out / "response_selection_report.json").read_text())
        print(f"FAQ response accuracy {responses.get('accuracy', 0):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else ".galaxy/results/nlu"))
