"""Benchmarks of the running assistant: REST latency of a greeting turn and a search turn,
time to ready, the last training time and the memory of both servers. Prints numbers only.

    python -m bench.stack [--turns 100]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
SEARCHES = [
    "find a solution for water scarcity",
    "solutions for school meals in Africa",
    "who works on renewable energy?",
    "projects on climate adaptation for farmers",
    "tell me about TIKA",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its direct children, from /proc."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total_kb = 0
    for one in pids:
        status = Path(f"/proc/{one}/status")
        if status.exists():
            total_kb += next((int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmRSS:")), 0)
    return total_kb / 1024


def timed_turns(stack: Stack, messages: list[str], turns: int, sender: str) -> list[float]:
    times = []
    for i in range(turns):
        session = stack.session(f"{sender}-{i % 10}")  # issued before the clock starts, as a client keeps it
        started = time.perf_counter()
        reply = stack.http.post(stack.rest_url, json={"sender": session, "message": messages[i % len(messages)]}, timeout=60)
        reply.raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return times


@contextmanager
def running_stack() -> Iterator[Stack]:
    """Both servers on free ports for the length of a benchmark."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start()
        try:
            yield stack
        finally:
            stack.stop()


def main(argv: list[str] | None = None, *, after: Callable[[Stack], object] | None = None) -> int:
    """REST numbers on a freshly started stack; `after` then runs other benchmarks on the same servers,
    so `make bench` starts them once."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp))
        (stack.workdir / "state").mkdir(parents=True, exist_ok=True)
        stack.build_store()
        started = time.perf_counter()
        try:
            stack.start_partners()
            stack.start_actions()
            actions_ready = time.perf_counter() - started
            stack.start_rasa()
            ready = time.perf_counter() - started
            greet = timed_turns(stack, ["hi", "hello", "good morning"], args.turns, "bench-greet")
            search = timed_turns(stack, SEARCHES, args.turns, "bench-search")
            print(f"servers ready: action server {actions_ready:.1f} s, then Rasa {ready - actions_ready:.1f} s (make run starts both at once)")
            for name, values in (("greeting turn", greet), ("search turn", search)):
                print(f"REST {name:<14} p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 95):7.1f} ms   ({len(values)} turns)")
            print(f"RSS action server {rss_mb(stack.actions.pid):7.0f} MB")
            print(f"RSS Rasa server   {rss_mb(stack.rasa.pid):7.0f} MB")
            print(f"RSS partner app   {rss_mb(stack.partners.pid):7.0f} MB")
            state = ROOT / ".galaxy"
            for name, label in (("train_seconds", "training time (last make train)"), ("ready_seconds", "make run to ready (last make run)")):
                path = state / name
                print(f"{label}: {path.read_text().strip() + ' s' if path.exists() else 'not measured yet'}", flush=True)
            if after is not None:
                after(stack)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
