"""Hybrid retrieval over the catalogue: dense (MiniLM) and lexical (BM25) rankings fused by
reciprocal rank fusion, with filters, partner acronym/alias matching, SDG boosting and a short
`why` for every result.

Filters are applied on in-memory posting lists before scoring, so a filtered search scores only
the matching rows (Chroma's own `where` filter is 20-40x slower at 100k records).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import bm25s
import numpy as np

from knowledge.catalogue import Partner, Record, Solution, record_to_json
from knowledge.embedder import TextEmbedder
from knowledge.geo import REGION_KEYS, fold, geography, sdg_name
from knowledge.store import KnowledgeStore, Snapshot
from knowledge.text import tokens, words

RRF_K = 60
CANDIDATES = 100  # depth of each ranking that enters the fusion
ANN_THRESHOLD = 20_000  # above this many rows an unfiltered search uses Chroma's HNSW index
MAX_QUERY_CHARS = 2_000  # longer queries are cut: MiniLM reads 256 tokens anyway


class FilterError(ValueError):
    """A filter value that cannot match anything (SDG 18, an unknown country code)."""


@dataclass(frozen=True)
class Filters:
    sdg: int | None = None
    country: str | None = None
    region: str | None = None
    partner_type: str | None = None

    def validated(self) -> "Filters":
        if self.sdg is not None and not 1 <= int(self.sdg) <= 17:
            raise FilterError(f"SDG {self.sdg} does not exist; the goals are numbered 1 to 17")
        country = self.country
        if country is not None:
            code = geography().country_code(country)
            if code is None:
                raise FilterError(f"unknown country {country!r}; use an ISO 3166-1 alpha-3 code such as KEN")
            country = code
        region = self.region
        if region is not None:
            key = geography().region_key(region)
            if key is None:
                raise FilterError(f"unknown region {region!r}; use one of {', '.join(REGION_KEYS)}")
            region = key
        return Filters(int(self.sdg) if self.sdg is not None else None, country, region, self.partner_type)

    def any(self) -> bool:
        return any(v is not None for v in (self.sdg, self.country, self.region, self.partner_type))


@dataclass
class SearchResult:
    record: Record
    score: float
    why: str
    dense: float = 0.0
    lexical: float = 0.0
    matched_terms: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def kind(self) -> str:
        return self.record.kind

    def as_json(self) -> dict[str, Any]:
        record = self.record
        data: dict[str, Any] = {
            "id": record.id,
            "kind": record.kind,
            "title": record.title,
            "score": round(self.score, 6),
            "why": self.why,
            "sdgs": list(record.sdgs),
            "regions": list(record.regions),
            "source_url": record.source_url,
        }
        if isinstance(record, Solution):
            data.update(countries=list(record.countries), provider=record.provider, provider_name=record.provider_name, summary=record.summary)
        else:
            data.update(country=record.country, acronym=record.acronym, type=record.type, focus_areas=list(record.focus_areas))
        return data


class _Postings:
    """Row numbers per filter value, so a filter is a set intersection, not a scan."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.by_kind: dict[str, np.ndarray] = {}
        self._sdg: dict[int, list[int]] = defaultdict(list)
        self._country: dict[str, list[int]] = defaultdict(list)
        self._region: dict[str, list[int]] = defaultdict(list)
        self._type: dict[str, list[int]] = defaultdict(list)
        kinds: dict[str, list[int]] = defaultdict(list)
        for row, record in enumerate(records):
            kinds[record.kind].append(row)
            for sdg in record.sdgs:
                self._sdg[sdg].append(row)
            countries = record.countries if isinstance(record, Solution) else ([record.country] if record.country else [])
            for country in countries:
                self._country[country].append(row)
            for region in record.regions:
                self._region[region].append(row)
            if isinstance(record, Partner):
                self._type[record.type].append(row)
        self.by_kind = {k: np.asarray(v, dtype=np.int64) for k, v in kinds.items()}
        self.sdg = {k: np.asarray(v, dtype=np.int64) for k, v in self._sdg.items()}
        self.country = {k: np.asarray(v, dtype=np.int64) for k, v in self._country.items()}
        self.region = {k: np.asarray(v, dtype=np.int64) for k, v in self._region.items()}
        self.type = {k: np.asarray(v, dtype=np.int64) for k, v in self._type.items()}

    def rows(self, kind: str, filters: Filters) -> np.ndarray:
        rows = self.by_kind.get(kind, np.zeros(0, dtype=np.int64))
        empty = np.zeros(0, dtype=np.int64)
        for table, value in (
            (self.sdg, filters.sdg),
            (self.country, filters.country),
            (self.region, filters.region),
            (self.type, filters.partner_type),
        ):
            if value is not None:
                rows = np.intersect1d(rows, table.get(value, empty), assume_unique=True)
        return rows


class Retriever:
    """Searches one snapshot of the store. Build once per process; `reload()` after an import."""

    def __init__(self, store: KnowledgeStore, embedder: TextEmbedder, tagger: Any | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.tagger = tagger
        self.reload()

    def reload(self) -> None:
        self._install(self.store.snapshot())

    def _install(self, snapshot: Snapshot) -> None:
        self.records = snapshot.records
        self.embeddings = snapshot.embeddings
        self.row_of = {r.id: i for i, r in enumerate(self.records)}
        self.postings = _Postings(self.records)
        self._bm25: dict[str, tuple[bm25s.BM25, np.ndarray]] = {}
        for kind, rows in self.postings.by_kind.items():
            index = bm25s.BM25()
            index.index([tokens(self.records[i].text()) or ["_"] for i in rows], show_progress=False)
            self._bm25[kind] = (index, rows)
        self._aliases = _alias_table(self.records)
        self._record_words = {}  # row -> set of stems, filled lazily for `why`

    def __len__(self) -> int:
        return len(self.records)

    def get(self, record_id: str) -> Record | None:
        row = self.row_of.get(record_id)
        return self.records[row] if row is not None else None

    def warm(self) -> None:
        self.search("warm up water", kind="solution", top_k=1)
        self.search("warm up agency", kind="partner", top_k=1)

    # -- the search ------------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        kind: str = "solution",
        top_k: int = 5,
        filters: Filters | None = None,
        offset: int = 0,
        mode: str = "hybrid",
    ) -> list[SearchResult]:
        if kind not in ("solution", "partner"):
            raise ValueError(f"kind must be 'solution' or 'partner', got {kind!r}")
        filters = (filters or Filters()).validated()
        query = " ".join(query.split())[:MAX_QUERY_CHARS]
        rows = self.postings.rows(kind, filters)
        if not query or rows.size == 0 or top_k <= 0:
            return []
        depth = max(CANDIDATES, offset + top_k)
        fused: dict[int, float] = defaultdict(float)
        dense_scores: dict[int, float] = {}
        lexical_scores: dict[int, float] = {}
        query_vector = None
        if mode in ("hybrid", "dense"):
            query_vector = self.embedder.encode([query])[0]
            for rank, (row, score) in enumerate(self._dense(kind, query_vector, rows, filters, depth)):
                dense_scores[row] = score
                fused[row] += 1.0 / (RRF_K + rank + 1)
        if mode in ("hybrid", "bm25"):
            for rank, (row, score) in enumerate(self._lexical(kind, query, rows, depth)):
                lexical_scores[row] = score
                fused[row] += 1.0 / (RRF_K + rank + 1)
        if mode == "hybrid":
            self._boost(query, kind, fused, rows)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[offset : offset + top_k]
        query_stems = set(tokens(query))
        query_sdgs = self._query_sdgs(query, filters)
        query_countries = self._query_countries(query, filters)
        return [
            SearchResult(
                record=self.records[row],
                score=score,
                dense=dense_scores.get(row, 0.0),
                lexical=lexical_scores.get(row, 0.0),
                **self._explain(row, query_stems, query_sdgs, query_countries, filters),
            )
            for row, score in ranked
        ]

    def _dense(self, kind: str, vector: np.ndarray, rows: np.ndarray, filters: Filters, depth: int) -> list[tuple[int, float]]:
        if not filters.any() and rows.size > ANN_THRESHOLD:
            hits = self.store.query_ann(kind, vector, depth)
            return [(self.row_of[i], s) for i, s in hits if i in self.row_of]
        scores = self.embeddings[rows] @ vector
        take = min(depth, rows.size)
        top = np.argpartition(-scores, take - 1)[:take] if take < rows.size else np.arange(rows.size)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(rows[i]), float(scores[i])) for i in top]

    def _lexical(self, kind: str, query: str, rows: np.ndarray, depth: int) -> list[tuple[int, float]]:
        query_tokens = tokens(query)
        if not query_tokens or kind not in self._bm25:
            return []
        index, kind_rows = self._bm25[kind]
        vocab = index.vocab_dict if hasattr(index, "vocab_dict") else None
        if vocab is not None:
            query_tokens = [t for t in query_tokens if t in vocab]
            if not query_tokens:
                return []
        scores = index.get_scores(query_tokens)
        if rows.size != kind_rows.size:  # filtered: keep only allowed rows
            allowed = np.isin(kind_rows, rows, assume_unique=True)
            scores = np.where(allowed, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if positive.size == 0:
            return []
        order = positive[np.argsort(-scores[positive], kind="stable")][:depth]
        return [(int(kind_rows[i]), float(scores[i])) for i in order]

    def _boost(self, query: str, kind: str, fused: dict[int, float], rows: np.ndarray) -> None:
        """Named partners go first; records on the query's likely SDG get a nudge."""
        allowed = set(rows.tolist()) if rows.size < len(self.records) else None
        for row in self._named_partners(query, kind):
            if allowed is None or row in allowed:
                fused[row] += 1.0  # more than any fused rank can give
        if self.tagger is not None:
            ranked = self.tagger.tag(query, top_k=2)
            if ranked and ranked[0][1] >= 0.5:
                goal = ranked[0][0]
                for row in list(fused):
                    if goal in self.records[row].sdgs:
                        fused[row] += 0.5 / (RRF_K + 1) * ranked[0][1]

    def _named_partners(self, query: str, kind: str) -> list[int]:
        if kind == "solution":
            return []
        found: list[int] = []
        raw_words = re.findall(r"[\w\-]+", query)
        folded_query = f" {' '.join(fold(w) for w in raw_words)} "
        for alias, (case_sensitive, partner_rows) in self._aliases.items():
            if case_sensitive:
                if alias in raw_words:
                    found.extend(partner_rows)
            elif f" {alias} " in folded_query:
                found.extend(partner_rows)
        return [row for row in dict.fromkeys(found) if self.row_of.get(self.records[row].id) == row]

    def _query_sdgs(self, query: str, filters: Filters) -> set[int]:
        goals = {filters.sdg} if filters.sdg else set()
        for match in re.finditer(r"\b(?:sdg|goal)\s*#?\s*(\d{1,2})\b", query, re.IGNORECASE):
            if 1 <= int(match.group(1)) <= 17:
                goals.add(int(match.group(1)))
        if self.tagger is not None:
            goals.update(g for g, s in self.tagger.tag(query, top_k=2) if s >= 0.5)
        return goals

    def _query_countries(self, query: str, filters: Filters) -> set[str]:
        found = {filters.country} if filters.country else set()
        geo = geography()
        raw = re.findall(r"[^\W\d_][\w'\-]*", query)
        for size in (3, 2, 1):
            for start in range(len(raw) - size + 1):
                code = geo.country_code(" ".join(raw[start : start + size])) if size > 1 or len(raw[start]) > 3 else None
                if code:
                    found.add(code)
        return found

    def _explain(self, row: int, query_stems: set[str], query_sdgs: set[int], query_countries: set[str], filters: Filters) -> dict[str, Any]:
        record = self.records[row]
        if row not in self._record_words:
            pairs: dict[str, str] = {}
            for word in words(record.text()):
                stem = tokens(word)
                if stem:
                    pairs.setdefault(stem[0], word)
            self._record_words[row] = pairs
        stems = self._record_words[row]
        matched = [stems[s] for s in query_stems if s in stems][:5]
        parts: list[str] = []
        shared = [g for g in record.sdgs if g in query_sdgs]
        if shared:
            parts.append(", ".join(f"SDG {g} ({sdg_name(g)})" for g in shared))
        countries = record.countries if isinstance(record, Solution) else ([record.country] if record.country else [])
        in_countries = [geography().country_name(c) for c in countries if c in query_countries]
        if in_countries:
            parts.append("in " + ", ".join(in_countries))
        if filters.region and filters.region in record.regions:
            from knowledge.geo import REGION_LABELS

            parts.append(f"in {REGION_LABELS[filters.region]}")
        if matched:
            parts.append("matches " + ", ".join(f"'{m}'" for m in sorted(matched)))
        if not parts:
            parts.append("close in meaning to your request")
        return {"why": "; ".join(parts), "matched_terms": matched}


def _alias_table(records: Iterable[Record]) -> dict[str, tuple[bool, list[int]]]:
    """alias -> (case-sensitive?, rows). Short upper-case acronyms (ABC, APC) match only as typed."""
    table: dict[str, tuple[bool, list[int]]] = {}
    for row, record in enumerate(records):
        if not isinstance(record, Partner):
            continue
        names = [record.name, *(record.aliases or ())]
        if record.acronym:
            names.append(record.acronym)
        for name in names:
            name = name.strip()
            if not name:
                continue
            acronym_like = len(name) <= 5 and name.replace("-", "").isalpha() and name.upper() == name
            key = name if acronym_like else " ".join(fold(w) for w in re.findall(r"[\w\-]+", name))
            if not key:
                continue
            entry = table.setdefault(key, (acronym_like, []))
            entry[1].append(row)
            if acronym_like:  # "TIKA" typed as "Tika" or "tika" is still TIKA when it is long enough
                if len(name) >= 4:
                    table.setdefault(fold(name), (False, []))[1].append(row)
    return table


def results_json(results: Sequence[SearchResult]) -> list[dict[str, Any]]:
    return [r.as_json() for r in results]


__all__ = ["Filters", "FilterError", "Retriever", "SearchResult", "record_to_json", "results_json"]
