"""Load test of server mode (`python -m bench.serve_load`, part of `make bench`): N conversations at a given
concurrency over REST through nginx, each a search, "show more", "details of the first one" and a
greeting. Prints turns/s, p50/p95, errors, replies delivered to the wrong conversation (a conversation's
received replies differ from the bot messages its stored tracker holds), and capacity = turns/s divided
by the sequential greeting rate measured in the same run; with 2 Rasa workers, then 1 (the second one
stopped under supervisord), and the search-turn p95 / greeting-turn p95 ratio at 16 concurrent.

Bounded: 64 conversations x 4 turns per configuration, a 120 s limit per turn."""
from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.stack import percentile
from harness.served import ServedStack

SEARCHES = [
    "find a solution for water scarcity",
    "solutions for school meals in Africa",
    "projects on climate adaptation for farmers",
    "renewable energy solutions in Asia",
    "digital health solutions",
    "which agencies offer training on rice cultivation to African countries?",
]
FOLLOW_UPS = [("more", "show more"), ("details", "could you open the first one for me?"), ("greeting", "hello")]
APOLOGY = "Sorry, something went wrong on my side"


@dataclass
class Conversation:
    sender: str
    search: str
    received: list[str] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)
    errors: int = 0


def run_conversation(stack: ServedStack, conversation: Conversation) -> Conversation:
    for kind, text in [("search", conversation.search), *FOLLOW_UPS]:
        started = time.perf_counter()
        try:
            reply = stack.post(text, conversation.sender)
            elapsed = time.perf_counter() - started
            messages = reply.json() if reply.ok else []
            if not reply.ok or any(APOLOGY in (m.get("text") or "") for m in messages):
                conversation.errors += 1
            conversation.received += [m.get("text") or "" for m in messages]
        except (requests.RequestException, ValueError):
            elapsed = time.perf_counter() - started
            conversation.errors += 1
        conversation.timings.append((kind, elapsed))
    return conversation


def misdelivered(stack: ServedStack, conversations: list[Conversation]) -> int:
    """Conversations whose replies are not the bot messages stored in their own tracker, in order (of those
    without a failed turn, whose stored and received messages may differ for that reason alone)."""
    wrong = 0
    for conversation in conversations:
        if conversation.errors:
            continue
        stored = [e.get("text") or "" for e in stack.tracker(conversation.sender)["events"] if e["event"] == "bot"]
        # The apology for a failed turn is sent by the channel, not stored: compare what the bot said.
        received = [t for t in conversation.received if APOLOGY not in t]
        if stored != received:
            wrong += 1
    return wrong


def sequential_greeting_rate(stack: ServedStack, turns: int = 20) -> float:
    sender = f"greet-{uuid.uuid4().hex[:6]}"
    stack.send("hello", sender)  # warm
    started = time.perf_counter()
    for _ in range(turns):
        stack.send("hello", sender)
    return turns / (time.perf_counter() - started)


def load(stack: ServedStack, conversations: int, concurrency: int) -> dict[str, float]:
    batch = [Conversation(f"load-{uuid.uuid4().hex[:8]}", SEARCHES[i % len(SEARCHES)]) for i in range(conversations)]
    for conversation in batch:
        stack.session(conversation.sender)  # sessions issued before the clock starts
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        done = list(pool.map(lambda c: run_conversation(stack, c), batch))
    wall = time.perf_counter() - started
    timings = [t for c in done for t in c.timings]
    every = [s for _, s in timings]
    by_kind = {kind: [s for k, s in timings if k == kind] for kind in ("search", "more", "details", "greeting")}
    return {
        "turns": len(timings),
        "turns_per_s": len(timings) / wall,
        "p50": percentile(every, 50),
        "p95": percentile(every, 95),
        "errors": sum(c.errors for c in done),
        "wrong": misdelivered(stack, done),
        "search_p95": percentile(by_kind["search"], 95),
        "greeting_p95": percentile(by_kind["greeting"], 95),
    }


def report(label: str, result: dict[str, float], greeting_rate: float) -> None:
    print(
        f"{label:<28} {result['turns_per_s']:6.1f} turns/s  p50 {result['p50']:5.2f}s  p95 {result['p95']:5.2f}s  "
        f"errors {result['errors']:.0f}/{result['turns']:.0f}  wrong conversation {result['wrong']:.0f}  "
        f"capacity {result['turns_per_s'] / greeting_rate:4.2f}  search/greeting p95 "
        f"{result['search_p95'] / result['greeting_p95']:4.2f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--action-workers", type=int, default=2)
    parser.add_argument("--attach", metavar="STATE_DIR", help="measure a server mode already running (python -m ops "
                        "start with 2 Rasa workers) instead of starting one; its second worker is stopped")
    parser.add_argument("--serve-port", type=int, default=8088, help="with --attach: its SERVE_PORT")
    parser.add_argument("--internal-port", type=int, default=5100, help="with --attach: its SERVE_INTERNAL_PORT")
    args = parser.parse_args(argv)
    if args.attach:
        stack = ServedStack.attached(Path(args.attach), args.serve_port, args.internal_port)
    else:
        stack = ServedStack(rasa_workers=2, action_workers=args.action_workers)
        print(f"starting server mode (2 Rasa, {args.action_workers} action workers) ...", flush=True)
        started = time.perf_counter()
        stack.start()
        print(f"ready in {time.perf_counter() - started:.0f}s", flush=True)
    try:
        load(stack, 8, 8)  # warm every worker's caches
        for workers in (2, 1):
            if workers == 1:
                # nginx skips the stopped worker (connection refused) after its first failed attempt.
                stack.supervisorctl("stop", "rasa:rasa-1")
            rate = sequential_greeting_rate(stack)
            print(f"\n-- {workers} Rasa worker(s): sequential greetings {rate:.1f} turns/s", flush=True)
            report(f"{args.conversations} conv @ {args.concurrency}", load(stack, args.conversations, args.concurrency), rate)
            report("16 conv @ 16", load(stack, 16, 16), rate)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
