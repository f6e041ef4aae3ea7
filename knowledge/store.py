"""The Chroma store of solutions and partners, kept in generations.

An import copies the serving generation, applies its changes to the copy and only then points
`CURRENT` at it, so a crash mid-import leaves the previous index serving.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from knowledge.catalogue import Partner, Record, Solution, content_hash, record_to_json
from knowledge.embedder import ChromaEmbeddingFunction, TextEmbedder

logger = logging.getLogger(__name__)
COLLECTIONS = {"solution": "solutions", "partner": "partners"}
# HNSW chosen for recall over exact search >= 0.98 at 100k records (measured by `make eval`):
# a wide construction beam and search beam cost little at this size.
HNSW = {"hnsw:space": "cosine", "hnsw:construction_ef": 200, "hnsw:M": 32, "hnsw:search_ef": 128}
POINTER = "CURRENT"


@dataclass(frozen=True)
class IngestReport:
    added: int
    updated: int
    unchanged: int
    removed: int
    generation: str
    seconds: float

    def as_json(self) -> dict:
        return self.__dict__.copy()


def _chroma(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def record_from_json(data: dict) -> Record:
    from knowledge.catalogue import Contact

    data = dict(data)
    data.pop("kind", None)
    for key, value in list(data.items()):
        if isinstance(value, list):
            data[key] = tuple(value)
    if "title" in data:
        return Solution(**data)
    contact = data.pop("contact", None)
    return Partner(**data, contact=Contact(**contact) if contact else None)


@dataclass
class Snapshot:
    """Everything search needs from one generation, held in memory."""

    records: list[Record]
    embeddings: np.ndarray  # (n, dim) float32, L2-normalised, rows aligned with records


class KnowledgeStore:
    def __init__(self, root: Path, embedder: TextEmbedder) -> None:
        self.root = Path(root)
        self.embedder = embedder
        self.embedding_function = ChromaEmbeddingFunction(embedder)
        self._reader: tuple[Path, dict] | None = None  # (generation, collections) for queries
        self._counts: dict[str, int] = {}  # rows per collection of the reader's generation

    # -- generations -------------------------------------------------------------------
    def current_generation(self) -> Path | None:
        pointer = self.root / POINTER
        if not pointer.exists():
            return None
        path = self.root / pointer.read_text(encoding="utf-8").strip()
        return path if path.is_dir() else None

    def _switch(self, generation: Path) -> None:
        tmp = self.root / f".{POINTER}.tmp"
        tmp.write_text(generation.name, encoding="utf-8")
        os.replace(tmp, self.root / POINTER)  # atomic on POSIX

    def _prune(self, keep: Path) -> None:
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child != keep:
                shutil.rmtree(child, ignore_errors=True)

    def _collections(self, client) -> dict[str, object]:
        return {
            kind: client.get_or_create_collection(
                name=name, embedding_function=self.embedding_function, metadata=HNSW
            )
            for kind, name in COLLECTIONS.items()
        }

    # -- writing -----------------------------------------------------------------------
    def ingest(self, records: Sequence[Record], *, sync: bool = False, progress: bool = False) -> IngestReport:
        """Upsert records by id (and with sync, drop ids not given), then switch generations."""
        started = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        current = self.current_generation()
        generation = self.root / f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        if current is not None:
            shutil.copytree(current, generation)
        client = _chroma(generation)
        collections = self._collections(client)
        added = updated = unchanged = removed = 0
        for kind, collection in collections.items():
            wanted = [r for r in records if r.kind == kind]
            existing = collection.get(include=["metadatas"])
            hashes = {i: (m or {}).get("hash") for i, m in zip(existing["ids"], existing["metadatas"])}
            changed = [r for r in wanted if hashes.get(r.id) != content_hash(r)]
            added += sum(1 for r in changed if r.id not in hashes)
            updated += sum(1 for r in changed if r.id in hashes)
            unchanged += len(wanted) - len(changed)
            self._upsert(collection, changed, progress=progress)
            if sync:
                stale = sorted(set(hashes) - {r.id for r in wanted})
                for start in range(0, len(stale), 5000):
                    collection.delete(ids=stale[start : start + 5000])
                removed += len(stale)
        del client, collections
        self._switch(generation)
        self._prune(keep=generation)
        return IngestReport(added, updated, unchanged, removed, generation.name, round(time.perf_counter() - started, 3))

    def _upsert(self, collection, records: Sequence[Record], *, progress: bool) -> None:
        if not records:
            return
        texts = [r.text() for r in records]
        vectors = self.embedder.encode(texts, batch_size=64, progress=progress and len(records) > 256)
        batch = 4000  # below Chroma's maximum batch size
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            collection.upsert(
                ids=[r.id for r in chunk],
                embeddings=vectors[start : start + batch],
                documents=texts[start : start + batch],
                metadatas=[_metadata(r) for r in chunk],
            )

    # -- reading -----------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """All records and embeddings of the serving generation (empty when none was built)."""
        generation = self.current_generation()
        if generation is None:
            return Snapshot([], np.zeros((0, self.embedder.dimension), dtype=np.float32))
        client = _chroma(generation)
        records: list[Record] = []
        vectors: list[np.ndarray] = []
        for collection in self._collections(client).values():
            total = collection.count()
            for offset in range(0, total, 5000):
                page = collection.get(include=["metadatas", "embeddings"], limit=5000, offset=offset)
                for meta, vector in zip(page["metadatas"], page["embeddings"]):
                    records.append(record_from_json(json.loads(meta["record"])))
                    vectors.append(np.asarray(vector, dtype=np.float32))
        matrix = np.vstack(vectors) if vectors else np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return Snapshot(records, matrix)

    def query_ann(self, kind: str, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Approximate nearest neighbours from Chroma's HNSW index: (id, cosine similarity)."""
        generation = self.current_generation()
        if generation is None:
            return []
        if self._reader is None or self._reader[0] != generation:
            self._reader = (generation, self._collections(_chroma(generation)))
            self._counts = {}
        collection = self._reader[1][kind]
        # A generation never changes once it serves, and count() costs ~5 ms at 100k rows.
        if kind not in self._counts:
            self._counts[kind] = collection.count()
        count = self._counts[kind]
        if count == 0:
            return []
        result = collection.query(query_embeddings=[vector], n_results=min(n, count), include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]


def _metadata(record: Record) -> dict:
    meta = {
        "kind": record.kind,
        "title": record.title,
        "hash": content_hash(record),
        "record": json.dumps(record_to_json(record, private=True), ensure_ascii=False),
        "sdgs": "|" + "|".join(str(s) for s in record.sdgs) + "|",
        "regions": "|" + "|".join(record.regions) + "|",
    }
    countries: Iterable[str] = record.countries if isinstance(record, Solution) else ([record.country] if record.country else [])
    meta["countries"] = "|" + "|".join(countries) + "|"
    return meta
