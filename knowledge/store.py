"""The Chroma store of solutions and partners, kept in generations.

An import copies the serving generation, applies its changes to the copy and only then points
`CURRENT` at it, so a crash mid-import leaves the previous index serving. The generation that
served before is kept (`PREVIOUS`), so `rollback()` can switch back to it.

A record is embedded as one or more chunks (`record_chunks`): the first lives in the record's
collection row, the others in the `chunks` collection, so a long description is never cut at
MiniLM's 256 word pieces and search scores a record by its best chunk. Each generation says its
format in `format.json`; an import into an older generation re-embeds what it holds. A store
given a multilingual encoder also writes that encoder's vectors of the same chunks into the
generation (`knowledge.multilingual`), for needs written in other languages than English.

With CHROMA_URL the generations live in a Chroma server instead: a generation's collections are
named `<generation>.solutions` etc., and the collection `galaxy-generations` names the serving and
the previous generation in its metadata (the server's counterpart of the pointer files), so every
action server reading that server sees an import switch (`serving_generation`).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Sequence, overload

import numpy as np

from knowledge.catalogue import Partner, Record, Solution, content_hash, record_to_json
from knowledge.embedder import ChromaEmbeddingFunction, TextEmbedder
from knowledge.multilingual import MultilingualVectors, load_index, write_index
from knowledge.text import CHUNK_WORDS, chunk_texts

logger = logging.getLogger(__name__)
COLLECTIONS = {"solution": "solutions", "partner": "partners"}
# HNSW chosen for recall over exact search >= 0.98 at 100k records (measured by `make eval`):
# a wide construction beam and search beam cost little at this size.
HNSW = {"hnsw:space": "cosine", "hnsw:construction_ef": 200, "hnsw:M": 32, "hnsw:search_ef": 128}
CHUNKS = "chunks"
POINTER = "CURRENT"
PREVIOUS = "PREVIOUS"
FORMAT = 2  # 1: one embedding per record (text cut at 256 word pieces); 2: chunked records
FORMAT_FILE = "format.json"
ORIGIN_FILE = "origin.json"  # what built a generation: {"by": "seed"|"ingest", "paths": [...], "hash": ...}
SINGLE_CHUNK_WORDS = 170  # a record text this short fits MiniLM's window whole: one chunk


def record_chunks(record: Record) -> list[str]:
    """The texts embedded for a record: its whole text when it fits the model's window;
    otherwise the head (title, summary, facts) and the description in overlapping windows."""
    text = record.text()
    if len(text.split()) <= SINGLE_CHUNK_WORDS:
        return [text]
    description = record.description or ""
    rest = text.replace(description, " ", 1) if description else text
    head_words = rest.split()
    head, overflow = " ".join(head_words[:CHUNK_WORDS]), " ".join(head_words[CHUNK_WORDS:])
    return chunk_texts(head, " ".join(p for p in (description, overflow) if p), record.title)


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


def _chroma_server(url: str):
    from urllib.parse import urlsplit

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parts = urlsplit(url if "://" in url else f"http://{url}")
    ssl = parts.scheme == "https"
    return chromadb.HttpClient(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (443 if ssl else 8000),
        ssl=ssl,
        settings=ChromaSettings(anonymized_telemetry=False),
    )


GENERATIONS = "galaxy-generations"  # Chroma server mode: the collection whose metadata names the serving generation


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


def layout_key(record: Record) -> tuple[str, str, int]:
    """The order of a snapshot's rows: by kind, then first region, then first goal, so most rows a
    region or SDG filter keeps sit in long runs that search scores in place (`knowledge.search`)."""
    return (record.kind, record.regions[0] if record.regions else "", record.sdgs[0] if record.sdgs else 0)


@dataclass
class Snapshot:
    """Everything search needs from one generation. Read from a snapshot cache (`folder`), the
    records are a `RecordTable` and the vectors memory-mapped arrays, in `layout_key` order."""

    records: Sequence[Record]
    embeddings: np.ndarray  # (n, dim) float32, L2-normalised, rows aligned with records (first chunk)
    chunk_embeddings: np.ndarray | None = None  # (m, dim): the further chunks of long records
    chunk_rows: np.ndarray | None = None  # (m,): the record row each further chunk belongs to
    multilingual: MultilingualVectors | None = None  # the multilingual encoder's vectors, when built
    folder: Path | None = None  # the snapshot cache it was read from, where search keeps its own index


RECORD_CACHE = 8192  # decoded records a RecordTable keeps (search reads a few hundred per query)


class RecordTable(Sequence[Record]):
    """The records of a snapshot cache, read from its JSON lines file when asked for (the last
    RECORD_CACHE decoded kept), so a process holds the ids of 100k records but not their text.
    Lines are read with pread, not mapped: a mapping's read-around would keep far more than the
    few hundred lines a query reads resident in every process."""

    def __init__(self, folder: Path) -> None:
        self.ids: list[str] = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        self._offsets = np.load(folder / "offsets.npy")
        if len(self._offsets) != len(self.ids) + 1:
            raise ValueError("snapshot cache offsets do not match its ids")
        self._file = (folder / "records.jsonl").open("rb")
        if os.fstat(self._file.fileno()).st_size != int(self._offsets[-1]):
            self._file.close()
            raise ValueError("snapshot cache records file does not match its offsets")
        self._decoded = lru_cache(maxsize=RECORD_CACHE)(self._decode)

    def _decode(self, row: int) -> Record:
        start, end = int(self._offsets[row]), int(self._offsets[row + 1])
        return record_from_json(json.loads(os.pread(self._file.fileno(), end - start, start)))

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, row: int) -> Record: ...
    @overload
    def __getitem__(self, row: slice) -> list[Record]: ...
    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self._decoded(i) for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._decoded(row)

    def __iter__(self) -> Iterator[Record]:  # a full pass decodes each record without caching it
        return (self._decode(row) for row in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]


class StoreError(RuntimeError):
    """A store operation that cannot be done (no previous generation to roll back to)."""


def generation_format(generation: Path) -> int:
    try:
        return int(json.loads((generation / FORMAT_FILE).read_text(encoding="utf-8"))["format"])
    except (OSError, ValueError, KeyError, TypeError):
        return 1  # generations built before chunking say nothing


def generation_origin(generation: Path) -> dict:
    try:
        return json.loads((generation / ORIGIN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"by": "unknown"}


def _count_records(generation: Path) -> int | None:
    try:
        client = _chroma(generation)
        return sum(client.get_collection(name).count() for name in COLLECTIONS.values())
    except Exception:  # noqa: BLE001 - a broken generation is shown, not fatal
        return None


class KnowledgeStore:
    def __init__(
        self, root: Path, embedder: TextEmbedder, multilingual: TextEmbedder | None = None, *, chroma_url: str | None = None
    ) -> None:
        """`chroma_url`: a Chroma server to keep the generations in; None reads CHROMA_URL, "" is local."""
        self.root = Path(root)
        self.embedder = embedder
        # With a multilingual encoder, every import also writes its vectors into the generation.
        self.multilingual = multilingual
        self.embedding_function = ChromaEmbeddingFunction(embedder)
        if chroma_url is None:
            from knowledge.settings import settings

            chroma_url = settings().chroma_url
        self.chroma_url = chroma_url
        self._server = None  # the Chroma server's client, made on first use
        self._reader: tuple[str, dict] | None = None  # (generation, collections) for queries
        self._counts: dict[str, int] = {}  # rows per collection of the reader's generation

    @property
    def remote(self) -> bool:
        return bool(self.chroma_url)

    def _remote_client(self):
        if self._server is None:
            self._server = _chroma_server(self.chroma_url)
        return self._server

    def _client(self, generation: str):
        """A Chroma client holding the generation, and the prefix of its collection names."""
        if self.remote:
            return self._remote_client(), f"{generation}."
        return _chroma(self.root / generation), ""

    def _meta_collection(self):
        return self._remote_client().get_or_create_collection(name=GENERATIONS, embedding_function=self.embedding_function)

    def _meta(self) -> dict:
        return dict(self._meta_collection().metadata or {})

    def _write_meta(self, **changes: object) -> None:
        meta = self._meta()
        meta.update({k: v for k, v in changes.items() if v is not None})
        meta.pop("hnsw:space", None)  # configuration, not ours to write back
        self._meta_collection().modify(metadata=meta)

    # -- generations -------------------------------------------------------------------
    def serving_generation(self) -> str | None:
        """The name of the serving generation: one small read, cheap enough to ask often."""
        if self.remote:
            return self._meta().get("serving") or None
        generation = self.current_generation()
        return generation.name if generation is not None else None

    def current_generation(self) -> Path | None:
        """The serving generation's folder (in server mode a path that only names it)."""
        if self.remote:
            name = self.serving_generation()
            return self.root / name if name else None
        pointer = self.root / POINTER
        if not pointer.exists():
            return None
        path = self.root / pointer.read_text(encoding="utf-8").strip()
        return path if path.is_dir() else None

    def previous_generation(self) -> Path | None:
        if self.remote:
            name = self._meta().get("previous")
            return self.root / name if name else None
        pointer = self.root / PREVIOUS
        if not pointer.exists():
            return None
        path = self.root / pointer.read_text(encoding="utf-8").strip()
        return path if path.is_dir() else None

    def _write_pointer(self, name: str, generation: Path) -> None:
        tmp = self.root / f".{name}.tmp"
        tmp.write_text(generation.name, encoding="utf-8")
        os.replace(tmp, self.root / name)  # atomic on POSIX

    def _switch(self, generation: Path) -> None:
        current = self.current_generation()
        if self.remote:
            # One metadata write names both, so a reader never sees a half switch.
            previous = current.name if current is not None and current.name != generation.name else None
            self._write_meta(serving=generation.name, previous=previous)
            return
        if current is not None and current != generation:
            self._write_pointer(PREVIOUS, current)
        self._write_pointer(POINTER, generation)

    def _remote_generations(self) -> dict[str, list[str]]:
        """Generation name -> its collection names, on the Chroma server."""
        found: dict[str, list[str]] = {}
        for collection in self._remote_client().list_collections():
            name = getattr(collection, "name", collection)
            if name.startswith("gen-") and "." in name:
                found.setdefault(name.rsplit(".", 1)[0], []).append(name)
        return found

    def _prune(self) -> None:
        """Removes every generation but the serving one and the one before it."""
        keep = {self.current_generation(), self.previous_generation()}
        if self.remote:
            names = {g.name for g in keep if g is not None}
            meta = self._meta()
            for generation, collections in self._remote_generations().items():
                if generation not in names:
                    for name in collections:
                        self._remote_client().delete_collection(name)
                    for key in (f"format:{generation}", f"origin:{generation}"):
                        meta.pop(key, None)
            if (self.root / SNAPSHOTS).is_dir():  # this machine's caches of pruned generations
                for cached in (self.root / SNAPSHOTS).iterdir():
                    if cached.name not in names:
                        shutil.rmtree(cached, ignore_errors=True)
            meta.pop("hnsw:space", None)
            self._meta_collection().modify(metadata=meta)
            return
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child not in keep:
                shutil.rmtree(child, ignore_errors=True)

    def _format(self, generation: Path) -> int:
        if self.remote:
            return int(self._meta().get(f"format:{generation.name}", 1))
        return generation_format(generation)

    def rollback(self) -> Path:
        """Serves the previous generation again (the one rolled back from becomes the previous)."""
        previous = self.previous_generation()
        if previous is None:
            raise StoreError(f"no previous generation to roll back to in {self.root}")
        self._switch(previous)
        return previous

    def generations(self) -> list[dict]:
        """Every generation on disk, newest first: name, serving/previous, format, origin, records."""
        current, previous = self.current_generation(), self.previous_generation()
        if self.remote:
            meta = self._meta()
            rows = []
            for name in sorted(self._remote_generations(), reverse=True):  # names start with their time
                state = "serving" if current and name == current.name else "previous" if previous and name == previous.name else "unused"
                client, prefix = self._client(name)
                try:
                    records = sum(client.get_collection(prefix + c).count() for c in COLLECTIONS.values())
                except Exception:  # noqa: BLE001 - a broken generation is shown, not fatal
                    records = None
                origin = json.loads(meta.get(f"origin:{name}", '{"by": "unknown"}'))
                rows.append({"generation": name, "state": state, "format": int(meta.get(f"format:{name}", 1)), "origin": origin, "records": records})
            return rows
        if not self.root.is_dir():
            return []
        rows = []
        for child in sorted((c for c in self.root.iterdir() if c.is_dir() and c.name.startswith("gen-")), key=lambda c: c.stat().st_mtime, reverse=True):
            state = "serving" if child == current else "previous" if child == previous else "unused"
            rows.append({"generation": child.name, "state": state, "format": generation_format(child), "origin": generation_origin(child), "records": _count_records(child)})
        return rows

    def _collections(self, client, prefix: str = "") -> dict[str, object]:
        return {
            kind: client.get_or_create_collection(
                name=prefix + name, embedding_function=self.embedding_function, metadata=HNSW
            )
            for kind, name in COLLECTIONS.items()
        }

    def _chunk_collection(self, client, prefix: str = ""):
        return client.get_or_create_collection(name=prefix + CHUNKS, embedding_function=self.embedding_function, metadata={"hnsw:space": "cosine"})

    def _copy_remote(self, source: str, target: str) -> None:
        """Copies a generation's collections on the Chroma server (the counterpart of copying its folder)."""
        client = self._remote_client()
        for name in (*COLLECTIONS.values(), CHUNKS):
            try:
                old = client.get_collection(f"{source}.{name}", embedding_function=self.embedding_function)
            except Exception:  # noqa: BLE001 - a generation without chunks has no such collection
                continue
            new = client.get_or_create_collection(name=f"{target}.{name}", embedding_function=self.embedding_function, metadata=old.metadata)
            for offset in range(0, old.count(), 4000):
                page = old.get(include=["metadatas", "embeddings", "documents"], limit=4000, offset=offset)
                if page["ids"]:
                    new.upsert(ids=page["ids"], embeddings=page["embeddings"], metadatas=page["metadatas"], documents=page["documents"])

    # -- writing -----------------------------------------------------------------------
    def ingest(self, records: Sequence[Record], *, sync: bool = False, progress: bool = False, origin: dict | None = None) -> IngestReport:
        """Upsert records by id (and with sync, drop ids not given), then switch generations.

        `origin` is written into the new generation (what built it: see `store ensure`)."""
        started = time.perf_counter()
        if not self.remote:
            self.root.mkdir(parents=True, exist_ok=True)
        current = self.current_generation()
        generation = self.root / f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        if current is not None and self.remote:
            self._copy_remote(current.name, generation.name)
        elif current is not None:
            # The copy's contents will change: the serving generation's snapshot cache is not copied.
            shutil.copytree(current, generation, ignore=shutil.ignore_patterns(SNAPSHOT, f".{SNAPSHOT}.*", OLD_SNAPSHOT))
            for name in (FORMAT_FILE, ORIGIN_FILE):
                (generation / name).unlink(missing_ok=True)
        # An older format's embeddings are not comparable (one cut text per record): re-embed all.
        migrate = current is not None and self._format(current) < FORMAT
        client, prefix = self._client(generation.name)
        collections = self._collections(client, prefix)
        chunks = self._chunk_collection(client, prefix)
        added = updated = unchanged = removed = 0
        for kind, collection in collections.items():
            wanted = [r for r in records if r.kind == kind]
            wanted_ids = {r.id for r in wanted}
            existing = collection.get(include=["metadatas"])
            hashes = {i: (m or {}).get("hash") for i, m in zip(existing["ids"], existing["metadatas"])}
            changed = [r for r in wanted if migrate or hashes.get(r.id) != content_hash(r)]
            added += sum(1 for r in changed if r.id not in hashes)
            updated += sum(1 for r in changed if r.id in hashes and hashes[r.id] != content_hash(r))
            unchanged += len(wanted) - len(changed) + sum(1 for r in changed if hashes.get(r.id) == content_hash(r))
            stale = sorted(set(hashes) - wanted_ids) if sync else []
            if migrate:  # records of earlier imports that this one keeps are re-embedded too
                kept = set(hashes) - wanted_ids - set(stale)
                changed += [record_from_json(json.loads(m["record"])) for i, m in zip(existing["ids"], existing["metadatas"]) if i in kept]
            self._upsert(collection, chunks, changed, progress=progress)
            for start in range(0, len(stale), 5000):
                collection.delete(ids=stale[start : start + 5000])
                chunks.delete(where={"record": {"$in": stale[start : start + 5000]}})
            removed += len(stale)
        self._write_multilingual(generation, collections, progress=progress)
        del client, collections, chunks
        if self.remote:
            self._write_meta(**{f"format:{generation.name}": FORMAT, f"origin:{generation.name}": json.dumps(origin or {"by": "ingest"})})
        else:
            (generation / FORMAT_FILE).write_text(json.dumps({"format": FORMAT}), encoding="utf-8")
            (generation / ORIGIN_FILE).write_text(json.dumps(origin or {"by": "ingest"}), encoding="utf-8")
        self._switch(generation)
        self._prune()
        return IngestReport(added, updated, unchanged, removed, generation.name, round(time.perf_counter() - started, 3))

    def _write_multilingual(self, generation: Path, collections: dict, *, progress: bool) -> None:
        """The multilingual vectors of every record the new generation holds (unchanged records
        keep theirs); without an encoder, a copied index would go stale, so it is removed."""
        from knowledge.multilingual import INDEX_FILE

        if self.multilingual is None:
            (generation / INDEX_FILE).unlink(missing_ok=True)
            return
        held: list[tuple[str, str, list[str]]] = []
        for collection in collections.values():
            total = collection.count()
            for offset in range(0, total, 5000):
                page = collection.get(include=["metadatas"], limit=5000, offset=offset)
                for rid, meta in zip(page["ids"], page["metadatas"]):
                    held.append((rid, meta["hash"], record_chunks(record_from_json(json.loads(meta["record"])))))
        write_index(generation, held, self.multilingual, progress=progress)

    def _upsert(self, collection, chunk_collection, records: Sequence[Record], *, progress: bool) -> None:
        if not records:
            return
        per_record = [record_chunks(r) for r in records]
        texts = [t for chunks in per_record for t in chunks]
        vectors = self.embedder.encode(texts, batch_size=64, progress=progress and len(texts) > 256)
        firsts = np.cumsum([0] + [len(c) for c in per_record[:-1]])
        batch = 4000  # below Chroma's maximum batch size
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            at = firsts[start : start + batch]
            collection.upsert(
                ids=[r.id for r in chunk],
                embeddings=vectors[at],
                documents=[texts[i] for i in at],
                metadatas=[_metadata(r) for r in chunk],
            )
        # Extra chunks: the old ones of these records go first (a shorter text has fewer).
        ids = [r.id for r in records]
        for start in range(0, len(ids), 5000):
            chunk_collection.delete(where={"record": {"$in": ids[start : start + 5000]}})
        extra = [(r, n, int(first) + n) for r, chunks, first in zip(records, per_record, firsts) for n in range(1, len(chunks))]
        for start in range(0, len(extra), batch):
            part = extra[start : start + batch]
            chunk_collection.upsert(
                ids=[f"{r.id}#{n}" for r, n, _ in part],
                embeddings=vectors[[i for _, _, i in part]],
                documents=[texts[i] for _, _, i in part],
                metadatas=[{"record": r.id, "kind": r.kind} for r, _, _ in part],
            )

    # -- reading -----------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """All records and embeddings of the serving generation (empty when none was built).

        Read from Chroma once per generation into a snapshot cache beside it (`_snapshot_dir`), in
        `layout_key` order: records as JSON lines decoded when search asks for them, vectors (MiniLM's
        and the multilingual encoder's) as .npy files opened memory-mapped. Every load (a restart,
        another action server on the machine) then skips Chroma's paging and the vectors' pages are
        shared through the OS cache."""
        generation = self.current_generation()
        if generation is None:
            return Snapshot([], np.zeros((0, self.embedder.dimension), dtype=np.float32))
        cache = self._snapshot_dir(generation.name)
        if (cache / SNAPSHOT_DONE).exists():
            try:
                return _read_snapshot(cache)
            except (OSError, ValueError, KeyError, TypeError):
                logger.warning("unreadable snapshot cache %s: reading the generation from Chroma", cache)
                shutil.rmtree(cache, ignore_errors=True)
        snapshot = self._snapshot_from_chroma(generation)
        try:
            _write_snapshot(cache, snapshot)
            if not self.remote:  # the cache of an older layout
                shutil.rmtree(generation / OLD_SNAPSHOT, ignore_errors=True)
            return _read_snapshot(cache)
        except (OSError, ValueError) as exc:  # a read-only store still serves, from memory
            logger.warning("could not write the snapshot cache %s: %s", cache, exc)
        return snapshot

    def _snapshot_dir(self, generation: str) -> Path:
        # Local mode: inside the generation (pruned with it). Server mode: under the local store folder.
        return self.root / SNAPSHOTS / generation if self.remote else self.root / generation / SNAPSHOT

    def _snapshot_from_chroma(self, generation: Path) -> Snapshot:
        client, prefix = self._client(generation.name)
        records: list[Record] = []
        hashes: list[str] = []
        vectors: list[np.ndarray] = []
        for collection in self._collections(client, prefix).values():
            total = collection.count()
            for offset in range(0, total, 5000):
                page = collection.get(include=["metadatas", "embeddings"], limit=5000, offset=offset)
                for meta, vector in zip(page["metadatas"], page["embeddings"]):
                    records.append(record_from_json(json.loads(meta["record"])))
                    hashes.append(str(meta.get("hash")))
                    vectors.append(np.asarray(vector, dtype=np.float32))
        order = sorted(range(len(records)), key=lambda i: layout_key(records[i]))
        records, hashes, vectors = [records[i] for i in order], [hashes[i] for i in order], [vectors[i] for i in order]
        matrix = np.vstack(vectors) if vectors else np.zeros((0, self.embedder.dimension), dtype=np.float32)
        row_of = {r.id: i for i, r in enumerate(records)}
        owners: list[int] = []
        chunk_vectors: list[np.ndarray] = []
        if self._format(generation) >= FORMAT:
            collection = self._chunk_collection(client, prefix)
            for offset in range(0, collection.count(), 5000):
                page = collection.get(include=["metadatas", "embeddings"], limit=5000, offset=offset)
                for meta, vector in zip(page["metadatas"], page["embeddings"]):
                    if meta.get("record") in row_of:
                        owners.append(row_of[meta["record"]])
                        chunk_vectors.append(np.asarray(vector, dtype=np.float32))
        chunk_matrix = np.vstack(chunk_vectors) if chunk_vectors else np.zeros((0, matrix.shape[1]), dtype=np.float32)
        multilingual = load_index(generation, [r.id for r in records], hashes.__getitem__)
        return Snapshot(records, matrix, chunk_matrix, np.asarray(owners, dtype=np.int64), multilingual)

    def query_ann(self, kind: str, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Approximate nearest neighbours from Chroma's HNSW index: (id, cosine similarity)."""
        generation = self.serving_generation()
        if generation is None:
            return []
        if self._reader is None or self._reader[0] != generation:
            self._reader = (generation, self._collections(*self._client(generation)))
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


SNAPSHOT = "snapshot-v2"  # the cache of a local generation's snapshot, inside its folder
OLD_SNAPSHOT = "snapshot-v1"  # the cache before v2 (records in Chroma's order, read whole)
SNAPSHOTS = "snapshots"  # server mode: <store dir>/snapshots/<generation>/
SNAPSHOT_DONE = "complete"  # written last: a cache without it is ignored (and rewritten)


@contextmanager
def written_whole(folder: Path) -> Iterator[Path]:
    """A temporary folder to write `folder`'s files into, renamed to `folder` at the end, so readers
    never see half of one (when another process renamed its own first, theirs is kept: the same)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    tmp.mkdir()
    try:
        yield tmp
        try:
            os.rename(tmp, folder)
        except OSError:  # another process's is there already
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_snapshot(folder: Path, snapshot: Snapshot) -> None:
    if (folder / SNAPSHOT_DONE).exists():
        return
    with written_whole(folder) as tmp:
        offsets = [0]
        with (tmp / "records.jsonl").open("wb") as out:
            for record in snapshot.records:
                line = (json.dumps(record_to_json(record, private=True), ensure_ascii=False) + "\n").encode("utf-8")
                out.write(line)
                offsets.append(offsets[-1] + len(line))
        np.save(tmp / "offsets.npy", np.asarray(offsets, dtype=np.int64))
        (tmp / "ids.json").write_text(json.dumps([r.id for r in snapshot.records], ensure_ascii=False), encoding="utf-8")
        np.save(tmp / "embeddings.npy", np.ascontiguousarray(snapshot.embeddings, dtype=np.float32))
        chunks = snapshot.chunk_embeddings if snapshot.chunk_embeddings is not None else np.zeros((0, snapshot.embeddings.shape[1]), dtype=np.float32)
        np.save(tmp / "chunk_embeddings.npy", np.ascontiguousarray(chunks, dtype=np.float32))
        rows = snapshot.chunk_rows if snapshot.chunk_rows is not None else np.zeros(0, dtype=np.int64)
        np.save(tmp / "chunk_rows.npy", np.asarray(rows, dtype=np.int64))
        if snapshot.multilingual is not None:
            ml = snapshot.multilingual
            np.save(tmp / "ml_embeddings.npy", np.ascontiguousarray(ml.embeddings, dtype=np.float32))
            np.save(tmp / "ml_chunk_embeddings.npy", np.ascontiguousarray(ml.chunk_embeddings, dtype=np.float32))
            np.save(tmp / "ml_chunk_rows.npy", np.asarray(ml.chunk_rows, dtype=np.int64))
        (tmp / SNAPSHOT_DONE).write_text(str(len(snapshot.records)), encoding="utf-8")


def _read_snapshot(folder: Path) -> Snapshot:
    def mapped(name: str) -> np.ndarray:  # read-only, its pages shared through the OS cache
        return np.load(folder / name, mmap_mode="r")

    records = RecordTable(folder)
    embeddings = mapped("embeddings.npy")
    if len(records) != int((folder / SNAPSHOT_DONE).read_text(encoding="utf-8")) or embeddings.shape[0] != len(records):
        raise ValueError("snapshot cache does not match its record count")
    multilingual = None
    if (folder / "ml_embeddings.npy").exists():
        multilingual = MultilingualVectors(mapped("ml_embeddings.npy"), mapped("ml_chunk_embeddings.npy"), np.load(folder / "ml_chunk_rows.npy"))
        if len(multilingual.embeddings) != len(records):
            raise ValueError("snapshot cache's multilingual vectors do not match its records")
    return Snapshot(records, embeddings, mapped("chunk_embeddings.npy"), np.load(folder / "chunk_rows.npy"), multilingual, folder)


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
