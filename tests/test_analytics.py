"""Staff analytics on a known set of conversations (saved through Rasa's real SQLTrackerStore, and as the same
rows written directly), introductions, hand-offs and feedback: the report's numbers equal the seeded ones,
unmet needs are grouped by theme, need texts are masked, no personal data reaches the report; the feedback
store, its actions (forged payloads, other conversations), the staff CLI, retention and erasure."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk import Tracker

from analytics.dataset import build_dataset
from analytics.report import View, render_report, summary_numbers
from knowledge.masking import mask_text
from knowledge.settings import PROJECT_ROOT, Settings, load_settings

sys.path.insert(0, str(Path(__file__).parent))
import analytics_seed as seed  # noqa: E402

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def _rasa_written_store(tmp: Path) -> str:
    """The seeded conversations saved by Rasa's own SQLTrackerStore (Rasa's Python environment)."""
    if not RASA_PYTHON.exists():
        pytest.fail("no .venv-rasa: run `make install`")
    events = tmp / "events.json"
    seed.dump_events(events)
    url = f"sqlite:///{tmp / 'rasa_conversations.sqlite3'}"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONWARNINGS": "ignore", "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run([str(RASA_PYTHON), str(Path(__file__).parent / "analytics_rasa_store.py"), str(events), url],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return url


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analytics")
    database_url = f"sqlite:///{tmp / 'introductions.sqlite3'}"
    seed.seed_introductions(database_url)
    return {
        "rasa": _rasa_written_store(tmp),
        "rows": seed.write_tracker_store(tmp / "rows.sqlite3"),
        "database_url": database_url,
        "tmp": tmp,
    }


@pytest.fixture(scope="module")
def tagger(embedder):
    from knowledge.sdg import SdgTagger

    return SdgTagger(embedder)


@pytest.fixture(scope="module", params=["rasa", "rows"])
def dataset(request, stores, embedder, tagger):
    return build_dataset(stores[request.param], stores["database_url"], embedder=embedder, tagger=tagger,
                         cache_path=stores["tmp"] / f"cache_{request.param}.sqlite3")


def _table(numbers: dict, section: str, panel: str) -> dict:
    rows = numbers[section][panel]["rows"]
    return {row[0]: row[1] for row in rows}


def test_report_numbers_equal_the_seeded_conversations(dataset, tagger):
    numbers = summary_numbers(dataset, View())
    expected = seed.EXPECTED
    channels = _table(numbers, "overview", "channels")
    assert channels.pop("all") == expected["sessions"]
    assert channels == expected["channels"]
    assert _table(numbers, "overview", "languages") == expected["languages"]
    kpis = numbers["overview"]["kpis"]
    assert kpis["escalation rate"] == f"{100 * expected['escalated'] / expected['sessions']:.1f}%"
    assert kpis["containment"] == f"{100 * (expected['sessions'] - expected['escalated']) / expected['sessions']:.1f}%"
    assert kpis["abandonment"] == f"{100 * expected['abandoned'] / expected['sessions']:.1f}%"
    assert numbers["demand"]["kpis"]["searches"] == str(expected["searches"])
    assert _table(numbers, "unmet", "search_outcomes") == expected["outcomes"]
    assert numbers["unmet"]["kpis"]["searches without a close match"] == str(expected["unmet"])
    assert numbers["unmet"]["kpis"]['results followed by a rephrase or "none of these"'] == str(expected["rephrased_after_results"])
    # SDGs: the filter when there is one, else the tagger's top goal for the need text (when it is sure).
    per_sdg = dict(expected["filter_sdgs"])
    for need in seed.UNTAGGED_NEEDS:
        goal, score = tagger.tag(need, top_k=1)[0]
        key = goal if score >= 0.35 else 0
        per_sdg[key] = per_sdg.get(key, 0) + 1
    from knowledge.geo import sdg_name

    labels = {g: ("untagged" if g == 0 else f"SDG {g} {sdg_name(g)}") for g in per_sdg}
    assert _table(numbers, "demand", "searches_per_sdg") == {labels[g]: n for g, n in per_sdg.items()}
    countries = {row[0]: row[2] for row in numbers["demand"]["searches_per_country"]["rows"]}
    assert countries == expected["countries"]
    regions = _table(numbers, "demand", "searches_per_region")
    assert {k: regions[k] for k in expected["regions_at_least"]} == expected["regions_at_least"]
    assert sum(regions.values()) == expected["division_counts"]
    assert {row[0]: row[2] for row in numbers["demand"]["countries_left_out"]["rows"]} == expected["left_out"]
    assert numbers["demand"]["kpis"]["with a place left out"] == "14.3%"  # 1 of 7
    assert numbers["demand"]["kpis"]["with a country filter"] == "28.6%"  # KEN, and KGZ or FJI
    assert _table(numbers, "faq", "faq_outcomes") == expected["faq"]
    assert _table(numbers, "introductions", "introduction_funnel") == expected["funnel"]
    assert numbers["introductions"]["kpis"]["median time to a decision"] == expected["median_decision"]
    assert _table(numbers, "introductions", "handoffs") == {**expected["handoffs"], "median time to close": "5.0 h"}
    kpis = numbers["feedback"]["kpis"]
    assert (kpis["ratings"], kpis["👍"], kpis["👎"]) == tuple(str(expected["feedback"][k]) for k in ("ratings", "up", "down"))


def test_unmet_needs_are_grouped_by_theme_with_masked_examples(dataset):
    numbers = summary_numbers(dataset, View())
    themes = numbers["unmet"]["unmet_themes"]["rows"]
    lithium = [t for t in themes if "lithium" in t[0]]
    assert len(lithium) == 1, themes  # both lithium needs, in the users' words, form one theme
    assert lithium[0][1:3] == [2, 2]
    assert all(need in lithium[0][3] for need in seed.LITHIUM)
    school = [t for t in themes if "school meals" in t[0]]
    assert school and school[0][0] == "please contact me at [email] about school meals"
    rephrased = numbers["unmet"]["rephrased_themes"]["rows"]
    assert [r[0] for r in rephrased] == ["solar mini grids for islands"]
    dont_know = numbers["faq"]["faq_dont_know"]["rows"]
    assert [r[0] for r in dont_know] == ["who is the director of unossc?"]
    assert [r[0] for r in numbers["faq"]["faq_low_confidence"]["rows"]] == ["how much does the galaxy cost?"]


def test_date_range_and_channel_narrow_every_number(dataset):
    telegram = summary_numbers(dataset, View(channel="telegram"))
    assert _table(telegram, "overview", "channels") == {"Telegram": 2, "all": 2}
    assert telegram["demand"]["kpis"]["searches"] == "2"
    first_week = summary_numbers(dataset, View(end=seed.START + 7 * seed.DAY))
    assert first_week["demand"]["kpis"]["searches"] == "5"  # f's two searches came 40 days later
    assert _table(first_week, "faq", "faq_outcomes") == {"answered": 1, "low_confidence": 0, "dont_know": 1}
    nothing = summary_numbers(dataset, View(start=seed.START + 400 * seed.DAY))
    assert nothing["overview"]["kpis"]["sessions"] == "0"
    assert nothing["introductions"]["kpis"]["requested"] == "0"


def test_the_report_is_self_contained_and_has_no_personal_data(dataset, stores):
    page = render_report(dataset, View())
    assert "<script src" not in page and "cdn.plot.ly/plotly" not in page.split("</script>", 2)[-1]
    assert "PlotlyGeoAssets" in page and "Plotly.newPlot" in page
    for secret in seed.PII:
        assert secret not in page, secret
    assert "[email]" in page and "[phone]" in page  # the feedback reason's phone number is masked too
    assert "data:text/csv" in page


def test_masking_of_need_texts():
    assert mask_text("write to ana.b+x@mail.example.org or +254 712 345 678") == "write to [email] or [phone]"
    assert mask_text("call (021) 555-0199, see https://x.example/?id=7 or @someone_here") == "call [phone], see [link] or [handle]"
    assert mask_text("SDG 13 projects in 2030 for 120 villages") == "SDG 13 projects in 2030 for 120 villages"


def test_make_report_writes_the_report_to_the_results_folder(stores, tmp_path):
    env = {**os.environ, "GALAXY_STATE_DIR": str(tmp_path / "state"), "TRACKER_STORE_URL": stores["rows"],
           "DATABASE_URL": stores["database_url"], "GALAXY_ENV_FILE": ""}
    # -o: the environments are installed (make test's first step); this test never reinstalls them.
    done = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".venv-rasa/.installed", "report"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    report = tmp_path / "state" / "results" / "analytics" / "report.html"
    assert report.exists() and "Unmet needs" in report.read_text(encoding="utf-8")
    assert "6 conversations" in done.stdout


# -- feedback ------------------------------------------------------------------------------------------

@pytest.fixture
def feedback_context(tmp_path):
    from actions.context import ActionContext
    from introductions.db import upgrade
    from introductions.service import IntroductionService

    url = f"sqlite:///{tmp_path / 'introductions.sqlite3'}"
    upgrade(url)
    config = replace(load_settings(), state_dir=tmp_path, database_url=url)
    service = IntroductionService(url, config, lambda _id: None)
    yield ActionContext(settings=config, services=object(), introductions=service)  # feedback needs no catalogue
    service.close()


def _tracker(sender: str, events: list[dict], *, entities: list[dict] | None = None, slots: dict | None = None,
             intent: str = "feedback", text: str = "") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [],
              "metadata": {"channel": "socketio"}}
    return Tracker(sender, slots or {}, latest, events, False, None, {}, "action_listen")


SHOWN = [
    {"event": "user", "text": "water scarcity", "input_channel": "socketio"},
    {"event": "action", "name": "action_search_solutions"},
    {"event": "slot", "name": "last_query", "value": "water scarcity"},
    {"event": "bot", "text": "Here are …", "data": {"buttons": []}, "metadata": {}},
    {"event": "bot", "text": "An answer", "metadata": {"utter_action": "utter_faq/what_is_galaxy"}},
]


def _rate(rating: str, answer: str) -> list[dict]:
    return [{"entity": "rating", "value": rating}, {"entity": "answer", "value": answer}]


async def _run(action, tracker: Tracker) -> tuple[list[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return events, dispatcher


def test_feedback_buttons_carry_the_rating_and_the_answer():
    from actions.feedback import feedback_buttons

    up, down = feedback_buttons('search:water "scarcity"')
    assert (up["title"], down["title"]) == ("👍", "👎")
    assert up["payload"].startswith("/feedback{") and json.loads(up["payload"][len("/feedback"):]) == {
        "rating": "up", "answer": 'search:water "scarcity"'}
    assert json.loads(down["payload"][len("/feedback"):])["rating"] == "down"


@pytest.mark.asyncio
async def test_thumbs_up_is_stored_verified_and_thanked(feedback_context):
    from actions.feedback import ActionRecordFeedback

    events, dispatcher = await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, entities=_rate("up", "faq:what_is_galaxy")))
    assert events == [SlotSet("feedback_id", None), SlotSet("feedback_stage", "done")]
    assert dispatcher.messages[0]["response"] == "utter_feedback_thanks"
    (item,) = feedback_context.introductions.feedback.find(verified=None)
    assert (item.rating, item.answer_ref, item.verified, item.conversation_id, item.channel) == (
        "up", "faq:what_is_galaxy", True, "socketio:me", "socketio")


@pytest.mark.asyncio
async def test_thumbs_down_asks_for_a_reason_and_stores_it(feedback_context):
    from actions.feedback import ActionRecordFeedback, ActionSaveFeedbackReason

    events, dispatcher = await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, entities=_rate("down", "search:water scarcity")))
    item_id = feedback_context.introductions.feedback.find()[0].id
    assert events == [SlotSet("feedback_id", item_id), SlotSet("feedback_reason", None), SlotSet("feedback_stage", "reason")]
    assert dispatcher.messages == []  # feedback_form asks the question next
    events, dispatcher = await _run(ActionSaveFeedbackReason(feedback_context), _tracker(
        "socketio:me", SHOWN, intent="inform", slots={"feedback_id": item_id, "feedback_reason": "only Asian results, mail me at x@y.org"}))
    assert dispatcher.messages[0]["response"] == "utter_feedback_thanks"
    assert SlotSet("feedback_stage", "done") in events
    assert feedback_context.introductions.feedback.get(item_id).reason == "only Asian results, mail me at [email]"


@pytest.mark.asyncio
async def test_a_skipped_reason_stores_nothing(feedback_context):
    from actions.feedback import ActionRecordFeedback, ActionSaveFeedbackReason, SKIPPED

    await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, entities=_rate("down", "search:water scarcity")))
    item_id = feedback_context.introductions.feedback.find()[0].id
    await _run(ActionSaveFeedbackReason(feedback_context), _tracker("socketio:me", SHOWN, intent="skip", slots={"feedback_id": item_id, "feedback_reason": SKIPPED}))
    assert feedback_context.introductions.feedback.get(item_id).reason is None


@pytest.mark.asyncio
async def test_forged_answers_are_unverified_and_ratings_stay_in_their_conversation(feedback_context):
    from actions.feedback import ActionRecordFeedback, ActionSaveFeedbackReason

    events, _ = await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, entities=_rate("down", "search:never shown")))
    assert SlotSet("feedback_stage", "done") in events  # no reason asked for an answer never shown
    (forged,) = feedback_context.introductions.feedback.find(verified=False)
    assert forged.answer_ref == "search:never shown" and feedback_context.introductions.feedback.find() == []
    # Another conversation cannot attach a reason to this conversation's rating.
    await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, entities=_rate("down", "faq:what_is_galaxy")))
    mine = feedback_context.introductions.feedback.find()[0]
    await _run(ActionSaveFeedbackReason(feedback_context), _tracker("socketio:other", [], intent="inform", slots={"feedback_id": mine.id, "feedback_reason": "spam"}))
    assert feedback_context.introductions.feedback.get(mine.id).reason is None
    # A second press changes the rating instead of adding one.
    await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, entities=_rate("up", "faq:what_is_galaxy")))
    assert [(i.rating, i.answer_ref) for i in feedback_context.introductions.feedback.find()] == [("up", "faq:what_is_galaxy")]


@pytest.mark.asyncio
async def test_typed_feedback_offers_the_buttons_for_the_latest_answer(feedback_context):
    from actions.feedback import ActionRecordFeedback, feedback_buttons

    events, dispatcher = await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, text="I want to rate that answer"))
    assert dispatcher.messages[0]["buttons"] == feedback_buttons("faq:what_is_galaxy")
    assert events == [SlotSet("feedback_stage", "done")]
    assert feedback_context.introductions.feedback.find(verified=None) == []


@pytest.mark.asyncio
async def test_delete_my_data_removes_the_conversations_feedback(feedback_context):
    from actions.feedback import ActionRecordFeedback
    from actions.introductions import ActionDeleteMyData

    await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:me", SHOWN, entities=_rate("up", "faq:what_is_galaxy")))
    await _run(ActionRecordFeedback(feedback_context), _tracker("socketio:other", SHOWN, entities=_rate("up", "faq:what_is_galaxy")))
    await _run(ActionDeleteMyData(feedback_context), _tracker("socketio:me", SHOWN, intent="delete_my_data"))
    assert [i.conversation_id for i in feedback_context.introductions.feedback.find()] == ["socketio:other"]


def test_retention_deletes_old_feedback(tmp_path):
    from introductions.db import upgrade
    from introductions.feedback import FeedbackStore

    url = f"sqlite:///{tmp_path / 'i.sqlite3'}"
    upgrade(url)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    old = FeedbackStore(url, Settings(retention_days=180), clock=lambda: now - timedelta(days=200))
    old.record("rest:old", "rest", "up", "faq:x", verified=True)
    old.close()
    store = FeedbackStore(url, Settings(retention_days=180), clock=lambda: now)
    store.record("rest:new", "rest", "up", "faq:x", verified=True)
    assert store.purge() == 1
    assert [i.conversation_id for i in store.find()] == ["rest:new"]
    store.close()


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "GALAXY_ENV_FILE": "", "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "analytics", *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_feedback_cli_list_show_resolve_export(tmp_path):
    url = f"sqlite:///{tmp_path / 'introductions.sqlite3'}"
    seed.seed_introductions(url)
    listed = _cli("feedback", "list", "--json", database_url=url)
    assert listed.returncode == 0, listed.stderr
    items = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(i["rating"], i["answer_ref"]) for i in items] == [("down", "search:solar mini grids for islands"), ("up", "search:water scarcity in Kenyan villages")]
    assert "forged" not in listed.stdout and "conversation_id" not in listed.stdout
    assert "forged answer" in _cli("feedback", "list", "--all", database_url=url).stdout
    down = items[0]
    assert down["reason"] == "all results were in Africa, call me on [phone]"
    shown = _cli("feedback", "show", str(down["id"]), database_url=url)
    assert "rest:c" in shown.stdout and "open" in shown.stdout
    assert _cli("feedback", "show", "9999", database_url=url).returncode == 1
    resolved = _cli("feedback", "resolve", str(down["id"]), "--label", "wrong_region", "--expected", "s-solar-1, s-solar-2", database_url=url)
    assert resolved.returncode == 0 and "wrong_region" in resolved.stdout
    assert _cli("feedback", "list", "--status", "open", "--rating", "down", database_url=url).stdout.strip() == "no feedback"
    out = tmp_path / "labelled.jsonl"
    exported = _cli("feedback", "export", "--out", str(out), database_url=url)
    assert exported.returncode == 0 and "1 labelled example" in exported.stdout
    (example,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert example["query"] == "solar mini grids for islands" and example["expected"] == ["s-solar-1", "s-solar-2"]
    assert (example["label"], example["rating"], example["answer_kind"]) == ("wrong_region", "down", "search")


def test_an_erased_conversation_leaves_the_next_report(tmp_path):
    """"Delete my data" erases the conversation's events (bot/tracker_store.py); its needs then leave the report."""
    from introductions.conversations import conversation_engine, erase_conversation

    url = seed.write_tracker_store(tmp_path / "conversations.sqlite3")
    before = summary_numbers(build_dataset(url, None), View())
    assert any("lithium" in row[0] for row in before["unmet"]["unmet_themes"]["rows"])
    engine = conversation_engine(url)
    with engine.begin() as connection:
        assert erase_conversation(connection, "telegram:b") > 0
    engine.dispose()
    after = summary_numbers(build_dataset(url, None), View())
    assert not any("lithium" in row[0] for row in after["unmet"]["unmet_themes"]["rows"])
    assert after["demand"]["kpis"]["searches"] == str(seed.EXPECTED["searches"] - 2)
    assert _table(after, "overview", "languages") == {"en": 6}


def test_a_subregion_filter_counts_for_its_division():
    from analytics.report import _region_of

    assert _region_of("central_asia", "") == "europe_cis" and _region_of("west_africa", "GHA") == "africa"
    assert _region_of("", "KEN") == "africa" and _region_of("arab_states", "") == "arab_states"
