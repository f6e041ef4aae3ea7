"""`make bench`: the assistant's numbers (REST latency, memory, training and start-up times), the
Telegram bridge's overhead, the web widget's (first reply, socket.io round trip), then the knowledge
numbers (embedding, ingestion, search latency at 1k/10k/100k)."""
from bench import cross_lingual, knowledge, security, stack, telegram, widget


def channels(running: stack.Stack) -> None:
    """The channel benchmarks, on the servers the REST benchmark started (started once, not three times)."""
    print("\n== Telegram bridge (fake Bot API on loopback) ==", flush=True)
    telegram.main([], stack=running)
    print("\n== web widget (headless Chromium, socket.io) ==", flush=True)
    widget.main([], stack=running)


print("== assistant (REST, both servers) ==", flush=True)
stack.main([], after=channels)
print("\n== private surfaces (checks added per turn) ==", flush=True)
security.main([])
print("\n== cross-lingual retrieval (language identification, multilingual encoder) ==", flush=True)
cross_lingual.main([])
print("\n== knowledge (embedding, ingestion, search) ==", flush=True)
raise SystemExit(knowledge.main([]))
