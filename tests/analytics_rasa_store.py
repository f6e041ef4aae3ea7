"""Run by Rasa's own Python (.venv-rasa): saves the seeded conversations through Rasa's real SQLTrackerStore,
so the analytics tests can read rows exactly as Rasa writes them. Usage: python analytics_rasa_store.py EVENTS.json URL"""
import asyncio
import json
import sys

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker


async def main(events_path: str, url: str) -> None:
    domain = Domain.load("domain.yml")
    store = SQLTrackerStore(domain, host=url)
    conversations = json.load(open(events_path, encoding="utf-8"))
    for sender, events in conversations.items():
        tracker = DialogueStateTracker.from_events(sender, [Event.from_parameters(e) for e in events], domain.slots)
        await store.save(tracker)
    for sender, events in conversations.items():  # and they read back whole
        assert len((await store.retrieve_full_tracker(sender)).events) == len(events), sender


asyncio.run(main(sys.argv[1], sys.argv[2]))
