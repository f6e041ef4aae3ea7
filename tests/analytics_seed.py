"""A known set of conversations, introductions, hand-offs and feedback for the analytics tests, with the
numbers the report must show for them. Personal data in the introductions store carries the word "Canary"
so the privacy tests can look for it."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from analytics.synthetic import Conversation, write_conversations

START = datetime(2026, 10, 5, 9, 0, tzinfo=timezone.utc).timestamp()
DAY = 86400.0
# Personal data that must never reach the dashboard or the report.
PII = (
    "Amina Canary", "amina.canary@example.org", "Canary Ministry of Water", "Canary message to the partner",
    "Canary topic for staff", "canary.handoff@example.org", "jane.doe@example.org", "712 345 678",
)
EMAIL_NEED = "please contact me at jane.doe@example.org about school meals"
LITHIUM = ("lithium battery recycling plants", "recycling lithium batteries in factories")


def conversations() -> list[Conversation]:
    a = Conversation("socketio:a", START, "socketio")
    a.search("water scarcity in Kenyan villages", sdg=6, country="KEN", outcome="match",
             buttons=[{"title": "👍", "payload": '/feedback{"rating":"up","answer":"search:water scarcity in Kenyan villages"}'}])
    a.new_session(after_seconds=2 * 3600)
    a.faq("what is the south-south galaxy?", "what_is_galaxy", confidence=0.92)

    b = Conversation("telegram:b", START + 1 * DAY, "telegram", language="fr")
    b.search(LITHIUM[0], outcome="nothing")
    b.search(LITHIUM[1], outcome="no_close_match")

    c = Conversation("rest:c", START + 2 * DAY, "rest")
    c.search("solar mini grids for islands", sdg=7, region="asia_pacific", outcome="match")
    c.say("none of these", "deny", "utter_deny")
    # places joined by "or" count for each country and each division; a country left out is counted apart
    c.search("drip irrigation for smallholder farms", sdg=2, places=("KGZ", "FJI"), excluded=("UZB",), outcome="match")

    d = Conversation("socketio:d", START + 3 * DAY, "socketio")
    d.fallback("asdfgh")

    e = Conversation("telegram:e", START + 4 * DAY, "telegram")
    e.dont_know("who is the director of unossc?")
    e.handoff()

    f = Conversation("socketio:f", START + 40 * DAY, "socketio")
    f.faq("how much does the galaxy cost?", "galaxy_launch", confidence=0.3)
    f.search(EMAIL_NEED, sdg=2, outcome="no_close_match")
    f.search("school meals for primary schools", outcome=None)  # before the search_outcome contract
    return [a, b, c, d, e, f]


# What the report must say about them.
EXPECTED = {
    "sessions": 7,
    "channels": {"web widget": 4, "Telegram": 2, "REST API": 1},
    "languages": {"en": 6, "fr": 1},
    "escalated": 1,
    "abandoned": 1,
    "searches": 7,
    "division_counts": 8,  # c's last search names two divisions
    "outcomes": {"match": 4, "nothing": 1, "no_close_match": 2},
    "unmet": 3,
    "rephrased_after_results": 1,  # c: "none of these"
    "filter_sdgs": {6: 1, 7: 1, 2: 2},
    "countries": {"KEN": 1, "KGZ": 1, "FJI": 1},
    "left_out": {"UZB": 1},
    "regions_at_least": {"africa": 1, "asia_pacific": 2, "europe_cis": 1},
    "faq": {"answered": 1, "low_confidence": 1, "dont_know": 1},
    "funnel": {"requested": 6, "delivered": 4, "accepted": 2, "declined": 1, "expired": 1},
    "median_decision": "24.0 h",
    "handoffs": {"asked (with or without consent)": 3, "sent with consent": 2, "open": 1, "closed": 1},
    "feedback": {"ratings": 2, "up": 1, "down": 1},
}
UNTAGGED_NEEDS = (LITHIUM[0], LITHIUM[1], "school meals for primary schools")


def write_tracker_store(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    write_conversations(engine, conversations())
    engine.dispose()
    return url


def events_by_sender() -> dict[str, list[dict]]:
    return {c.sender_id: c.events for c in conversations()}


def seed_introductions(database_url: str) -> None:
    from introductions.db import upgrade
    from introductions.feedback import FeedbackStore
    from introductions.models import Handoff, HandoffAsked, Introduction
    from introductions.db import make_engine
    from knowledge.settings import Settings
    from sqlalchemy.orm import Session

    upgrade(database_url)
    engine = make_engine(database_url)
    created = datetime.fromtimestamp(START, timezone.utc)
    plan = [  # status, partner, hours to the decision
        ("accepted", "p-amexcid", 24), ("accepted", "p-tika", 48), ("declined", "p-amexcid", 12),
        ("expired", "p-tika", None), ("pending", "p-amexcid", None), ("delivered", "p-tika", None),
    ]
    with Session(engine) as session:
        for n, (status, partner, hours) in enumerate(plan):
            session.add(Introduction(
                reference=f"GX-TEST{n:02d}", created_at=created, updated_at=created, conversation_id=f"socketio:intro{n}",
                channel="socketio", target_kind="partner", target_id=partner, partner_id=partner,
                requester_name="Amina Canary", requester_organisation="Canary Ministry of Water", requester_role="Director",
                requester_email="amina.canary@example.org", message="Canary message to the partner", consent_at=created,
                status=status, idempotency_key=f"key-{n}", expires_at=created + timedelta(days=14),
                decided_at=created + timedelta(hours=hours) if hours else None,
            ))
        for n, status in enumerate(("open", "closed")):
            session.add(Handoff(
                reference=f"GH-TEST{n:02d}", created_at=created, updated_at=created, conversation_id=f"telegram:h{n}",
                channel="telegram", topic="Canary topic for staff", email="canary.handoff@example.org", consent_at=created,
                status=status, idempotency_key=f"h-{n}", closed_at=created + timedelta(hours=5) if status == "closed" else None,
            ))
        for _ in range(3):
            session.add(HandoffAsked(asked_on=created.date(), channel="telegram"))
        session.commit()
    engine.dispose()
    store = FeedbackStore(database_url, Settings(), clock=lambda: created + timedelta(days=1))
    store.record("socketio:a", "socketio", "up", "search:water scarcity in Kenyan villages", verified=True)
    down = store.record("rest:c", "rest", "down", "search:solar mini grids for islands", verified=True)
    store.add_reason(down.id, "rest:c", "all results were in Africa, call me on +254 712 345 678")
    store.record("socketio:d", "socketio", "down", "search:forged answer", verified=False)
    store.close()


def dump_events(path: Path) -> None:
    path.write_text(json.dumps(events_by_sender()), encoding="utf-8")
