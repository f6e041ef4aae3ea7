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


async def guarded_turn(
    message: UserMessage,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    replied: Callable[[], bool],
) -> Any:
    """Runs one user turn so that the user always gets an answer: empty text is answered without a turn,
    very long text is cut, and a turn that sent nothing (`replied()` false) ends with an apology."""
    output = message.output_channel
    if not (message.text or "").strip():
        await output.send_text_message(message.sender_id, EMPTY_MESSAGE_REPLY)
        return None
    if len(message.text) > MAX_MESSAGE_CHARS:
        message.text = message.text[:MAX_MESSAGE_CHARS]
    result = None
    try:
        result = await on_new_message(message)
    except Exception:  # noqa: BLE001 - the user gets an apology, the log the details
        logger.exception("processing a %s message failed", message.input_channel or "user")
    if not replied():
        await output.send_text_message(message.sender_id, SILENT_TURN_APOLOGY)
    return result


class GalaxyRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]):
        async def answered(message: UserMessage) -> Any:
            collector = message.output_channel
            return await guarded_turn(message, on_new_message, lambda: bool(getattr(collector, "messages", None)))

        return super().blueprint(answered)
