"""The Telegram bridge's pieces without a network: rendering, callback data, retries, ordering, logs."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from telegram import Chat, Message, Update, User
from telegram.error import BadRequest, RetryAfter, TimedOut

from bot.telegram import bridge as bridge_module
from bot.telegram.bridge import PerChatUpdateProcessor, TokenRedactingFormatter, start_payload, with_retries
from bot.telegram.payloads import PayloadStore
from bot.telegram.render import MAX_TEXT, markdown_line_to_html, render, split_text


@pytest.fixture
def payloads(tmp_path):
    store = PayloadStore(tmp_path / "telegram.sqlite3")
    yield store
    store.close()


def test_markdown_becomes_escaped_html():
    html = markdown_line_to_html("1. **Water <pumps> & wells** see [the page](https://example.org/a?b=1&c=2)")
    assert html == '1. <b>Water &lt;pumps&gt; &amp; wells</b> see <a href="https://example.org/a?b=1&amp;c=2">the page</a>'


def test_user_text_cannot_inject_markup():
    assert markdown_line_to_html('<a href="javascript:x">hi</a>') == '&lt;a href="javascript:x"&gt;hi&lt;/a&gt;'


def test_quoted_words_can_be_kept_free_of_markup():
    quoted = "Message: see [our page](https://evil.example) **now**"
    assert split_text(quoted, markdown=False) == ["Message: see [our page](https://evil.example) **now**"]
    assert "<a href" in split_text(quoted)[0]


def test_long_texts_are_split_under_the_limit_between_lines():
    text = "\n".join(f"{i}. **Result {i}** " + "x" * 300 for i in range(40))
    chunks = split_text(text)
    assert len(chunks) > 1 and all(len(c) <= MAX_TEXT for c in chunks)
    assert all(c.count("<b>") == c.count("</b>") for c in chunks), "no tag is cut in half"
    assert "".join(chunks).count("<b>") == 40


def test_a_single_huge_line_is_cut_without_breaking_entities():
    chunks = split_text("&" * 5000)
    assert all(len(c) <= MAX_TEXT for c in chunks)
    assert "".join(chunks) == "&amp;" * 5000


def test_buttons_become_inline_keyboards_with_short_or_stored_callback_data(payloads):
    question = "What was the purpose of the Galaxy regional rollout for the Arab States and the CIS?"
    messages = render(
        [{"text": "Pick one", "buttons": [
            {"title": "Show more", "payload": "/show_more"},
            {"title": "Details of 1", "payload": '/show_details{"ordinal":1}'},
            {"title": question, "payload": question},
            {"title": "Website", "url": "https://southsouth-galaxy.org"},
        ]}],
        payloads.callback_data,
    )
    (message,) = messages
    buttons = [b for row in message.buttons for b in row]
    assert [len(row) for row in message.buttons] == [2, 1, 1]
    assert all(len((b.callback_data or "").encode()) <= 64 for b in buttons)
    stored = next(b for b in buttons if b.text == question[:64])
    assert stored.callback_data.startswith("k:")
    assert payloads.payload(stored.callback_data) == question
    assert payloads.payload(buttons[0].callback_data) == "/show_more"
    assert buttons[-1].url == "https://southsouth-galaxy.org"


def test_stored_payloads_survive_a_restart_and_unknown_keys_are_refused(tmp_path):
    first = PayloadStore(tmp_path / "t.sqlite3")
    data = first.callback_data("x" * 200)
    first.close()
    second = PayloadStore(tmp_path / "t.sqlite3")
    assert second.payload(data) == "x" * 200
    assert second.payload("k:forged-key") is None
    assert second.payload("something else") is None
    second.close()


def test_buttons_go_under_the_last_part_and_images_become_photos(payloads):
    long_text = "\n".join("line " + "y" * 200 for _ in range(40))
    out = render([{"text": long_text, "buttons": [{"title": "More", "payload": "/show_more"}]}, {"image": "https://example.org/x.png", "text": "A chart"}], payloads.callback_data)
    assert len(out) >= 3
    assert not out[0].buttons and out[-2].buttons
    assert out[-1].photo == "https://example.org/x.png" and out[-1].text == "A chart"


def test_start_parameters_map_to_rasa_messages():
    assert start_payload("webinar") == "/webinar"
    assert start_payload("solution_s-feims") == '/show_details{"record_id":"s-feims"}'
    assert start_payload("partner_tika") == '/show_details{"record_id":"tika"}'
    assert start_payload("") == "/greet"
    assert start_payload("solution_") == "/greet"


def test_retries_wait_out_flood_control_and_network_errors(monkeypatch):
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(bridge_module.asyncio, "sleep", no_sleep)
    outcomes: list[Exception | str] = [RetryAfter(timedelta(seconds=3)), TimedOut(), "sent"]

    async def call() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert asyncio.run(with_retries(call)) == "sent"
    assert sleeps[0] == pytest.approx(3.05) and sleeps[1] == pytest.approx(2.0)


def test_bad_requests_are_not_retried_and_retries_end(monkeypatch):
    calls = 0

    async def no_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(bridge_module.asyncio, "sleep", no_sleep)

    async def bad() -> None:
        nonlocal calls
        calls += 1
        raise BadRequest("can't parse entities")

    with pytest.raises(BadRequest):
        asyncio.run(with_retries(bad))
    assert calls == 1

    async def always_down() -> None:
        nonlocal calls
        calls += 1
        raise TimedOut()

    calls = 0
    with pytest.raises(TimedOut):
        asyncio.run(with_retries(always_down, attempts=3))
    assert calls == 3


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    message = Message(update_id, None, chat, from_user=User(chat_id, "T", False), text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


def test_updates_of_one_chat_run_in_order_and_other_chats_in_parallel():
    processor = PerChatUpdateProcessor(8)
    events: list[str] = []

    async def handle(name: str, delay: float) -> None:
        events.append(f"{name} start")
        await asyncio.sleep(delay)
        events.append(f"{name} end")

    async def main() -> None:
        await asyncio.gather(
            processor.process_update(_update(1, 1), handle("a1", 0.2)),
            processor.process_update(_update(2, 1), handle("a2", 0.0)),
            processor.process_update(_update(3, 2), handle("b1", 0.0)),
        )

    asyncio.run(main())
    assert events.index("a1 end") < events.index("a2 start"), "chat 1 kept its order"
    assert events.index("b1 end") < events.index("a1 end"), "chat 2 did not wait for chat 1"
    assert not processor._locks, "idle chats are forgotten"


def test_the_token_is_redacted_from_log_lines_and_tracebacks():
    token = "123:SECRET"
    formatter = TokenRedactingFormatter("%(levelname)s %(message)s", token)
    try:
        raise ConnectionError(f"POST https://api.telegram.org/bot{token}/getUpdates failed")
    except ConnectionError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "calling %s", (f"bot{token}/getMe",), sys.exc_info())
    line = formatter.format(record)
    assert token not in line
    assert "calling bot<token>/getMe" in line and "bot<token>/getUpdates failed" in line


def test_the_widgets_erase_history_payload_is_not_sent_to_a_chat() -> None:
    replies = [{"recipient_id": "telegram:1", "custom": {"erase_history": True}}, {"text": "Your data is deleted."}]
    assert [m.text for m in render(replies, lambda payload: payload)] == ["Your data is deleted."]
    # Another custom payload with text still reaches the chat.
    assert [m.text for m in render([{"custom": {"text": "hello"}}], lambda payload: payload)] == ["hello"]


def test_buttons_without_a_text_are_headed_in_the_users_language(payloads):
    buttons = [{"title": "Oui", "payload": "/affirm"}]
    french = render([{"buttons": buttons}], payloads.callback_data, choose_text=bridge_module.bridge_text("choose_one", "fr"))
    assert french[0].text == "Choisissez :" and french[0].buttons
    # an interface language the assistant does not speak gets English
    assert render([{"buttons": buttons}], payloads.callback_data, choose_text=bridge_module.bridge_text("choose_one", "pt-br"))[0].text == "Choose one:"
