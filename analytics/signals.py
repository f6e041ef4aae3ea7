"""What one stored conversation says: its sessions, the searches in it (filters, need text, outcome, whether
the user rephrased or said "none of these"), its FAQ questions and how they were answered, hand-offs and
fallbacks. Works on the rows of Rasa's SQL tracker store (`events`: type_name, timestamp, intent_name,
action_name, data JSON), one conversation at a time.

Contracts with the actions (see the README's analytics section): search actions set `search_outcome`
("match" | "no_close_match" | "nothing"; missing means "match", as in conversations from before the slot),
`action_answer_faq` sets `faq_outcome` ("answered" | "low_confidence" | "dont_know").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple

import orjson

SEARCH_INTENTS = frozenset({"find_solution", "find_partner", "refine_search"})
SEARCH_ACTIONS = {
    "action_search_solutions": "solution",
    "action_search_partners": "partner",
    "action_refine_search": None,  # keeps the kind of the search it refines (slot last_kind)
}
SEARCH_OUTCOMES = ("match", "no_close_match", "nothing")
UNMET_OUTCOMES = frozenset({"no_close_match", "nothing"})
FAQ_OUTCOMES = ("answered", "low_confidence", "dont_know")
FAQ_ACTIONS = frozenset({"action_answer_faq", "action_faq_fallback"})
# Below this ResponseSelector confidence an FAQ answer counts as low-confidence when the action did not say.
FAQ_LOW_CONFIDENCE = 0.5
NONE_OF_THESE_INTENTS = frozenset({"deny", "out_of_scope"})
REPHRASE_WINDOW = 2  # user turns after a search in which another need or a "no" counts against it
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})
FALLBACK_UTTERANCES = frozenset({"utter_default"})
HANDOFF_INTENTS = frozenset({"human_handoff"})
HANDOFF_ACTIONS = frozenset({"action_human_handoff"})
TRACKED_SLOTS = frozenset(
    {"sdg", "country", "region", "places", "excluded_countries", "last_query", "last_kind", "search_outcome", "faq_outcome", "language"}
)
SESSION_START = frozenset({"session_started"})
DEFAULT_LANGUAGE = "en"
# Event types the extraction reads; the others (active_loop, loop_interrupted, …) are skipped in SQL.
READ_TYPES = ("user", "bot", "action", "slot", "session_started")


class Row(NamedTuple):
    """One row of the `events` table (data still JSON text: parsed only when needed)."""

    type_name: str
    timestamp: float
    intent_name: str | None
    action_name: str | None
    data: str | None


@dataclass
class Search:
    timestamp: float
    channel: str
    language: str
    kind: str
    query: str
    sdgs: tuple[int, ...]
    country: str | None
    region: str | None
    outcome: str
    rephrased: bool = False
    places: tuple[str, ...] = ()  # alternatives: "Kyrgyzstan or Tajikistan", "the Pacific or the Caribbean"
    excluded: tuple[str, ...] = ()  # countries left out: "except Kenya"


@dataclass
class FaqQuestion:
    timestamp: float
    channel: str
    language: str
    question: str
    key: str | None
    confidence: float | None
    outcome: str


@dataclass
class Session:
    timestamp: float
    channel: str
    language: str
    user_turns: int
    escalated: bool
    fallbacks: int
    abandoned: bool


@dataclass
class ConversationSignals:
    sender_id: str
    sessions: list[Session] = field(default_factory=list)
    searches: list[Search] = field(default_factory=list)
    faq: list[FaqQuestion] = field(default_factory=list)


@dataclass
class _Turn:
    timestamp: float
    intent: str | None
    text: str
    channel: str
    confidence: float | None = None
    faq_key: str | None = None
    actions: list[str] = field(default_factory=list)
    utterances: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)  # set during this turn


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _channel(data: dict[str, Any]) -> str:
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("channel"), str) and metadata["channel"]:
        return metadata["channel"]  # set by the project's channels (the Telegram bridge names itself)
    return data.get("input_channel") or "unknown"


def _user_turn(row: Row) -> _Turn:
    data = _json(row.data)
    parse = data.get("parse_data") or {}
    intent = row.intent_name or (parse.get("intent") or {}).get("name")
    turn = _Turn(row.timestamp, intent, str(data.get("text") or ""), _channel(data))
    selector = (parse.get("response_selector") or {}).get("faq") or {}
    response = selector.get("response") or {}
    if intent == "faq" and response:
        confidence = response.get("confidence")
        turn.confidence = float(confidence) if isinstance(confidence, (int, float)) else None
        key = response.get("intent_response_key") or ""
        turn.faq_key = key.split("/", 1)[1] if "/" in key else (key or None)
    return turn


def sdg_numbers(value: Any) -> tuple[int, ...]:
    """A `sdg` slot value (6, "6", [6, 13], "SDG 6") as goal numbers 1–17."""
    items = value if isinstance(value, (list, tuple)) else [value]
    numbers: list[int] = []
    for item in items:
        digits = "".join(ch for ch in str(item) if ch.isdigit()) if item is not None else ""
        if digits and 1 <= int(digits) <= 17 and int(digits) not in numbers:
            numbers.append(int(digits))
    return tuple(numbers)


def _first_code(value: Any) -> str | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    return str(value) if value else None


def _codes(value: Any) -> tuple[str, ...]:
    """A list slot's place keys (None, one key or a list)."""
    values = value if isinstance(value, (list, tuple)) else [value] if value else []
    return tuple(dict.fromkeys(str(v) for v in values if v))


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _is_search(turn: _Turn) -> bool:
    return turn.intent in SEARCH_INTENTS and any(a in SEARCH_ACTIONS for a in turn.actions)


def _is_fallback(turn: _Turn) -> bool:
    return (
        turn.intent in FALLBACK_INTENTS
        or any(a in FALLBACK_ACTIONS for a in turn.actions)
        or any(u in FALLBACK_UTTERANCES for u in turn.utterances)
    )


def _sessions(rows: Iterable[Row]) -> Iterable[tuple[list[_Turn], list[dict[str, Any]]]]:
    """The user turns of each session, with the tracked slots' values at the end of each turn."""
    turns: list[_Turn] = []
    state: dict[str, Any] = {}
    states: list[dict[str, Any]] = []
    for row in rows:
        kind = row.type_name
        if kind in SESSION_START:
            if turns:
                yield turns, states
            turns, states = [], []
            continue
        if kind == "user":
            turns.append(_user_turn(row))
            states.append(state)
            continue
        if not turns:
            if kind == "slot" and row.action_name in TRACKED_SLOTS:  # carried over into the session
                state = {**state, row.action_name: _json(row.data).get("value")}
            continue
        turn = turns[-1]
        if kind == "action":
            if row.action_name and row.action_name != "action_listen":
                turn.actions.append(row.action_name)
        elif kind == "bot":
            if not row.data or "utter_action" not in row.data:  # most bot rows: no need to parse them
                continue
            utter = (_json(row.data).get("metadata") or {}).get("utter_action")
            if isinstance(utter, str):
                turn.utterances.append(utter)
        elif kind == "slot" and row.action_name in TRACKED_SLOTS:
            value = _json(row.data).get("value")
            turn.slots[row.action_name] = value
            state = {**state, row.action_name: value}
            states[-1] = state
    if turns:
        yield turns, states


def extract(sender_id: str, rows: Iterable[Row]) -> ConversationSignals:
    """Sessions, searches and FAQ questions of one conversation, from its rows in storage order."""
    signals = ConversationSignals(sender_id)
    for turns, states in _sessions(rows):
        language = next(
            (str(s["language"]) for s in reversed(states) if s.get("language")), DEFAULT_LANGUAGE
        )
        channel = turns[0].channel
        searches: list[tuple[int, Search, str]] = []
        for index, (turn, slots) in enumerate(zip(turns, states)):
            if _is_search(turn):
                action_kind = next((SEARCH_ACTIONS[a] for a in turn.actions if a in SEARCH_ACTIONS), None)
                query = str(slots.get("last_query") or "")
                outcome = turn.slots.get("search_outcome")
                search = Search(
                    timestamp=turn.timestamp,
                    channel=turn.channel,
                    language=language,
                    kind=str(action_kind or slots.get("last_kind") or "solution"),
                    query=query,
                    sdgs=sdg_numbers(slots.get("sdg")),
                    country=_first_code(slots.get("country")),
                    region=_first_code(slots.get("region")),
                    outcome=outcome if outcome in SEARCH_OUTCOMES else "match",
                    places=_codes(slots.get("places")),
                    excluded=_codes(slots.get("excluded_countries")),
                )
                searches.append((index, search, _normalise(query)))
            faq_turn = turn.intent == "faq" or any(a in FAQ_ACTIONS for a in turn.actions) or "utter_dont_know" in turn.utterances
            if faq_turn:
                stated = turn.slots.get("faq_outcome")
                if stated in FAQ_OUTCOMES:
                    outcome = stated
                elif "utter_dont_know" in turn.utterances:
                    outcome = "dont_know"
                elif turn.confidence is not None and turn.confidence < FAQ_LOW_CONFIDENCE:
                    outcome = "low_confidence"
                else:
                    outcome = "answered"
                key = turn.faq_key or next(
                    (u.split("/", 1)[1] for u in turn.utterances if u.startswith("utter_faq/")), None
                )
                signals.faq.append(
                    FaqQuestion(turn.timestamp, turn.channel, language, turn.text, key, turn.confidence, outcome)
                )
        for index, search, query in searches:
            for later in range(index + 1, min(index + 1 + REPHRASE_WINDOW, len(turns))):
                if turns[later].intent in NONE_OF_THESE_INTENTS:
                    search.rephrased = True
                    break
                if _is_search(turns[later]):
                    if _normalise(str(states[later].get("last_query") or "")) != query:
                        search.rephrased = True
                        break
            signals.searches.append(search)
        fallbacks = [_is_fallback(t) for t in turns]
        signals.sessions.append(
            Session(
                timestamp=turns[0].timestamp,
                channel=channel,
                language=language,
                user_turns=len(turns),
                escalated=any(t.intent in HANDOFF_INTENTS or any(a in HANDOFF_ACTIONS for a in t.actions) for t in turns),
                fallbacks=sum(fallbacks),
                # Rasa's abandonment: the session ends without a user message after the bot's reply, here a
                # fallback (the user gave up after not being understood).
                abandoned=fallbacks[-1],
            )
        )
    return signals
