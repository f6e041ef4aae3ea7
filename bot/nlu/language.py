"""LanguageIdentifier: the language of each user message (en, fr, ru, ar), and the language a user asks
for ("in French please", "по-русски", "بالعربية").

The identification itself is bot/nlu/language_id.py. Short or ambiguous messages ("ok", "2", emoji,
"Kenya") report no language, so the conversation keeps its own (`actions/language.py` sets the
`language` slot from what this reports); a message clearly in a language we do not speak is sent to
the clarification (`nlu_fallback`), which says in English which languages the assistant speaks.

Output, on the message: `language` = {"code": "fr" | None, "detected": "<ISO 639-1>" | None,
"confidence": float, "supported": bool}; and, for a switch request, a `language` entity whose value is
the requested code (a closed vocabulary of language names in the four languages)."""
from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.language_id import identify, requested_languages

SWITCH_INTENT = "switch_language"
ENTITY = "language"
FALLBACK = "nlu_fallback"
# A message this short that names a language is a request for it even when the classifier hesitates.
MAX_BARE_SWITCH_WORDS = 4
# A switch request that names no language still says "language" ("change language", "сменить язык",
# "تغيير اللغة"). Without either, a switch_language guess is the classifier mistaking the script for the
# intent (its only Russian and Arabic examples may be switch requests), and the message goes to the
# clarification instead.
_LANGUAGE_WORD = re.compile(r"language|langue|язык|لغ|speak|parl|говори|تتكلم|تتحدث", re.IGNORECASE)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageIdentifier(GraphComponent):
    """Runs after the intent classifiers: it needs the intent to tell "in French please" (a switch)
    from "partners in French-speaking Africa" (a search that names a language)."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> "LanguageIdentifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if text is None or text.startswith("/"):
                continue  # not a user message, or a button payload (its entities say it all)
            found = identify(text)
            message.set(ENTITY, asdict(found), add_to_output=True)
            if not found.supported and not requested_languages(text):
                # Spanish, Turkish, Chinese...: whatever the classifier guessed from words it was never
                # trained on, the answer is "I speak these four" (action_clarify, in English).
                self._set_intent(message, FALLBACK)
            self._switch(message, text)
        return messages

    @staticmethod
    def _set_intent(message: Message, name: str) -> None:
        chosen = {"name": name, "confidence": 1.0}
        ranking = [chosen] + [r for r in message.get(INTENT_RANKING_KEY, []) if r.get("name") != name]
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    @staticmethod
    def _switch(message: Message, text: str) -> None:
        named = requested_languages(text)
        if not named:
            if (message.get(INTENT) or {}).get("name") == SWITCH_INTENT and not _LANGUAGE_WORD.search(text):
                LanguageIdentifier._set_intent(message, FALLBACK)
            return
        intent = (message.get(INTENT) or {}).get("name")
        count = len(re.findall(r"[\w-]+", text))
        if intent != SWITCH_INTENT:
            # "English please", "по-русски пожалуйста": a language name and at most a politeness word
            if not (count <= 2 or (count <= MAX_BARE_SWITCH_WORDS and intent == FALLBACK)):
                return
            # "français ?" alone: the classifier hesitated, but the message only names a language.
            LanguageIdentifier._set_intent(message, SWITCH_INTENT)
        code, start, end = named[-1]  # "not in English, in French": the last one named
        entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != ENTITY]
        entities.append({"entity": ENTITY, "value": code, "start": start, "end": end, "confidence": 1.0,
                         "extractor": "LanguageIdentifier", "text": text[start:end]})
        message.set(ENTITIES, entities, add_to_output=True)
