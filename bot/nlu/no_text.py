"""NoTextClassifier: marks messages with no letter or digit (emoji only, punctuation, empty) as
`nlu_fallback`, so the assistant asks for words instead of guessing an intent from noise; and a
message that is only an email address (the answer to "what email should they use?") is never read
as a refusal, which would cancel the form that asked for it; and keyboard noise ("zzxqv", "sdfgh": one
lower-case Latin word of four letters or more without a vowel) is not read as a yes, a no or a thank-you."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

FALLBACK = "nlu_fallback"
EMAIL_ONLY = re.compile(r"^\s*<?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?\s*$")
# Intents an email address alone cannot mean.
NOT_AN_EMAIL = frozenset({"deny", "affirm", "skip", "greet", "goodbye", "thank"})


# One lower-case Latin "word" of 4+ letters with no vowel (y counts): no word of English, French or the
# transliterations users type; acronyms are typed in capitals and stay as they are.
NOISE = re.compile(r"^\s*[b-df-hj-np-tv-xz]{4,}\s*[.!?]*\s*$")


def is_noise(text: str | None) -> bool:
    return bool(text) and NOISE.match(text) is not None


def has_words(text: str | None) -> bool:
    return bool(text) and any(ch.isalnum() for ch in text)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NoTextClassifier(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> "NoTextClassifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text is None:
                continue  # not a user message
            short_reply = (message.get(INTENT) or {}).get("name") in NOT_AN_EMAIL
            if (not has_words(text) or (is_noise(text) and short_reply)) and not (text or "").startswith("/"):
                intent = {"name": FALLBACK, "confidence": 1.0}
                ranking = [intent] + [r for r in message.get(INTENT_RANKING_KEY, []) if r.get("name") != FALLBACK]
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            elif EMAIL_ONLY.match(text) and (message.get(INTENT) or {}).get("name") in NOT_AN_EMAIL:
                ranking = [r for r in message.get(INTENT_RANKING_KEY, []) if r.get("name") not in NOT_AN_EMAIL | {FALLBACK}]
                if ranking:
                    message.set(INTENT, dict(ranking[0]), add_to_output=True)
                    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
