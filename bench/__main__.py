"""`make bench`: the assistant's numbers (REST latency, memory, training and start-up times),
then the knowledge numbers (embedding, ingestion, search latency at 1k/10k/100k)."""
from bench import knowledge, stack

print("== assistant (REST, both servers) ==", flush=True)
stack.main()
print("\n== knowledge (embedding, ingestion, search) ==", flush=True)
raise SystemExit(knowledge.main([]))
