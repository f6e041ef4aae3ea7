"""Multi-turn conversations driven over the REST channel against the real stack (Rasa, action server,
full catalogue), each turn judged by what the user sees: text that must (not) appear, buttons that
must be offered, and the dialogue state Rasa keeps (slots through its tracker API).

The conversations live in tests/conversations_rest/*.yml; their phrasings were written apart from
the training data. Format of one turn:

    - user: "which filters are on?"
      contains: ["Filters: Kenya"]          # every one, case-insensitive
      any_of: ["no close match", "best match"]  # at least one
      not_contains: ["Here are the partners"]
      buttons: ["/show_results"]            # payloads offered (prefix match)
      slots: {country: KEN, last_query: "school meals"}   # null for "not set"

A turn passes when every expectation holds. The run prints every failing turn and the pass rate per
file, writes them to the results folder, and fails when fewer than PASS_RATE of all turns pass (the
floor sits under today's figure, so a regression fails the suite while known misses stay visible).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.stack import texts

pytestmark = pytest.mark.e2e
FOLDER = Path(__file__).parent / "conversations_rest"


def conversations() -> list[dict[str, Any]]:
    found = []
    for path in sorted(FOLDER.glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            found.append(pytest.param(conversation, id=f"{path.stem}:{conversation['name']}"))
    return found


def check_turn(number: int, turn: dict[str, Any], reply: list[dict[str, Any]], slots: dict[str, Any]) -> list[str]:
    text = texts(reply)
    low = text.casefold()
    payloads = [b.get("payload", "") for m in reply for b in m.get("buttons", [])]
    problems = []
    for wanted in turn.get("contains", []):
        if wanted.casefold() not in low:
            problems.append(f"turn {number} ({turn['user']!r}): missing {wanted!r}")
    if turn.get("any_of") and not any(w.casefold() in low for w in turn["any_of"]):
        problems.append(f"turn {number} ({turn['user']!r}): none of {turn['any_of']!r}")
    for unwanted in turn.get("not_contains", []):
        if unwanted.casefold() in low:
            problems.append(f"turn {number} ({turn['user']!r}): unexpected {unwanted!r}")
    for wanted in turn.get("buttons", []):
        if not any(p.startswith(wanted) for p in payloads):
            problems.append(f"turn {number} ({turn['user']!r}): no button {wanted!r} among {payloads!r}")
    for name, value in (turn.get("slots") or {}).items():
        if slots.get(name) != value:
            problems.append(f"turn {number} ({turn['user']!r}): slot {name} is {slots.get(name)!r}, expected {value!r}")
    if problems:
        problems.append(f"    the reply was: {text[:600]!r}")
    return problems


# Turn pass rate measured on 2026-12-02: 0.791, then 0.675 after the catalogue merge and a retraining, 0.692 with the
# fixes that followed, 0.826 a session later; then 0.923-0.970 over four trainings once the actions answered what
# a misread message asks. The floor sits below the lowest of those trainings.
PASS_RATE = 0.85


def run_conversation(stack, conversation: dict[str, Any]) -> list[list[str]]:
    """The problems of each turn (an empty list for a turn that passed)."""
    sender = f"rest-{conversation['name']}"
    session = stack.session(sender)
    results = []
    for number, turn in enumerate(conversation["turns"], start=1):
        reply = stack.send(turn["user"], sender=sender)
        slots = stack.tracker(stack.conversation_id(session))["slots"] if turn.get("slots") else {}
        results.append(check_turn(number, turn, reply, slots))
    return results


def test_conversations_pass_rate(stack, tmp_path_factory):
    from knowledge.settings import load_settings

    lines: list[str] = []
    passed = total = 0
    per_file: dict[str, list[int]] = {}
    for param in conversations():
        (conversation,) = param.values
        name = param.id
        turns = run_conversation(stack, conversation)
        ok = sum(1 for problems in turns if not problems)
        passed, total = passed + ok, total + len(turns)
        counts = per_file.setdefault(name.split(":")[0], [0, 0])
        counts[0] += ok
        counts[1] += len(turns)
        for problems in turns:
            if problems:
                lines.append(f"{name}: " + "\n".join(problems))
    rate = passed / total
    summary = [f"{stem}: {ok}/{count} turns" for stem, (ok, count) in sorted(per_file.items())]
    summary.append(f"all: {passed}/{total} turns pass ({rate:.3f})")
    report = "\n".join(summary + [""] + lines)
    out = load_settings().state_dir / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "conversations_rest.txt").write_text(report, encoding="utf-8")
    print(report)
    assert rate >= PASS_RATE, report
