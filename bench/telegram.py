"""Benchmark of the Telegram bridge: per message, the time from the update leaving the (fake, loopback)
Bot API to the reply's sendMessage arriving there, against the same turn sent to Rasa's REST channel
directly. The bridge's overhead is the difference. Prints numbers only.

    python -m bench.telegram [--turns 60]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.stack import percentile, rss_mb, running_stack, timed_turns
from harness.fake_telegram import TOKEN, Bridge, FakeBotApi
from harness.stack import Stack

GREETINGS = ["hi", "hello", "good morning"]
SEARCHES = ["find a solution for water scarcity", "who works on renewable energy?", "solutions for school meals in Africa"]


def bridge_turns(api: FakeBotApi, messages: list[str], turns: int, first_chat: int) -> list[float]:
    """Milliseconds from getUpdates handing the update out to the first sendMessage of the reply."""
    times = []
    for i in range(turns):
        chat = first_chat + i % 10
        before = len(api.calls_of("sendMessage", chat))
        update_id = api.text(chat, messages[i % len(messages)])
        reply = api.wait_messages(chat, before + 1)[before]
        times.append((reply.at - api.handed_out[update_id]) * 1000)
    return times


def main(argv: list[str] | None = None, *, stack: Stack | None = None) -> int:
    """Measures on `stack` when given (make bench shares one), else on servers of its own."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args(argv)
    if stack is None:
        with running_stack() as own:
            return measure(own, args.turns)
    return measure(stack, args.turns)


def measure(stack: Stack, turns: int) -> int:
    api = FakeBotApi(TOKEN).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bridge = Bridge(Path(tmp), api, stack.env, stack.rasa_port)
            try:
                bridge_turns(api, GREETINGS, 5, 50_000)  # warm both paths
                timed_turns(stack, GREETINGS, 5, "bench-tg-warm")
                for name, messages in (("greeting", GREETINGS), ("search", SEARCHES)):
                    via_bridge = bridge_turns(api, messages, turns, 60_000 if name == "greeting" else 70_000)
                    direct = timed_turns(stack, messages, turns, f"bench-tg-{name}")
                    overhead = statistics.median(via_bridge) - statistics.median(direct)
                    print(
                        f"Telegram {name:<8} update→sendMessage p50 {statistics.median(via_bridge):6.1f} ms  p95 {percentile(via_bridge, 95):6.1f} ms"
                        f" | REST alone p50 {statistics.median(direct):6.1f} ms | bridge overhead p50 {overhead:5.1f} ms ({turns} turns)"
                    )
                print(f"RSS Telegram bridge {rss_mb(bridge.process.pid):7.0f} MB")
            finally:
                bridge.stop()
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
