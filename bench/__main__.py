"""`make bench`: the assistant's numbers (REST latency, memory, training and start-up times), the
Telegram bridge's overhead, the web widget's (first reply, socket.io round trip), then the knowledge
numbers (embedding, ingestion, search latency at 1k/10k/100k)."""
from bench import knowledge, stack, telegram, widget

print("== assistant (REST, both servers) ==", flush=True)
stack.main()
print("\n== Telegram bridge (fake Bot API on loopback) ==", flush=True)
telegram.main([])
print("\n== web widget (headless Chromium, socket.io) ==", flush=True)
widget.main([])
print("\n== knowledge (embedding, ingestion, search) ==", flush=True)
raise SystemExit(knowledge.main([]))
