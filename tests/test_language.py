"""Reply language: the identifier (bot/nlu/language_id.py), the Rasa component (run in Rasa's own
environment), the `language` slot's mapping action, and actions that answer a French, Russian or
Arabic user in that language."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionDetectLanguage, ActionSwitchLanguage
from actions.search import ActionSearchSolutions
from actions.support import ActionClarify
from bot.nlu.language_id import identify, requested_languages

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Je cherche des solutions pour la sécurité alimentaire au Sénégal", "fr"),
        ("Ищу решения для водоснабжения в сельских районах", "ru"),
        ("أبحث عن حلول لندرة المياه في الأردن", "ar"),
        ("find solutions for water scarcity in Kenya", "en"),
        ("أبحث عن solutions for renewable energy", "ar"),  # code-switching keeps the user's language
        ("да", "ru"),
        ("مرحبا", "ar"),
        ("who pays", None),  # "pays" is French, "who" is not: a short message keeps the conversation's language
        ("et le deuxième ?", "fr"),
    ],
)
def test_identifies_the_four_languages(text, code):
    assert identify(text).code == code


@pytest.mark.parametrize("text", ["ok", "2", "👍🙂", "Kenya", "merci", "privet, ishchu resheniya", "salam aleikum, ana abhath"])
def test_short_ambiguous_or_transliterated_messages_name_no_language(text):
    found = identify(text)
    assert found.code is None and found.supported


@pytest.mark.parametrize(("text", "code"), [("hola, quiero soluciones para el agua potable", "es"), ("merhaba, su çözümleri arıyorum", "tr"), ("我想找水资源的解决方案", "zh")])
def test_languages_we_do_not_speak_are_told_apart(text, code):
    found = identify(text)
    assert (found.code, found.detected, found.supported) == (None, code, False)


@pytest.mark.parametrize("text", ["are you an actual person?", "wait, are you an actual person?"])
def test_english_the_identifier_half_reads_as_another_language_is_not_refused(text):
    # lid.176 calls these Spanish at 0.89 with English the runner-up at 0.07: not "a language I don't speak"
    assert identify(text).supported


@pytest.mark.parametrize(
    ("text", "code"),
    [("in Russian please", "ru"), ("en français svp", "fr"), ("по-русски, пожалуйста", "ru"), ("بالعربية من فضلك", "ar"), ("reply in English", "en")],
)
def test_requested_language(text, code):
    assert [c for c, _, _ in requested_languages(text)] == [code]


COMPONENT_SCRIPT = r"""
import json, sys
from rasa.shared.nlu.training_data.message import Message
from bot.nlu.language import LanguageIdentifier
cases = json.loads(sys.argv[1])
component = LanguageIdentifier.create({}, None, None, None)
out = []
for text, intent in cases:
    m = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []})
    component.process([m])
    out.append({"language": m.get("language"), "intent": m.get("intent")["name"], "entities": m.get("entities")})
print(json.dumps(out))
"""


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="Rasa's environment is not installed")
def test_the_rasa_component_reports_language_switches_and_unsupported_languages():
    cases = [
        ["Je cherche des solutions pour l'agriculture", "find_solution"],
        ["ok", "affirm"],
        ["in Russian please", "switch_language"],
        ["français", "nlu_fallback"],
        ["quiero soluciones para el agua potable en Bolivia", "find_solution"],
        ["partners in French-speaking Africa working on health", "find_partner"],
        ["Мы ищем решения для водоснабжения сельских районов", "switch_language"],
        ["сменить язык", "switch_language"],
    ]
    done = subprocess.run([str(RASA_PYTHON), "-c", COMPONENT_SCRIPT, json.dumps(cases)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    french, ok, russian, bare, spanish, search, mistaken, change = json.loads(done.stdout.strip().splitlines()[-1])
    assert french["language"]["code"] == "fr" and french["intent"] == "find_solution"
    assert ok["language"]["code"] is None and ok["entities"] == []
    assert [(e["entity"], e["value"]) for e in russian["entities"]] == [("language", "ru")]
    assert bare["intent"] == "switch_language" and bare["entities"][0]["value"] == "fr"
    assert spanish["intent"] == "nlu_fallback" and spanish["language"]["supported"] is False
    assert search["intent"] == "find_partner" and search["entities"] == []  # naming a language is not a switch
    # a Russian need the classifier took for a switch (no language named, no "language" word): clarify
    assert mistaken["intent"] == "nlu_fallback" and mistaken["language"]["code"] == "ru"
    assert change["intent"] == "switch_language" and change["entities"] == []


def conversation(text: str, *, language: str | None = "en", detected: dict[str, Any] | None = None, entities=None, events=None,
                 metadata=None, intent: str = "find_solution", slots: dict[str, Any] | None = None) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": [{"name": intent, "confidence": 0.9}],
        "entities": entities or [],
        "metadata": metadata or {},
        "language": detected if detected is not None else identify(text).__dict__,
    }
    all_slots = {"language": language, **(slots or {})}
    history = list(events or []) + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker("lang-user", all_slots, latest, history, False, None, {}, "action_listen")


async def detect(tracker: Tracker) -> list[dict[str, Any]]:
    return await ActionDetectLanguage().run(CollectingDispatcher(), tracker, {})


@pytest.mark.asyncio
async def test_slot_follows_the_message_and_short_messages_keep_it():
    assert await detect(conversation("Je cherche des solutions pour l'agriculture")) == [{"event": "slot", "timestamp": None, "name": "language", "value": "fr"}]
    earlier = [{"event": "user", "text": "Bonjour, je cherche des partenaires"}]
    assert await detect(conversation("ok", language="fr", events=earlier)) == []
    assert await detect(conversation("2", language="ru", events=earlier)) == []


@pytest.mark.asyncio
async def test_a_switch_request_wins_over_the_language_it_is_written_in():
    tracker = conversation("in Russian please", entities=[{"entity": "language", "value": "ru"}], intent="switch_language")
    assert (await detect(tracker))[0]["value"] == "ru"


@pytest.mark.asyncio
async def test_a_pressed_button_keeps_the_language():
    offered = [{"event": "user", "text": "Bonjour"}, {"event": "bot", "text": "Bonjour !", "data": {"buttons": [{"title": "Solutions contre la pénurie d'eau", "payload": "find solutions for water scarcity"}]}}]
    assert await detect(conversation("find solutions for water scarcity", language="fr", events=offered)) == []


@pytest.mark.asyncio
async def test_telegram_language_code_is_a_hint_for_a_new_conversation_only():
    first = conversation("hi", metadata={"channel": "telegram", "language_code": "ru-RU"})
    assert (await detect(first))[0]["value"] == "ru"
    later = conversation("hi", language="en", metadata={"language_code": "ru"}, events=[{"event": "user", "text": "hello there"}])
    assert await detect(later) == []


@pytest.mark.asyncio
async def test_switch_confirms_in_the_new_language_and_notes_records_are_in_english():
    dispatcher = CollectingDispatcher()
    tracker = conversation("en français svp", language="fr", entities=[{"entity": "language", "value": "fr"}], intent="switch_language")
    events = await ActionSwitchLanguage().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == "Entendu, je vous répondrai désormais en français."
    assert "anglais" in dispatcher.messages[1]["text"]
    assert {"event": "slot", "timestamp": None, "name": "records_note_shown", "value": True} in events


@pytest.mark.asyncio
async def test_switch_without_a_language_offers_the_four():
    dispatcher = CollectingDispatcher()
    await ActionSwitchLanguage().run(dispatcher, conversation("changer de langue", language="fr", intent="switch_language"), {})
    (message,) = dispatcher.messages
    assert message["text"].startswith("Je peux vous répondre")
    assert [b["payload"] for b in message["buttons"]] == [f'/switch_language{{"language":"{c}"}}' for c in ("en", "fr", "ru", "ar")]


@pytest.mark.asyncio
async def test_a_french_user_gets_french_results(context):
    dispatcher = CollectingDispatcher()
    # (cross-lingual retrieval is another change: the need is in English, the conversation in French)
    text = "find a solution for water scarcity in Kenya"
    tracker = conversation(text, language="fr", detected={"code": None}, entities=[{"entity": "country", "value": "KEN", "start": 37, "end": 42}])
    events = await ActionSearchSolutions(context).run(dispatcher, tracker, {})
    listing = dispatcher.messages[0]
    assert listing["text"].startswith(f"Voici les solutions qui correspondent le mieux à « {text} » (filtres : Kenya) :")
    assert "Pays: Kenya, Éthiopie" in listing["text"]
    assert "6 (Eau propre et assainissement)" in listing["text"]
    assert "Pourquoi: " in listing["text"] and "Source: https://example.org/s/rainwater" in listing["text"]
    titles = [b["title"] for b in listing["buttons"]]
    assert "Détails du n° 1" in titles
    payloads = [b["payload"] for b in listing["buttons"]]
    assert '/show_details{"ordinal":1}' in payloads  # payloads stay language-independent
    # once per conversation: the records are in English
    assert "anglais" in dispatcher.messages[1]["text"]
    assert any(e.get("name") == "records_note_shown" and e.get("value") is True for e in events)
    again = CollectingDispatcher()
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    await ActionSearchSolutions(context).run(again, conversation("énergie solaire pour les écoles", language="fr", slots={**slots, "last_query": None}), {})
    assert all("anglais" not in m["text"] for m in again.messages)


@pytest.mark.asyncio
@pytest.mark.parametrize(("language", "opening"), [("ru", "Вот результаты (решения)"), ("ar", "إليك الحلول")])
async def test_russian_and_arabic_users_get_their_language(context, language, opening):
    dispatcher = CollectingDispatcher()
    await ActionSearchSolutions(context).run(dispatcher, conversation("rainwater harvesting for dryland villages", language=language, detected={"code": None}), {})
    assert dispatcher.messages[0]["text"].startswith(opening)


@pytest.mark.asyncio
async def test_a_language_we_do_not_speak_gets_english_with_the_four_languages(context):
    dispatcher = CollectingDispatcher()
    tracker = conversation("hola, quiero soluciones para el agua potable", language="fr", intent="nlu_fallback")
    await ActionClarify(context).run(dispatcher, tracker, {})
    (message,) = dispatcher.messages
    assert message["text"].startswith("Sorry, I can only reply in English, French, Russian and Arabic")
    assert [b["title"] for b in message["buttons"]] == ["English", "Français", "Русский", "العربية"]


@pytest.mark.asyncio
async def test_clarify_in_french(context):
    dispatcher = CollectingDispatcher()
    tracker = conversation("euh bof machin", language="fr", detected={"code": None, "supported": True}, intent="nlu_fallback")
    await ActionClarify(context).run(dispatcher, tracker, {})
    assert dispatcher.messages[-1]["text"].startswith("Je ne suis pas certain d'avoir compris.")


@pytest.mark.asyncio
async def test_a_french_user_gets_the_faq_answer_in_french(context):
    from actions.support import ActionFaqFallback

    dispatcher = CollectingDispatcher()
    await ActionFaqFallback(context).run(dispatcher, conversation("when was the Galaxy launched?", language="fr", detected={"code": None}, intent="faq"), {})
    assert dispatcher.messages[0]["text"].startswith("Un prototype a été dévoilé à Buenos Aires le 19 mars 2019")
