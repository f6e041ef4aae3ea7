"""Clearly synthetic conversations for tests and benchmarks, written as the rows Rasa's SQLTrackerStore writes
(table `events`: type_name, timestamp, intent_name, action_name = the event's "name", data = the event's
JSON): `python -m analytics.synthetic N [--url sqlite:///…] [--seed 7]`.

Every sender id starts with `synthetic-`, so these can never be mistaken for real conversations. The
`Conversation` builder is also what the tests seed known conversations with."""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import sqlalchemy as sa

# Rasa 3.6's SQLTrackerStore.SQLEvent, column for column.
METADATA = sa.MetaData()
EVENTS_TABLE = sa.Table(
    "events",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)
SYNTHETIC_PREFIX = "synthetic-"


def create_events_table(engine: sa.engine.Engine) -> None:
    METADATA.create_all(engine, tables=[EVENTS_TABLE])


def event_row(sender_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The row SQLTrackerStore.save writes for one event dict (Event.as_dict())."""
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return {
        "sender_id": sender_id,
        "type_name": event["event"],
        "timestamp": event.get("timestamp"),
        "intent_name": intent,
        "action_name": event.get("name"),
        "data": json.dumps(event),
    }


def write_conversations(engine: sa.engine.Engine, conversations: Iterable["Conversation"], batch: int = 20_000) -> int:
    """Inserts the conversations' rows; returns how many conversations were written."""
    create_events_table(engine)
    written = 0
    pending: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for conversation in conversations:
            pending.extend(event_row(conversation.sender_id, e) for e in conversation.events)
            written += 1
            if len(pending) >= batch:
                connection.execute(EVENTS_TABLE.insert(), pending)
                pending = []
        if pending:
            connection.execute(EVENTS_TABLE.insert(), pending)
    return written


@dataclass
class Conversation:
    """Builds one conversation's events the way Rasa records them (user, action, slot, bot, action_listen)."""

    sender_id: str
    start: float
    channel: str = "socketio"  # rest | socketio | telegram (the project's channel names)
    language: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    clock: float = 0.0

    def __post_init__(self) -> None:
        self.clock = self.start
        self.new_session()

    def _tick(self, seconds: float = 1.0) -> float:
        self.clock += seconds
        return self.clock

    def new_session(self, after_seconds: float = 0.0) -> "Conversation":
        self._tick(after_seconds)
        self.action("action_session_start")
        self.events.append({"event": "session_started", "timestamp": self._tick(0.01), "metadata": {}})
        if self.language:
            self.slot("language", self.language)
        self.action("action_listen")
        return self

    def action(self, name: str) -> "Conversation":
        self.events.append(
            {"event": "action", "timestamp": self._tick(0.01), "metadata": {}, "name": name, "policy": None,
             "confidence": 1.0, "action_text": None, "hide_rule_turn": False}
        )
        return self

    def slot(self, name: str, value: Any) -> "Conversation":
        self.events.append({"event": "slot", "timestamp": self._tick(0.01), "metadata": {}, "name": name, "value": value})
        return self

    def bot(self, text: str, utter_action: str | None = None, buttons: list[dict[str, Any]] | None = None) -> "Conversation":
        metadata = {"utter_action": utter_action} if utter_action else {}
        self.events.append(
            {"event": "bot", "timestamp": self._tick(0.01), "metadata": metadata, "text": text,
             "data": {"elements": None, "quick_replies": None, "buttons": buttons, "attachment": None,
                      "image": None, "custom": None}}
        )
        return self

    def user(self, text: str, intent: str, *, confidence: float = 0.93, entities: list[dict[str, Any]] | None = None,
             faq: tuple[str, float] | None = None, gap: float = 20.0) -> "Conversation":
        metadata = {"channel": self.channel}
        parse: dict[str, Any] = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "text": text,
            "message_id": uuid.uuid4().hex,
            "metadata": metadata,
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        }
        if faq is not None:
            key, score = faq
            parse["response_selector"] = {
                "all_retrieval_intents": ["faq"],
                "faq": {"response": {"responses": [{"text": "…"}], "confidence": score,
                                     "intent_response_key": f"faq/{key}", "utter_action": f"utter_faq/{key}"},
                        "ranking": []},
            }
        self.events.append(
            {"event": "user", "timestamp": self._tick(gap), "metadata": metadata, "text": text, "parse_data": parse,
             "input_channel": self.channel, "message_id": parse["message_id"]}
        )
        return self

    def listen(self) -> "Conversation":
        return self.action("action_listen")

    # -- turns as the Galaxy's actions record them --------------------------------------------------

    def search(self, need: str, *, kind: str = "solution", sdg: int | None = None, country: str | None = None,
               region: str | None = None, outcome: str | None = "match", intent: str | None = None,
               text: str | None = None, buttons: list[dict[str, Any]] | None = None,
               places: Sequence[str] = (), excluded: Sequence[str] = ()) -> "Conversation":
        intent = intent or ("find_partner" if kind == "partner" else "find_solution")
        self.user(text or need, intent)
        action = {"find_partner": "action_search_partners", "refine_search": "action_refine_search"}.get(intent, "action_search_solutions")
        self.action(action)
        self.slot("sdg", sdg).slot("country", country).slot("region", region)
        self.slot("places", list(places) or None).slot("excluded_countries", list(excluded) or None)
        self.slot("last_query", need).slot("last_kind", kind)
        if outcome is not None:  # None: a conversation from before the search_outcome contract
            self.slot("search_outcome", outcome)
        self.bot("Here are the solutions that best match:" if outcome != "nothing" else "I found nothing for that.",
                 buttons=buttons)
        return self.listen()

    def faq(self, question: str, key: str, *, confidence: float = 0.9, outcome: str | None = None) -> "Conversation":
        self.user(question, "faq", faq=(key, confidence))
        if outcome == "dont_know":
            self.action("action_answer_faq").slot("faq_outcome", "dont_know").bot("I don't know.", "utter_dont_know")
        elif outcome is not None:
            self.action("action_answer_faq").slot("faq_outcome", outcome).bot("An answer.", f"utter_faq/{key}")
        else:
            self.action(f"utter_faq").bot("An answer.", f"utter_faq/{key}")
        return self.listen()

    def dont_know(self, question: str) -> "Conversation":
        """An FAQ question nobody answers (action_faq_fallback → utter_dont_know)."""
        self.user(question, "faq", faq=("unknown", 0.31))
        self.action("action_faq_fallback").bot("I don't know the answer to that.", "utter_dont_know")
        return self.listen()

    def fallback(self, text: str) -> "Conversation":
        self.user(text, "nlu_fallback", confidence=0.3)
        self.action("action_default_fallback").bot("Sorry, I didn't get that.", "utter_default")
        return self.listen()

    def say(self, text: str, intent: str, utter: str | None = None) -> "Conversation":
        self.user(text, intent)
        if utter:
            self.action(utter).bot("…", utter)
        return self.listen()

    def handoff(self, text: str = "I want to talk to a person") -> "Conversation":
        self.user(text, "human_handoff")
        self.action("action_human_handoff").bot("I can pass your question to a person at UNOSSC.", "utter_handoff_start")
        return self.listen()


# -- the random generator -------------------------------------------------------------------------------

THEMES = {
    2: ["school meals", "smallholder farming", "food security", "drought resistant seeds", "fish farming"],
    3: ["maternal health", "malaria control", "telemedicine", "vaccine cold chain", "community health workers"],
    4: ["teacher training", "girls education", "digital classrooms", "vocational skills"],
    5: ["women entrepreneurs", "gender based violence", "women in leadership"],
    6: ["water scarcity", "drinking water", "sanitation in slums", "rainwater harvesting", "wastewater reuse"],
    7: ["solar mini grids", "clean cooking", "rural electrification", "renewable energy"],
    8: ["youth employment", "tourism jobs", "microfinance"],
    9: ["digital government", "broadband in rural areas", "e-commerce for small business"],
    11: ["urban flooding", "affordable housing", "waste collection in cities"],
    13: ["climate adaptation", "early warning systems", "mangrove restoration", "disaster risk reduction"],
    14: ["coral reefs", "sustainable fisheries", "plastic in the ocean"],
    15: ["desertification", "forest fires", "reforestation"],
    16: ["land registration", "justice for migrants", "anti corruption"],
    17: ["south-south trade", "statistics capacity", "debt management"],
}
# Needs the catalogue cannot answer: the unmet demand the report should surface.
UNMET = [
    "space weather monitoring for satellites", "lithium battery recycling plants", "insurance for camel herders",
    "quantum computing research hubs", "snow leopard conservation corridors", "deep sea mining regulation",
    "eSports academies for youth", "halal food certification labs", "locust swarm drones",
]
TEMPLATES = [
    "solutions for {t}", "{t} projects", "how did other countries handle {t}", "we need help with {t}",
    "{t} in {c}", "who works on {t}", "examples of {t} programmes", "our ministry wants to improve {t}",
]
COUNTRIES = ["KEN", "NGA", "IND", "BRA", "MEX", "EGY", "IDN", "BGD", "ZAF", "PER", "JOR", "VNM", "GHA", "COL", "PAK"]
COUNTRY_NAMES = {"KEN": "Kenya", "NGA": "Nigeria", "IND": "India", "BRA": "Brazil", "MEX": "Mexico", "EGY": "Egypt",
                 "IDN": "Indonesia", "BGD": "Bangladesh", "ZAF": "South Africa", "PER": "Peru", "JOR": "Jordan",
                 "VNM": "Viet Nam", "GHA": "Ghana", "COL": "Colombia", "PAK": "Pakistan"}
REGIONS = ["africa", "arab_states", "asia_pacific", "europe_cis", "latin_america_caribbean"]
CHANNELS = (("socketio", 0.55), ("telegram", 0.3), ("rest", 0.15))
LANGUAGES = ((None, 0.7), ("fr", 0.12), ("es", 0.1), ("ar", 0.08))
FAQ_KEYS = ["what_is_galaxy", "who_developed_galaxy", "galaxy_launch", "galaxy_ai_matchmaking"]


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...]) -> Any:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def synthetic_conversation(rng: random.Random, index: int, start: float, span_days: float) -> Conversation:
    when = start + rng.random() * span_days * 86400
    conversation = Conversation(f"{SYNTHETIC_PREFIX}{index:07d}", when, _pick(rng, CHANNELS), _pick(rng, LANGUAGES))
    for turn in range(rng.choice((1, 1, 2, 2, 3, 4))):
        roll = rng.random()
        if roll < 0.62:
            unmet = rng.random() < 0.12
            sdg = rng.choice(list(THEMES))
            theme = rng.choice(UNMET) if unmet else rng.choice(THEMES[sdg])
            country = rng.choice(COUNTRIES) if rng.random() < 0.4 else None
            need = rng.choice(TEMPLATES).format(t=theme, c=COUNTRY_NAMES.get(country or "", "our region"))
            outcome = rng.choice(("no_close_match", "nothing")) if unmet else (
                "match" if rng.random() < 0.85 else "no_close_match")
            places = tuple(rng.sample(COUNTRIES, 2)) if (country is None and rng.random() < 0.05) else ()  # "X or Y"
            conversation.search(
                need, kind="partner" if need.startswith("who") else "solution",
                sdg=sdg if (not unmet and rng.random() < 0.3) else None, country=country,
                region=rng.choice(REGIONS) if (country is None and not places and rng.random() < 0.25) else None, outcome=outcome,
                places=places, excluded=(rng.choice(COUNTRIES),) if rng.random() < 0.03 else (),
            )
            if rng.random() < 0.1:
                conversation.say("none of these", "deny", "utter_deny")
        elif roll < 0.8:
            if rng.random() < 0.15:
                conversation.dont_know(rng.choice(["who is the director of unossc", "how much does the galaxy cost",
                                                   "can I upload a video", "is there an app for android"]))
            else:
                conversation.faq("what is the south-south galaxy?", rng.choice(FAQ_KEYS),
                                 confidence=rng.choice((0.95, 0.9, 0.8, 0.42)))
        elif roll < 0.9:
            conversation.fallback(rng.choice(["asdfgh", "hmm", "??", "blue"]))
        elif roll < 0.93:
            conversation.handoff()
        else:
            conversation.say("thanks", "thank", "utter_thank")
    return conversation


def synthetic_conversations(count: int, *, seed: int = 7, span_days: float = 180.0, end: float | None = None) -> Iterable[Conversation]:
    rng = random.Random(seed)
    start = (end if end is not None else time.time()) - span_days * 86400
    for index in range(count):
        yield synthetic_conversation(rng, index, start, span_days)


def main(argv: list[str] | None = None) -> int:
    from introductions.conversations import conversation_engine
    from knowledge.settings import settings

    parser = argparse.ArgumentParser(prog="python -m analytics.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="how many conversations")
    parser.add_argument("--url", help="tracker store URL (default: a synthetic SQLite file in the state dir, never TRACKER_STORE_URL)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=float, default=180.0, help="spread over the last N days")
    args = parser.parse_args(argv)
    url = args.url or f"sqlite:///{settings().state_dir / 'bench' / 'synthetic_conversations.sqlite3'}"
    engine = conversation_engine(url)
    started = time.perf_counter()
    written = write_conversations(engine, synthetic_conversations(args.count, seed=args.seed, span_days=args.days))
    engine.dispose()
    print(f"{written} synthetic conversations written to {url.split('///')[-1] if url.startswith('sqlite') else 'the database'} "
          f"in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
