"""REST channel (`/webhooks/rest/webhook`) that never leaves a user without an answer.

Rasa logs and swallows a failing custom action (for instance when the action server is down),
which leaves the user with silence; this channel sends an apology for any turn that produced
no message. Very long messages are cut to a size the NLU handles well.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput

logger = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 3000
EMPTY_MESSAGE_REPLY = "I didn't receive any text. Tell me in a few words what you're looking for, or type \"help\"."
SILENT_TURN_APOLOGY = (
    "Sorry, something went wrong on my side and I couldn't complete that. "
    "Please try again in a minute; if it keeps happening, contact UNOSSC."
)


class GalaxyRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]):
        async def answered(message: UserMessage) -> Any:
            collector = message.output_channel
            if not (message.text or "").strip():
                # Nothing to understand: answer without a turn in the conversation.
                await collector.send_text_message(message.sender_id, EMPTY_MESSAGE_REPLY)
                return None
            if len(message.text) > MAX_MESSAGE_CHARS:
                message.text = message.text[:MAX_MESSAGE_CHARS]
            result = None
            try:
                result = await on_new_message(message)
            except Exception:  # noqa: BLE001 - the user gets an apology, the log the details
                logger.exception("processing a REST message failed")
            if not getattr(collector, "messages", None) and hasattr(collector, "send_text_message"):
                await collector.send_text_message(message.sender_id, SILENT_TURN_APOLOGY)
            return result

        return super().blueprint(answered)
