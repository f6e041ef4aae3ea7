"""MiniLmFeaturizer: dense features for Rasa 3.6 from all-MiniLM-L6-v2 run through ONNX Runtime.

The knowledge package exports the model to ONNX (`python -m knowledge.onnx_runtime export DIR`,
run by `make train`); this component copies that file and the tokenizer into the trained Rasa
model, so a model is self-contained. Sentence features are the MiniLM sentence embedding (mean
pooling, L2-normalised: the same vector retrieval uses); sequence features average the word
pieces of each whitespace token. They give DIET the meaning of words it never saw in training.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

MAX_TOKENS = 256
BATCH = 64
FILES = ("model.onnx", "tokenizer.json")


class _MiniLm:
    def __init__(self, directory: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def run(self, texts: List[str]) -> List[tuple]:
        """For each text: (token vectors (n, 384), character offsets (n, 2), sentence vector)."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        results = []
        for row, encoding in enumerate(encodings):
            keep = mask[row].astype(bool)
            vectors = hidden[row][keep]
            sentence = vectors.mean(axis=0)
            sentence = sentence / max(float(np.linalg.norm(sentence)), 1e-12)
            results.append((vectors, np.array(encoding.offsets)[keep], sentence))
        return results


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class MiniLmFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "model_dir": "models/minilm-onnx"}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        directory = Path(config["model_dir"])
        missing = [name for name in FILES if not (directory / name).exists()]
        if missing:
            raise ValueError(f"{directory} lacks {missing}: run `make train` (it exports MiniLM to ONNX first)")

    @staticmethod
    def required_packages() -> List[Text]:
        return ["onnxruntime", "tokenizers"]

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource, directory: Optional[Path] = None) -> None:
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._model = _MiniLm(directory) if directory else None

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext) -> "MiniLmFeaturizer":
        return cls(config, execution_context.node_name, model_storage, resource, Path(config["model_dir"]))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext, **kwargs: Any) -> "MiniLmFeaturizer":
        with model_storage.read_from(resource) as directory:
            # The session reads the file at creation, so the temporary directory may go after.
            return cls(config, execution_context.node_name, model_storage, resource, Path(directory))

    def train(self, training_data: TrainingData) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            for name in FILES:
                shutil.copy2(Path(self._config["model_dir"]) / name, Path(directory) / name)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        pending = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            for message, (vectors, offsets, sentence) in zip(chunk, self._model.run([m.get(TEXT) for m in chunk])):
                tokens = message.get(TOKENS_NAMES[TEXT])
                sequence = np.zeros((len(tokens), sentence.shape[0]), dtype=np.float32)
                for index, token in enumerate(tokens):
                    inside = (offsets[:, 0] < token.end) & (offsets[:, 1] > token.start) & (offsets[:, 1] > offsets[:, 0])
                    sequence[index] = vectors[inside].mean(axis=0) if inside.any() else sentence
                self.add_features_to_message(sequence=sequence, sentence=sentence[np.newaxis, :].astype(np.float32), attribute=TEXT, message=message)
        return messages
