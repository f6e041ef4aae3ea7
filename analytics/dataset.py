"""The analytics dataset: every conversation of the tracker store reduced to columns of facts (sessions,
searches, FAQ questions), plus the introductions, hand-offs and feedback of the introductions store, read
once and kept in memory as numpy arrays so that any date range and channel is a mask, not a query.

Need texts are masked (emails, phones) when read; SDGs of needs without an SDG filter come from the SdgTagger
and the unmet needs are clustered with the MiniLM encoder, both cached per distinct text on disk. Only
non-personal columns of the introductions store are ever selected: no names, emails, organisations, messages
or topics are read."""
from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import sqlalchemy as sa

from analytics.signals import READ_TYPES, TRACKED_SLOTS, UNMET_OUTCOMES, ConversationSignals, Row, extract
from knowledge.masking import mask_text

logger = logging.getLogger(__name__)

# A need is given the tagger's top goal only when the tagger is this sure (knowledge.sdg's own bar).
SDG_MIN_SCORE = 0.35
UNTAGGED = 0
PLACE_SEPARATOR = "|"  # several place keys in one column value: "KGZ|TJK"
# Average-linkage cosine distance under which need texts share a theme (MiniLM: paraphrases ~0.2-0.35).
CLUSTER_DISTANCE = 0.5
MAX_CLUSTER_TEXTS = 2000  # the most frequent distinct texts are clustered; the rest join the nearest theme
OTHER_CLUSTER = -1
BATCH = 5000


@dataclass
class Categorical:
    """A column of strings stored as int codes into `values`."""

    codes: np.ndarray
    values: list[str]

    @classmethod
    def of(cls, items: Sequence[str]) -> "Categorical":
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in items), dtype=np.int32, count=len(items))
        return cls(codes, list(index))

    def code(self, value: str) -> int:
        return self.values.index(value) if value in self.values else -1

    def __getitem__(self, mask: Any) -> list[str]:
        return [self.values[c] for c in self.codes[mask]]


@dataclass
class Table:
    """Columns of equal length: numpy arrays and Categorical columns."""

    columns: dict[str, Any]

    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        if first is None:
            return 0
        return len(first.codes if isinstance(first, Categorical) else first)

    def __getitem__(self, name: str) -> Any:
        return self.columns[name]


@dataclass
class Dataset:
    built_at: float
    conversations: int
    sessions: Table
    searches: Table
    faq: Table
    texts: list[str]  # masked need and question texts, indexed by the text_id columns
    clusters: np.ndarray  # text_id -> theme id (OTHER_CLUSTER for texts outside the problem set)
    cluster_labels: list[str]
    introductions: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)
    handoffs_asked: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    partner_names: dict[str, str] = field(default_factory=dict)
    build_seconds: float = 0.0

    @property
    def channels(self) -> list[str]:
        names = set(self.sessions["channel"].values) | {r["channel"] for r in self.introductions}
        return sorted(n for n in names if n)


# -- reading the tracker store -------------------------------------------------------------------------

def _has_table(engine: sa.engine.Engine, name: str) -> bool:
    with engine.connect() as connection:
        return sa.inspect(connection).has_table(name)


def conversation_rows(engine: sa.engine.Engine) -> Iterator[tuple[str, list[Row]]]:
    """Each conversation's rows of the kinds the extraction reads, in storage order, streamed."""
    if not _has_table(engine, "events"):
        return
    events = sa.table(
        "events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"), sa.column("timestamp"),
        sa.column("intent_name"), sa.column("action_name"), sa.column("data"),
    )
    # Slot rows carry the slot's name in action_name: only the tracked slots are read.
    query = (
        sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.intent_name,
                  events.c.action_name,
                  sa.case((events.c.type_name.in_(("user", "bot", "slot")), events.c.data), else_=sa.null()))
        .where(events.c.type_name.in_(READ_TYPES))
        .where(sa.or_(events.c.type_name != "slot", events.c.action_name.in_(sorted(TRACKED_SLOTS))))
        .order_by(events.c.sender_id, events.c.id)
    )
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        current: str | None = None
        rows: list[Row] = []
        for sender, type_name, timestamp, intent, action, data in result:
            if sender != current:
                if current is not None:
                    yield current, rows
                current, rows = sender, []
            rows.append(Row(type_name, timestamp or 0.0, intent, action, data))
        if current is not None:
            yield current, rows


def tracker_signature(tracker_store_url: str) -> tuple[int, int]:
    """(rows, highest id) of the events table: unchanged means no conversation was added, grown or erased."""
    from introductions.conversations import conversation_engine

    engine = conversation_engine(tracker_store_url)
    try:
        if not _has_table(engine, "events"):
            return (0, 0)
        with engine.connect() as connection:
            count, highest = connection.execute(sa.text("SELECT COUNT(*), MAX(id) FROM events")).one()
        return (int(count or 0), int(highest or 0))
    finally:
        engine.dispose()


def with_fresh_brokering(dataset: Dataset, database_url: str | None) -> Dataset:
    """The same conversations with the introductions store read again (it is small)."""
    from dataclasses import replace

    brokering = read_brokering(database_url) if database_url else {}
    return replace(dataset, built_at=time.time(), **{k: brokering.get(k, []) for k in ("introductions", "handoffs", "handoffs_asked", "feedback")})


def read_signals(tracker_store_url: str) -> Iterator[ConversationSignals]:
    from introductions.conversations import conversation_engine

    engine = conversation_engine(tracker_store_url)
    try:
        for sender, rows in conversation_rows(engine):
            yield extract(sender, rows)
    finally:
        engine.dispose()


# -- per-text cache of SDG tags and vectors ---------------------------------------------------------------

class TextCache:
    """SDG tag and MiniLM vector of each distinct text, kept on disk so a rebuild embeds only new texts."""

    def __init__(self, path: Path | None) -> None:
        self._db = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One build at a time uses it, from whichever worker thread runs the refresh.
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS sdg (hash TEXT PRIMARY KEY, sdg INTEGER, score REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS vector (hash TEXT PRIMARY KEY, vector BLOB)")
        self._memory: dict[tuple[str, str], Any] = {}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def get(self, table: str, texts: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        missing = []
        for text in texts:
            value = self._memory.get((table, text))
            if value is None:
                missing.append(text)
            else:
                found[text] = value
        if self._db is not None and missing:
            by_hash = {self.key(t): t for t in missing}
            hashes = list(by_hash)
            for start in range(0, len(hashes), 500):
                chunk = hashes[start:start + 500]
                marks = ",".join("?" * len(chunk))
                columns = "hash, sdg, score" if table == "sdg" else "hash, vector"
                for row in self._db.execute(f"SELECT {columns} FROM {table} WHERE hash IN ({marks})", chunk):  # noqa: S608 - fixed names
                    value = (row[1], row[2]) if table == "sdg" else np.frombuffer(row[1], dtype=np.float32)
                    found[by_hash[row[0]]] = value
                    self._memory[(table, by_hash[row[0]])] = value
        return found

    def put(self, table: str, values: dict[str, Any]) -> None:
        for text, value in values.items():
            self._memory[(table, text)] = value
        if self._db is None or not values:
            return
        if table == "sdg":
            rows = [(self.key(t), int(v[0]), float(v[1])) for t, v in values.items()]
            self._db.executemany("INSERT OR REPLACE INTO sdg VALUES (?, ?, ?)", rows)
        else:
            rows = [(self.key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in values.items()]
            self._db.executemany("INSERT OR REPLACE INTO vector VALUES (?, ?)", rows)
        self._db.commit()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


class CachedEmbedder:
    """The encoder behind a TextCache: each distinct text is embedded once, for the tagger and the themes."""

    def __init__(self, embedder: Any, cache: TextCache) -> None:
        self._embedder = embedder
        self._cache = cache
        self.dimension = getattr(embedder, "dimension", 384)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return vectors_of(list(texts), self._embedder, self._cache)


def tag_needs(texts: Sequence[str], tagger: Any, cache: TextCache) -> dict[str, tuple[int, float]]:
    known = cache.get("sdg", texts)
    missing = [t for t in texts if t not in known]
    if missing and tagger is not None:
        tags = tagger.tag_many(missing, top_k=1)
        fresh = {t: (tag[0][0], tag[0][1]) if tag else (UNTAGGED, 0.0) for t, tag in zip(missing, tags)}
        cache.put("sdg", fresh)
        known.update(fresh)
    return known


def vectors_of(texts: Sequence[str], embedder: Any, cache: TextCache) -> np.ndarray:
    known = cache.get("vector", texts)
    missing = [t for t in texts if t not in known]
    if missing:
        fresh = dict(zip(missing, embedder.encode(list(missing), batch_size=64)))
        cache.put("vector", fresh)
        known.update(fresh)
    return np.stack([known[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)


def cluster_texts(texts: Sequence[str], counts: Sequence[int], embedder: Any, cache: TextCache) -> tuple[np.ndarray, list[str]]:
    """Theme id of each text and each theme's label (its most frequent text). Without an encoder each
    distinct (lower-cased) text is its own theme."""
    if not texts:
        return np.zeros(0, dtype=np.int32), []
    order = sorted(range(len(texts)), key=lambda i: (-counts[i], texts[i]))
    if embedder is None:
        labels: dict[str, int] = {}
        ids = np.array([labels.setdefault(texts[i].lower(), len(labels)) for i in range(len(texts))], dtype=np.int32)
    else:
        from sklearn.cluster import AgglomerativeClustering

        head = order[:MAX_CLUSTER_TEXTS]
        vectors = vectors_of([texts[i] for i in head], embedder, cache)
        if len(head) == 1:
            head_ids = np.zeros(1, dtype=np.int32)
        else:
            head_ids = AgglomerativeClustering(
                n_clusters=None, metric="cosine", linkage="average", distance_threshold=CLUSTER_DISTANCE
            ).fit_predict(vectors).astype(np.int32)
        ids = np.full(len(texts), OTHER_CLUSTER, dtype=np.int32)
        ids[head] = head_ids
        tail = order[MAX_CLUSTER_TEXTS:]
        if tail:
            centroids = np.stack([vectors[head_ids == c].mean(axis=0) for c in range(head_ids.max() + 1)])
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
            for start in range(0, len(tail), BATCH):
                chunk = tail[start:start + BATCH]
                sims = vectors_of([texts[i] for i in chunk], embedder, cache) @ centroids.T
                best = sims.argmax(axis=1)
                ids[chunk] = np.where(sims.max(axis=1) >= 1 - CLUSTER_DISTANCE, best, OTHER_CLUSTER)
    # Theme ids by size (0 = the largest), labelled by their most frequent text.
    sizes = Counter()
    for i, c in enumerate(ids):
        if c != OTHER_CLUSTER:
            sizes[int(c)] += counts[i]
    renumber = {old: new for new, (old, _) in enumerate(sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])))}
    ids = np.array([renumber.get(int(c), OTHER_CLUSTER) for c in ids], dtype=np.int32)
    labels_out = [""] * len(renumber)
    for i in order:
        c = ids[i]
        if c != OTHER_CLUSTER and not labels_out[c]:
            labels_out[c] = texts[i]
    return ids, labels_out


# -- the introductions store (non-personal columns only) ---------------------------------------------------

def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def read_brokering(database_url: str) -> dict[str, list[dict[str, Any]]]:
    from introductions.db import make_engine
    from introductions.feedback import Feedback
    from introductions.models import Handoff, HandoffAsked, Introduction, OutboxMessage

    engine = make_engine(database_url)
    out: dict[str, list[dict[str, Any]]] = {"introductions": [], "handoffs": [], "handoffs_asked": [], "feedback": []}
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            if inspector.has_table("introductions"):
                delivered = set(connection.scalars(
                    sa.select(OutboxMessage.introduction_id).where(
                        OutboxMessage.kind == "partner_notification", OutboxMessage.delivered_at.is_not(None))))
                t = Introduction.__table__.c
                for row in connection.execute(sa.select(t.id, t.created_at, t.decided_at, t.status, t.partner_id, t.channel, t.target_kind)):
                    reached = row.status in ("delivered", "accepted", "declined") or row.id in delivered
                    out["introductions"].append({
                        "created": _ts(row.created_at), "decided": _ts(row.decided_at), "status": row.status,
                        "partner_id": row.partner_id, "channel": row.channel, "target_kind": row.target_kind,
                        "delivered": reached,
                    })
            if inspector.has_table("handoffs"):
                t = Handoff.__table__.c
                for row in connection.execute(sa.select(t.created_at, t.closed_at, t.status, t.channel)):
                    out["handoffs"].append({"created": _ts(row.created_at), "closed": _ts(row.closed_at),
                                            "status": row.status, "channel": row.channel})
            if inspector.has_table("handoff_asked"):
                t = HandoffAsked.__table__.c
                for row in connection.execute(sa.select(t.asked_on, t.channel)):
                    day = datetime(row.asked_on.year, row.asked_on.month, row.asked_on.day).timestamp()
                    out["handoffs_asked"].append({"created": day, "channel": row.channel})
            if inspector.has_table("answer_feedback"):
                t = Feedback.__table__.c
                query = sa.select(t.id, t.created_at, t.channel, t.rating, t.answer_ref, t.reason, t.status, t.label).where(t.verified.is_(True))
                for row in connection.execute(query):
                    kind, _, value = row.answer_ref.partition(":")
                    out["feedback"].append({
                        "id": row.id, "created": _ts(row.created_at), "channel": row.channel, "rating": row.rating,
                        "kind": kind if value else "other", "answer": mask_text(value or kind),
                        "reason": mask_text(row.reason or ""), "status": row.status, "label": row.label or "",
                    })
    finally:
        engine.dispose()
    return out


def partner_names() -> dict[str, str]:
    """Catalogue partners' public names (partners are public records; requesters never appear)."""
    try:
        from knowledge.catalogue import Partner, load_catalogue
        from knowledge.settings import settings

        return {r.id: r.name for r in load_catalogue(list(settings().catalogue_paths)) if isinstance(r, Partner)}
    except Exception:  # noqa: BLE001 - names are a nicety; ids still show
        return {}


# -- building ------------------------------------------------------------------------------------------

def build_dataset(
    tracker_store_url: str,
    database_url: str | None,
    *,
    embedder: Any = None,
    tagger: Any = None,
    cache_path: Path | None = None,
    cache: TextCache | None = None,
    signals: Iterable[ConversationSignals] | None = None,
) -> Dataset:
    """Reads both stores and reduces them to columns. `embedder`/`tagger` None: a tagger-free build (needs
    without an SDG filter stay untagged, each distinct unmet need is its own theme)."""
    started = time.perf_counter()
    owned = cache is None
    cache = cache if cache is not None else TextCache(cache_path)
    text_ids: dict[str, int] = {}
    s_cols: dict[str, list[Any]] = {k: [] for k in ("ts", "channel", "language", "turns", "escalated", "fallbacks", "abandoned")}
    q_cols: dict[str, list[Any]] = {k: [] for k in ("ts", "channel", "language", "kind", "outcome", "rephrased", "sdg", "filter_sdg", "country", "region", "places", "excluded", "text")}
    f_cols: dict[str, list[Any]] = {k: [] for k in ("ts", "channel", "outcome", "confidence", "text", "key")}
    conversations = 0

    def text_id(text: str) -> int:
        return text_ids.setdefault(mask_text(text), len(text_ids))

    masked_cache: dict[str, int] = {}
    for conversation in signals if signals is not None else read_signals(tracker_store_url):
        conversations += 1
        for s in conversation.sessions:
            for name, value in zip(s_cols, (s.timestamp, s.channel, s.language, s.user_turns, s.escalated, s.fallbacks, s.abandoned)):
                s_cols[name].append(value)
        for q in conversation.searches:
            tid = masked_cache.get(q.query)
            if tid is None:
                tid = masked_cache[q.query] = text_id(q.query)
            for name, value in zip(q_cols, (q.timestamp, q.channel, q.language, q.kind, q.outcome, q.rephrased,
                                            q.sdgs[0] if q.sdgs else UNTAGGED, bool(q.sdgs), q.country or "", q.region or "",
                                            PLACE_SEPARATOR.join(q.places), PLACE_SEPARATOR.join(q.excluded), tid)):
                q_cols[name].append(value)
        for f in conversation.faq:
            tid = masked_cache.get(f.question)
            if tid is None:
                tid = masked_cache[f.question] = text_id(f.question)
            for name, value in zip(f_cols, (f.timestamp, f.channel, f.outcome, f.confidence if f.confidence is not None else np.nan, tid, f.key or "")):
                f_cols[name].append(value)
    texts = list(text_ids)
    logger.info("%d conversations read in %.1fs", conversations, time.perf_counter() - started)

    # SDG of each need without an SDG filter, by distinct text.
    sdg = np.array(q_cols["sdg"], dtype=np.int16)
    filtered = np.array(q_cols["filter_sdg"], dtype=bool)
    text_col = np.array(q_cols["text"], dtype=np.int32)
    need_ids = np.unique(text_col[~filtered]) if len(text_col) else np.zeros(0, dtype=np.int32)
    need_texts = [texts[i] for i in need_ids if texts[i]]
    if need_texts:
        tags = tag_needs(need_texts, tagger, cache)
        by_id = np.zeros(len(texts), dtype=np.int16)
        for i in need_ids:
            tag = tags.get(texts[i])
            if tag and tag[1] >= SDG_MIN_SCORE:
                by_id[i] = tag[0]
        sdg = np.where(filtered, sdg, by_id[text_col]).astype(np.int16)

    # Themes of the problem needs: unmet, or rephrased / "none of these" after results.
    outcome = Categorical.of(q_cols["outcome"])
    rephrased = np.array(q_cols["rephrased"], dtype=bool)
    unmet = np.isin(outcome.codes, [outcome.code(o) for o in UNMET_OUTCOMES])
    problem = unmet | rephrased
    clusters = np.full(len(texts), OTHER_CLUSTER, dtype=np.int32)
    labels: list[str] = []
    if problem.any():
        counts = np.bincount(text_col[problem], minlength=len(texts))
        ids = [i for i in np.flatnonzero(counts) if texts[i]]
        theme_ids, labels = cluster_texts([texts[i] for i in ids], [int(counts[i]) for i in ids], embedder, cache)
        clusters[ids] = theme_ids
    if owned:
        cache.close()

    brokering = read_brokering(database_url) if database_url else {}
    dataset = Dataset(
        built_at=time.time(),
        conversations=conversations,
        sessions=Table({
            "ts": np.array(s_cols["ts"], dtype=np.float64), "channel": Categorical.of(s_cols["channel"]),
            "language": Categorical.of(s_cols["language"]), "turns": np.array(s_cols["turns"], dtype=np.int32),
            "escalated": np.array(s_cols["escalated"], dtype=bool), "fallbacks": np.array(s_cols["fallbacks"], dtype=np.int32),
            "abandoned": np.array(s_cols["abandoned"], dtype=bool),
        }),
        searches=Table({
            "ts": np.array(q_cols["ts"], dtype=np.float64), "channel": Categorical.of(q_cols["channel"]),
            "language": Categorical.of(q_cols["language"]), "kind": Categorical.of(q_cols["kind"]),
            "outcome": outcome, "rephrased": rephrased, "sdg": sdg, "filter_sdg": filtered,
            "country": Categorical.of(q_cols["country"]), "region": Categorical.of(q_cols["region"]),
            "places": Categorical.of(q_cols["places"]), "excluded": Categorical.of(q_cols["excluded"]), "text": text_col,
        }),
        faq=Table({
            "ts": np.array(f_cols["ts"], dtype=np.float64), "channel": Categorical.of(f_cols["channel"]),
            "outcome": Categorical.of(f_cols["outcome"]), "confidence": np.array(f_cols["confidence"], dtype=np.float64),
            "text": np.array(f_cols["text"], dtype=np.int32), "key": Categorical.of(f_cols["key"]),
        }),
        texts=texts,
        clusters=clusters,
        cluster_labels=labels,
        introductions=brokering.get("introductions", []),
        handoffs=brokering.get("handoffs", []),
        handoffs_asked=brokering.get("handoffs_asked", []),
        feedback=brokering.get("feedback", []),
        partner_names=partner_names(),
    )
    dataset.build_seconds = time.perf_counter() - started
    logger.info("analytics dataset built in %.1fs", dataset.build_seconds)
    return dataset
