"""The Telegram bridge: python-telegram-bot receives updates (long polling, or a webhook), each chat is
one Rasa conversation (`telegram:<chat id>`, over the bridge's own channel), and Rasa's replies go back as
Telegram messages.

Updates of one chat are handled in order, chats in parallel; a slow or failing chat blocks no other.
Sends are retried on flood control (429 retry_after) and network errors."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import BotCommand, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from actions.i18n import faq_answer, normalise, text as catalogue_text
from bot.telegram import metrics
from bot.telegram.clients import PartnerDesk, RasaClient, RasaUnavailable
from bot.telegram.payloads import PayloadStore
from bot.telegram.render import OutgoingMessage, render, split_text

log = logging.getLogger(__name__)
T = TypeVar("T")

TYPING_EVERY_SECONDS = 4.0  # Telegram shows "typing…" for about 5 s
SEND_ATTEMPTS = 5
COMMANDS = [
    BotCommand("start", "Start (or start over) talking to the assistant"),
    BotCommand("help", "What I can do"),
    BotCommand("restart", "Forget this conversation and start again"),
    BotCommand("privacy", "What happens to your data"),
]
_START_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HTML_TAG = re.compile(r"<[^>]+>")


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def with_retries(call: Callable[[], Awaitable[T]], *, attempts: int = SEND_ATTEMPTS, base_delay: float = 1.0) -> T:
    """Runs a Bot API call, waiting out flood control and retrying network errors with backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts:
                raise
            delay = _seconds(exc.retry_after) + 0.05
            reason = "flood control"
        except BadRequest:
            raise  # our request is wrong: sending it again gives the same answer
        except NetworkError as exc:
            if attempt == attempts:
                raise
            delay = base_delay * 2 ** (attempt - 1)
            reason = type(exc).__name__
        log.warning("Bot API call failed (%s); retrying in %.1fs (attempt %d/%d)", reason, delay, attempt, attempts)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")



PRIVACY_FAQ_ID = "assistant_privacy"  # the FAQ entry /privacy answers with


def bridge_text(key: str, language_code: str | None) -> str:
    """The bridge's own words (Rasa unreachable, a photo, an expired button) in the user's Telegram interface
    language when the assistant speaks it, from the assistant's message catalogues; English otherwise."""
    return catalogue_text(normalise(language_code), f"bridge.{key}")


def user_language(update: Update) -> str | None:
    """The sender's Telegram interface language ("fr", "ru", "pt-br"), a hint for the reply language."""
    user = update.effective_user
    code = getattr(user, "language_code", None) if user is not None else None
    return code if isinstance(code, str) and code else None

class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Up to `max_concurrent_updates` updates at once, but one at a time per chat, in arrival order."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        metrics.update_arrived()
        if chat is None:
            await self._timed(coroutine)
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock:
                await self._timed(coroutine)
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:  # forget idle chats: memory stays flat with many users
                del self._waiting[chat.id]
                del self._locks[chat.id]

    @staticmethod
    async def _timed(coroutine: Awaitable[Any]) -> None:
        with metrics.UPDATE_SECONDS.time():
            try:
                await coroutine
            except Exception:
                metrics.UPDATE_ERRORS.inc()
                raise

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class TokenRedactingFormatter(logging.Formatter):
    """Replaces the bot token wherever it would appear in a log line, tracebacks included
    (Bot API URLs contain it)."""

    def __init__(self, fmt: str, token: str) -> None:
        super().__init__(fmt)
        self._token = token

    def format(self, record: logging.LogRecord) -> str:
        formatted = super().format(record)
        return formatted.replace(self._token, "<token>") if self._token else formatted


def start_payload(parameter: str) -> str:
    """The Rasa message a /start deep-link parameter stands for."""
    if parameter == "webinar":
        return "/webinar"
    for prefix in ("solution_", "partner_"):
        if parameter.startswith(prefix) and len(parameter) > len(prefix):
            record_id = parameter[len(prefix) :]
            return '/show_details{"record_id":"%s"}' % record_id
    return "/greet"


class TelegramBridge:
    def __init__(
        self,
        rasa: RasaClient,
        payloads: PayloadStore,
        *,
        partners: PartnerDesk | None = None,
        privacy_text: str = "",
    ) -> None:
        self.rasa = rasa
        self.payloads = payloads
        self.partners = partners
        self.privacy_text = privacy_text

    def install(self, application: Application) -> None:
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler("help", self.on_help))
        application.add_handler(CommandHandler("restart", self.on_restart))
        application.add_handler(CommandHandler("privacy", self.on_privacy))
        application.add_handler(CallbackQueryHandler(self.on_button))
        # New messages only: an edited message would replay a turn of the conversation.
        new = filters.UpdateType.MESSAGE
        application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_handler(MessageHandler(new & filters.COMMAND, self.on_unknown_command))
        application.add_handler(MessageHandler(new & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_not_text))
        application.add_error_handler(self.on_error)

    # -- commands -------------------------------------------------------------------------------------

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not self._addressed(message, context, command=True):
            return
        parameter = context.args[0] if context.args else ""
        if parameter and not _START_PARAMETER.match(parameter):
            parameter = ""
        from introductions.telegram import LINK_START_PREFIX

        if parameter.startswith(LINK_START_PREFIX):
            await self._link_partner(message, parameter[len(LINK_START_PREFIX) :], context)
            return
        await self.converse(message.chat_id, start_payload(parameter), context, language_code=user_language(update))

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and self._addressed(message, context, command=True):
            await self.converse(message.chat_id, "/help", context)

    async def on_restart(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not self._addressed(message, context, command=True):
            return
        if not await self.converse(message.chat_id, "/restart", context, silent_ok=True):
            await self.send(context, message.chat_id, [OutgoingMessage(text=bridge_text("restarted", user_language(update)))])

    async def on_privacy(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not self._addressed(message, context, command=True):
            return
        language = user_language(update)
        # The FAQ's privacy answer, in the user's language where the team translated it.
        english = self.privacy_text
        text = faq_answer(PRIVACY_FAQ_ID, english, normalise(language)) if english else bridge_text("privacy", language)
        text += "\n\n" + bridge_text("privacy_delete", language)
        await self.send(context, message.chat_id, render([{"text": text}], self.payloads.callback_data))

    # -- messages -------------------------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        text = self._addressed(message, context)
        if text is None:
            return
        await self.converse(message.chat_id, text, context, language_code=user_language(update))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        command, _, addressee = message.text.split()[0].partition("@")
        if message.chat.type != ChatType.PRIVATE and addressee.lower() != (context.bot.username or "").lower():
            return  # in a group, another bot's command (or one for every bot) is not ours to refuse
        text = catalogue_text(normalise(user_language(update)), "bridge.unknown_command", command=command[:40])
        await self.send(context, message.chat_id, render([{"text": text}], self.payloads.callback_data))

    async def on_not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or self._addressed(message, context) is None:
            return
        await self.send(context, message.chat_id, [OutgoingMessage(text=bridge_text("text_only", user_language(update)))])

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.message is None:
            return
        data = query.data or ""
        chat_id = query.message.chat.id
        from introductions.telegram import CALLBACK_PREFIX

        if data.startswith(CALLBACK_PREFIX):
            await self._partner_decision(update, context, data)
            return
        payload = self.payloads.payload(data)
        # Answer at once: the client shows a spinner on the button until it is answered.
        with contextlib.suppress(TelegramError):
            await with_retries(lambda: query.answer(text=None if payload else bridge_text("stale_button", user_language(update))))
        if payload is None:
            return
        await self.converse(chat_id, payload, context, language_code=user_language(update))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Class name only: exception texts can quote message contents.
        error = context.error
        log.error("handling an update failed: %s", type(error).__name__, exc_info=log.isEnabledFor(logging.DEBUG))

    # -- the conversation -----------------------------------------------------------------------------

    async def converse(
        self, chat_id: int, text: str, context: ContextTypes.DEFAULT_TYPE, *, silent_ok: bool = False,
        language_code: str | None = None,
    ) -> bool:
        """Sends `text` to Rasa as this chat and delivers the replies; False when there were none.
        `language_code` (the user's Telegram app language) is the reply language of a new conversation."""
        async with self._typing(context, chat_id):
            try:
                replies = await self.rasa.send(chat_id, text, language_code=language_code)
            except RasaUnavailable as exc:
                log.warning("Rasa unavailable for a chat (%s)", exc)
                replies = [{"text": bridge_text("rasa_down", language_code)}]
        if silent_ok and not replies:
            return False
        await self.send(
            context, chat_id, render(replies, self.payloads.callback_data, choose_text=bridge_text("choose_one", language_code))
        )
        return bool(replies)

    async def send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, messages: list[OutgoingMessage]) -> None:
        bot = context.bot
        for outgoing in messages:
            try:
                await self._send_one(bot, chat_id, outgoing)
            except BadRequest as exc:
                # Most often markup Telegram would not parse: send the same words as plain text.
                log.warning("Bot API refused a message (%s); resending as plain text", type(exc).__name__)
                plain = _HTML_TAG.sub("", outgoing.text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
                try:
                    await with_retries(
                        lambda: bot.send_message(chat_id, plain or "…", reply_markup=outgoing.reply_markup)
                    )
                except TelegramError as second:
                    log.error("could not deliver a message to a chat: %s", type(second).__name__)
            except Forbidden:
                log.info("a chat blocked the bot; dropping its replies")
                return
            except TelegramError as exc:
                log.error("could not deliver a message to a chat: %s", type(exc).__name__)
                return

    @staticmethod
    async def _send_one(bot: Any, chat_id: int, outgoing: OutgoingMessage) -> Message:
        if outgoing.photo:
            return await with_retries(
                lambda: bot.send_photo(
                    chat_id,
                    outgoing.photo,
                    caption=outgoing.text or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=outgoing.reply_markup,
                )
            )
        return await with_retries(
            lambda: bot.send_message(
                chat_id,
                outgoing.text,
                parse_mode=ParseMode.HTML,
                reply_markup=outgoing.reply_markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )

    @contextlib.asynccontextmanager
    async def _typing(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> AsyncIterator[None]:
        async def keep_typing() -> None:
            while True:
                with contextlib.suppress(TelegramError):
                    await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
                await asyncio.sleep(TYPING_EVERY_SECONDS)

        task = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _addressed(self, message: Message, context: ContextTypes.DEFAULT_TYPE, *, command: bool = False) -> str | None:
        """The text meant for the assistant, or None. In groups only mentions, replies to the bot and
        commands are for us (PTB already drops commands addressed to another bot)."""
        text = message.text or message.caption or ""
        if message.chat.type == ChatType.PRIVATE or command:
            return text
        bot = context.bot
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return text
        username = (bot.username or "").lower()
        if username and f"@{username}" in text.lower():
            return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE).strip()
        return None

    # -- partners (brokered introductions) ------------------------------------------------------------

    async def _link_partner(self, message: Message, code: str, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self.partners is None:
            answer = {"text": "Linking partner chats is not available here."}
        else:
            answer = await self.partners.link(code, message.chat_id)
        await self.send(context, message.chat_id, render([{"text": answer["text"]}], self.payloads.callback_data))

    async def _partner_decision(self, update: Update, context: ContextTypes.DEFAULT_TYPE, data: str) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        if self.partners is None:
            answer: dict[str, Any] = {"text": "Decisions are not available here; please use the link in the email.", "show_alert": True}
        else:
            answer = await self.partners.decide(data, query.message.chat.id)
        with contextlib.suppress(TelegramError):
            await with_retries(lambda: query.answer(text=str(answer["text"])[:200], show_alert=bool(answer.get("show_alert"))))
        new_text = answer.get("message_text")
        if isinstance(new_text, str) and new_text:
            # Replace the request with its outcome; the buttons go, so nobody presses them again.
            # Plain text: it quotes the requester's own words, whose markdown must stay inert.
            chunks = [OutgoingMessage(text=chunk) for chunk in split_text(new_text, markdown=False)]
            try:
                await with_retries(
                    lambda: query.edit_message_text(chunks[0].text, parse_mode=ParseMode.HTML, reply_markup=None)
                )
            except TelegramError as exc:
                log.warning("could not update a partner's notification (%s)", type(exc).__name__)
            if len(chunks) > 1:
                await self.send(context, query.message.chat.id, chunks[1:])


def build_application(
    token: str,
    base_url: str,
    bridge: TelegramBridge,
    *,
    max_concurrent_updates: int = 64,
    post_shutdown: Callable[[Application], Awaitable[None]] | None = None,
) -> Application:
    async def post_init(application: Application) -> None:
        with contextlib.suppress(TelegramError):
            await application.bot.set_my_commands(COMMANDS)

    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_url.replace("/bot", "/file/bot", 1) if base_url.endswith("/bot") else base_url)
        .concurrent_updates(PerChatUpdateProcessor(max_concurrent_updates))
        .post_init(post_init)
        .connect_timeout(10)
        .read_timeout(30)
        .write_timeout(30)
        .get_updates_read_timeout(40)
    )
    if post_shutdown is not None:
        builder = builder.post_shutdown(post_shutdown)
    application = builder.build()
    bridge.install(application)
    return application
