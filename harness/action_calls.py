"""What Rasa posts to the action server's /webhook, built for tests and benchmarks that call the
action server directly, without a Rasa process."""
from __future__ import annotations

from typing import Any


def action_call(
    action: str,
    text: str,
    sender: str = "visitor-1",
    slots: dict[str, Any] | None = None,
    *,
    intent: str = "find_solution",
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The body Rasa posts to /webhook: the whole tracker travels with the call."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": 0.95}],
        "metadata": {},
    }
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": latest,
            "events": [{"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
