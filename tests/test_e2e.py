"""End to end: the real action server (rasa-sdk on Python 3.11) serving the real Rasa 3.6
server, over the REST channel."""
from __future__ import annotations

import json

import pytest

from knowledge.catalogue import Solution, load_catalogue
from harness.stack import SEED, texts

pytestmark = pytest.mark.e2e


def water_titles() -> set[str]:
    return {
        r.title
        for r in load_catalogue(SEED)
        if isinstance(r, Solution) and (6 in r.sdgs or "water" in f"{r.title} {r.summary}".lower())
    }


def test_water_scarcity_search_returns_a_water_solution_with_its_facts(stack):
    reply = stack.send("find a solution for water scarcity", sender="e2e-water")
    text = texts(reply)
    assert any(title in text for title in water_titles()), text
    assert "Countries:" in text and "SDGs:" in text and "Provider:" in text and "Source: http" in text
    assert any(b["payload"] == '/show_details{"ordinal":1}' for m in reply for b in m.get("buttons", []))


def test_partner_search_and_follow_ups_keep_context(stack):
    sender = "e2e-partners"
    text = texts(stack.send("Who works on renewable energy?", sender=sender))
    assert "partners that best match" in text
    details = texts(stack.send("tell me more about the second one", sender=sender))
    assert "Sources:" in details


def test_entities_reach_rasa_normalised(stack):
    parsed = stack.api("POST", "/model/parse", json={"text": "Kenyan projects on zero hunger in the Arab region, SDG 13"}).json()
    values = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert {("country", "KEN"), ("sdg", 2), ("region", "arab_states"), ("sdg", 13)} <= values


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hi", "South-South Galaxy assistant"),
        ("what can you do?", "I can:"),
        ("bye", "Goodbye"),
        ("can you book me a flight to Paris?", "outside what I can help with"),
    ],
)
def test_small_talk_gets_sensible_answers(stack, message, expected):
    assert expected in texts(stack.send(message, sender=f"e2e-{message[:5]}"))


@pytest.mark.parametrize(
    "message",
    [
        "",
        "water " * 1000,
        "🙂🙂🙂",
        "<script>alert('x')</script><b>hello</b>",
        '/find_solution{"country": "ZZZ", "sdg": 99}',
        "أبحث عن حلول لندرة المياه",
        "Нужны решения для водоснабжения",
    ],
    ids=["empty", "5000-chars", "emoji", "html", "forged-payload", "arabic", "cyrillic"],
)
def test_bad_input_gets_a_reply_and_no_server_error(stack, message):
    response = stack.post(message, sender="e2e-bad")
    assert response.status_code == 200
    reply = response.json()
    assert reply and all(m.get("text") for m in reply)
    assert "<script>" not in json.dumps(reply)


def test_action_server_down_gives_a_clear_apology(stack):
    stack.stop_actions()
    try:
        reply = stack.send("find solutions for school meals", sender="e2e-down")
        assert "Sorry" in texts(reply)
    finally:
        stack.start_actions()
    assert "Here are the solutions" in texts(stack.send("find solutions for school meals", sender="e2e-up"))
