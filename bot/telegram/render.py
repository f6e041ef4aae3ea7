"""Turns what Rasa sends (text with light markdown, buttons, images) into Telegram messages:
HTML parse mode, every text escaped, long texts split under Telegram's 4,096-character limit,
buttons as inline keyboards whose callback data fits Telegram's 64 bytes."""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from actions.i18n import text as catalogue_text

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_BYTES = 64
SHORT_BUTTON_TITLE = 22  # titles up to this length share a keyboard row, two at a time

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")


@dataclass
class OutgoingMessage:
    """One Telegram message: a text (HTML) or a photo with an optional caption."""

    text: str = ""
    photo: str | None = None
    buttons: list[list[InlineKeyboardButton]] = field(default_factory=list)

    @property
    def reply_markup(self) -> InlineKeyboardMarkup | None:
        return InlineKeyboardMarkup(self.buttons) if self.buttons else None


def markdown_line_to_html(line: str) -> str:
    """Escapes a line for Telegram's HTML mode, keeping the **bold** and [label](url) our replies use."""
    parts: list[str] = []
    position = 0
    for match in _LINK.finditer(line):
        parts.append(_bold(html.escape(line[position : match.start()], quote=False)))
        label, url = match.groups()
        parts.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(label, quote=False)}</a>')
        position = match.end()
    parts.append(_bold(html.escape(line[position:], quote=False)))
    return "".join(parts)


def _bold(escaped: str) -> str:
    return _BOLD.sub(lambda m: f"<b>{m.group(1)}</b>", escaped)


def split_text(text: str, limit: int = MAX_TEXT, *, markdown: bool = True) -> list[str]:
    """HTML chunks of at most `limit` characters, cut between lines where possible so no tag is cut.

    A single line longer than the limit is cut as plain (escaped) text, since its markup may not survive.
    `markdown=False` escapes everything: for text that quotes other people's words (a requester's message
    shown to a partner), where a [label](url) must not turn into a disguised link."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        rendered = markdown_line_to_html(line) if markdown else html.escape(line, quote=False)
        if len(rendered) > limit:
            rendered_parts = _hard_split(line, limit)
        else:
            rendered_parts = [rendered]
        for part in rendered_parts:
            extra = len(part) + (1 if current else 0)
            if current and size + extra > limit:
                chunks.append("\n".join(current))
                current, size = [], 0
                extra = len(part)
            current.append(part)
            size += extra
    if current:
        chunks.append("\n".join(current))
    return [chunk for chunk in chunks if chunk.strip()]


def _hard_split(line: str, limit: int) -> list[str]:
    parts: list[str] = []
    piece = ""
    for char in line:
        escaped = html.escape(char, quote=False)
        if len(piece) + len(escaped) > limit:
            parts.append(piece)
            piece = ""
        piece += escaped
    if piece:
        parts.append(piece)
    return parts


def keyboard(
    buttons: Iterable[dict[str, Any]], callback_for: Callable[[str], str]
) -> list[list[InlineKeyboardButton]]:
    """Inline keyboard rows: URL buttons open the link, others carry `callback_for(payload)`."""
    rows: list[list[InlineKeyboardButton]] = []
    pending_short: list[InlineKeyboardButton] = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()[:64] or "…"
        url = button.get("url")
        payload = str(button.get("payload") or "")
        if url or (button.get("type") == "web_url"):
            made = InlineKeyboardButton(title, url=str(url or payload))
        elif payload:
            data = callback_for(payload)
            if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
                raise ValueError("callback data over Telegram's 64-byte limit")
            made = InlineKeyboardButton(title, callback_data=data)
        else:
            continue
        if len(title) <= SHORT_BUTTON_TITLE:
            pending_short.append(made)
            if len(pending_short) == 2:
                rows.append(pending_short)
                pending_short = []
        else:
            if pending_short:
                rows.append(pending_short)
                pending_short = []
            rows.append([made])
    if pending_short:
        rows.append(pending_short)
    return rows


def render(
    messages: Iterable[dict[str, Any]], callback_for: Callable[[str], str], *, choose_text: str | None = None
) -> list[OutgoingMessage]:
    """Telegram messages for one Rasa reply, in order; a message's buttons go under its last part.
    `choose_text` heads buttons that came without a text (Telegram needs one), in the user's language
    (the catalogue's English `bridge.choose_one` when not given)."""
    out: list[OutgoingMessage] = []
    for message in messages:
        text = str(message.get("text") or "")
        buttons = keyboard(message.get("buttons") or [], callback_for)
        image = message.get("image")
        parts: list[OutgoingMessage] = []
        if image:
            caption_chunks = split_text(text, MAX_CAPTION) if text else [""]
            if len(caption_chunks) == 1:
                parts.append(OutgoingMessage(text=caption_chunks[0], photo=str(image)))
                text = ""
            else:
                parts.append(OutgoingMessage(photo=str(image)))
        if text.strip():
            parts.extend(OutgoingMessage(text=chunk) for chunk in split_text(text))
        elif buttons and not parts:
            parts.append(OutgoingMessage(text=choose_text or catalogue_text("en", "bridge.choose_one")))
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("erase_history"):
            custom = None  # the web widget's signal to clear its stored history; a Telegram chat keeps its own
        if isinstance(custom, dict) and isinstance(custom.get("text"), str) and not parts:
            parts.extend(OutgoingMessage(text=chunk) for chunk in split_text(custom["text"]))
        if parts:
            parts[-1].buttons = buttons
        out.extend(parts)
    return out
