"""The NLU's held-out sets stay held out: no message of tests/nlu/ is also a training example, compared
as a user would type it (case, punctuation and spacing aside). A copy would make the measured accuracy a
memory test. (On 2026-12-02 the 29 held-out messages that were also training examples left the sets.)

Messages of fewer than MIN_WORDS words are left out of the comparison: "hi", "what can you do?" or
"no thanks" are what anyone writes, and two people writing apart produce them both. The dev_*.yml files
are our own tuning splits, not held-out sets."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MIN_WORDS = 5
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\{[^}]*\}|\[\{.*?\}\]|\([^)]*\))")


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", _ANNOTATION.sub(lambda m: m.group(1), text).casefold()))


def _examples(path: Path) -> dict[str, str]:
    found = {}
    for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
        for line in str(block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                found[_key(line.strip()[2:])] = line.strip()[2:]
    return found


def _training() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((ROOT / "bot" / "data" / "nlu").rglob("*.yml")):
        found.update(_examples(path))
    return found


def test_no_held_out_message_is_a_training_example():
    training = _training()
    assert len(training) > 2000
    leaked = []
    for path in sorted((ROOT / "tests" / "nlu").glob("*.yml")):
        if path.name.startswith("dev"):
            continue
        leaked += [f"{path.name}: {text!r}" for key, text in _examples(path).items() if len(key.split()) >= MIN_WORDS and key in training]
    assert not leaked, "held-out messages found in bot/data/nlu:\n" + "\n".join(leaked)
