"""GazetteerEntityExtractor: a Rasa 3.6 NLU component that finds `country` (ISO3), `region`
(division key), `sdg` (1..17) and `ordinal` entities (a country, region or SDG the user moves away
from gets the role `old`) with a spaCy EntityRuler built from the
project's data files at train time (no statistical spaCy model is needed or downloadable), and the
same entities in French, Russian and Arabic with their inflections (knowledge/names_i18n.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from knowledge.closed_values import assign_roles
from knowledge.names_i18n import i18n_entities
from bot.nlu.gazetteer_patterns import data_fingerprint, normalise, regex_entities, ruler_patterns

PIPELINE_DIR = "spacy_gazetteer"


def build_pipeline() -> "spacy.language.Language":
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(ruler_patterns(lambda text: [token.text for token in nlp.tokenizer(text)]))
    return nlp


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return data_fingerprint()  # retrain when the gazetteer data change

    def __init__(self, model_storage: ModelStorage, resource: Resource, nlp: Optional[Any] = None) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self._nlp = nlp

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> "GazetteerEntityExtractor":
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        self._nlp = build_pipeline()
        with self._model_storage.write_to(self._resource) as directory:
            self._nlp.to_disk(Path(directory) / PIPELINE_DIR)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext, **kwargs: Any) -> "GazetteerEntityExtractor":
        try:
            with model_storage.read_from(resource) as directory:
                nlp = spacy.load(Path(directory) / PIPELINE_DIR)
        except ValueError:  # not trained yet (e.g. `rasa data validate`): build it from data
            nlp = build_pipeline()
        return cls(model_storage, resource, nlp)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def extract(self, text: str) -> List[Dict[str, Any]]:
        if self._nlp is None:
            self._nlp = build_pipeline()
        found = regex_entities(text)
        taken = [(e["start"], e["end"]) for e in found]
        for span in self._nlp(text[:5000]).ents:
            if any(s < span.end_char and span.start_char < e for s, e in taken):
                continue
            label, _, value = span.ent_id_.partition(":")
            found.append({"entity": label, "value": normalise(label, value), "start": span.start_char, "end": span.end_char})
        # French, Russian and Arabic names (inflected, with clitics) where the English ruler found nothing
        found += i18n_entities(text, [(e["start"], e["end"]) for e in found])
        found = assign_roles(text, found)
        for entity in found:
            entity["confidence_entity"] = 1.0
        return sorted(found, key=lambda e: e["start"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            entities = self.add_extractor_name(self.extract(text))
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages
