"""DialogueVocabularyExtractor: after intent classification, the closed vocabularies of the dialogue
(knowledge/closed_values.py) for the intents that use them: `operation` and `scope` for a filter
change, `attribute` for a question about a record. Other intents get none, so a need that happens to
say "where" or "only" carries no stray entities."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from knowledge.closed_values import closed_entities

# intent -> the entities of the closed vocabularies it uses
USES = {"refine_search": ("operation", "scope"), "ask_record": ("attribute",)}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class DialogueVocabularyExtractor(GraphComponent, EntityExtractorMixin):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> "DialogueVocabularyExtractor":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            wanted = USES.get((message.get(INTENT) or {}).get("name"), ())
            if not text or not wanted:
                continue
            taken = [(e.get("start", -1), e.get("end", -1)) for e in message.get(ENTITIES, [])]
            found = [
                dict(e, confidence_entity=1.0)
                for e in closed_entities(text)
                # "SDG" in "SDG 5" is the goal, not the scope
                if e["entity"] in wanted and not any(s < e["end"] and e["start"] < t for s, t in taken)
            ]
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
        return messages
