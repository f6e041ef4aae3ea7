"""REST channel (`/webhooks/rest/webhook`) that never leaves a user without an answer.

Rasa logs and swallows a failing custom action (for instance when the action server is down),
which leaves the user with silence; this channel sends an apology for any turn that produced
no message. Very long messages are cut to a size the NLU handles well.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput

MAX_MESSAGE_CHARS = 3000
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
            if message.text and len(message.text) > MAX_MESSAGE_CHARS:
                message.text = message.text[:MAX_MESSAGE_CHARS]
            result = await on_new_message(message)
            collector = message.output_channel
            if not getattr(collector, "messages", None) and hasattr(collector, "send_text_message"):
                await collector.send_text_message(message.sender_id, SILENT_TURN_APOLOGY)
            return result

        return super().blueprint(answered)
