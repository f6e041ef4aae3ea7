"""How close each user turn of the conversation tests is to being misread (run with the Rasa venv).

`rasa test core --e2e` fails on the first wrong intent, and a fresh training on another machine moves the
confidences a little, so a turn that passes by a hair here can fail in CI. This lists the turns whose
intent is wrong, whose confidence is near the fallback threshold, or whose runner-up is close, so the
training data can be made clearer for those meanings (never by copying the test sentence).

    make margins   (or: PYTHONPATH=. .venv-rasa/bin/python scripts/conversation_margins.py models/galaxy.tar.gz tests/conversations)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import pathlib
import re

import yaml

# Rasa's e2e annotation of entities in a user text: [words]{"entity": ...}, [words][{...}, {...}] or [words](name)
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\{[^}]*\}|\[\{.*?\}\]|\([^)]*\))")


def plain(text: str) -> str:
    """The words the user typed, without the entity annotations."""
    return _ANNOTATION.sub(lambda m: m.group(1), text)


def user_turns(folder: pathlib.Path):
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for story in data.get("stories", []):
            for step in story.get("steps", []):
                if "user" in step and "intent" in step:
                    yield path.name, story.get("story", ""), plain(step["user"].strip()), step["intent"]


async def measure(model: str, folder: pathlib.Path, min_confidence: float, min_margin: float) -> int:
    """Prints the wrong and weak turns; returns how many are wrong."""
    import structlog
    from rasa.core.agent import Agent

    logging.basicConfig(level=logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(model)
    weak = wrong = total = 0
    for file_name, story, text, expected in user_turns(folder):
        total += 1
        parsed = await agent.parse_message(text)
        ranking = parsed.get("intent_ranking") or []
        predicted = parsed["intent"]["name"]
        # the runner-up among the classifier's own intents (nlu_fallback is not a competitor)
        others = [r for r in ranking if r["name"] not in (expected, "nlu_fallback")]
        runner_up = others[0] if others else {"name": "-", "confidence": 0.0}
        own = next((r["confidence"] for r in ranking if r["name"] == expected), 0.0)
        margin = own - runner_up["confidence"]
        if predicted != expected or own < min_confidence or margin < min_margin:
            weak += 1
            wrong += predicted != expected
            mark = "WRONG" if predicted != expected else "weak "
            print(
                f"{mark} {own:.2f} (margin {margin:+.2f} over {runner_up['name']}) "
                f"{expected:<16} {text!r}  [{file_name}: {story}]"
            )
    print(f"{weak} of {total} turns wrong or within the margins (confidence < {min_confidence}, "
          f"margin < {min_margin}); {wrong} wrong")
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("folder", type=pathlib.Path)
    parser.add_argument("--min-confidence", type=float, default=0.6)
    parser.add_argument("--min-margin", type=float, default=0.3)
    args = parser.parse_args()
    # non-zero when a turn is read as the wrong intent: `rasa test core --e2e` would fail on it
    raise SystemExit(1 if asyncio.run(measure(args.model, args.folder, args.min_confidence, args.min_margin)) else 0)


if __name__ == "__main__":
    main()
