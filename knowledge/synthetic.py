"""Clearly synthetic catalogues for benchmarks and the HNSW recall check: `python -m knowledge.synthetic N OUT.jsonl`.

Records are random but seeded: the same seed always gives the same stream, and a smaller
catalogue is a prefix of a larger one (so cached vectors serve every size). Ids start with `syn-`
and titles with "[synthetic]", so they can never be mistaken for Galaxy content. Vocabulary
comes from the SDG keywords and official targets in `data/sdgs.json`; countries come from
`data/divisions.json` with uneven weights, so filters on SDG, country and region select about
as many records as they would in a real catalogue (popular goals and countries, rare ones).
`synthetic_store(N, embedder)` builds a store of them once and caches it under `<state_dir>/bench/`.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from knowledge.catalogue import PARTNER_TYPES, Partner, Record, Solution, record_to_json
from knowledge.embedder import DIMENSION, TextEmbedder
from knowledge.geo import REGION_KEYS, geography, sdgs
from knowledge.settings import DATA_DIR, settings

SEED = 20240917
PARTNER_EVERY = 20  # one partner for about twenty solutions, as in the Galaxy
# Share of solutions per UNOSSC division (Africa and Asia-Pacific carry most South-South work).
REGION_WEIGHTS = {
    "africa": 0.32,
    "asia_pacific": 0.28,
    "latin_america_caribbean": 0.2,
    "arab_states": 0.12,
    "europe_cis": 0.08,
}
# How often each goal is tagged (hunger, health, education and partnerships are common; oceans rare).
SDG_WEIGHTS = {1: 6, 2: 9, 3: 8, 4: 7, 5: 6, 6: 5, 7: 5, 8: 6, 9: 5, 10: 4, 11: 4, 12: 3, 13: 6, 14: 2, 15: 3, 16: 3, 17: 8}
ACTIONS = (
    "Scaling up", "Strengthening", "Piloting", "Sharing experience in", "Building capacity for",
    "Community-led", "Digital tools for", "Peer learning on", "Triangular cooperation on",
    "Regional network for", "Low-cost approach to", "Training of trainers in", "Policy support for",
)
PEOPLE = (
    "smallholder farmers", "rural women", "young people", "local governments", "schools", "health workers",
    "cooperatives", "small businesses", "fishing communities", "urban households", "refugees and host communities",
    "persons with disabilities", "indigenous communities", "public agencies", "teachers", "informal workers",
)
METHODS = (
    "study visits", "technical assistance", "south-south exchanges", "an online platform", "field demonstrations",
    "a revolving fund", "mobile services", "a training curriculum", "community workshops", "a pilot in two districts",
    "policy dialogue", "a shared database", "volunteer experts", "seed grants", "public-private partnerships",
)
RESULTS = (
    "reached {n} people", "trained {n} practitioners", "was replicated in {k} more countries",
    "cut costs by {p} percent", "raised incomes by {p} percent", "covered {n} households",
)
PARTNER_NAMES = (
    "Agency for {topic}", "{topic} Fund", "Institute of {topic}", "Network on {topic}", "Centre of Excellence for {topic}",
    "Foundation for {topic}", "Alliance for {topic}", "Programme on {topic}",
)


def _countries_by_region() -> dict[str, list[str]]:
    divisions = json.loads((DATA_DIR / "divisions.json").read_text(encoding="utf-8"))["divisions"]
    return {key: sorted(divisions.get(key, [])) for key in REGION_KEYS}


class _Vocabulary:
    """Seeded choices over goals, countries and words; country weights follow a Zipf-like curve."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.goals = sdgs()
        self.by_region = _countries_by_region()
        self.country_weights: dict[str, list[float]] = {}
        for region, codes in self.by_region.items():
            shuffled = codes[:]
            rng.shuffle(shuffled)
            self.by_region[region] = shuffled
            self.country_weights[region] = [1.0 / (rank + 1) ** 0.8 for rank in range(len(shuffled))]

    def goals_for_record(self) -> tuple[int, ...]:
        count = self.rng.choices((1, 2, 3), weights=(5, 4, 2))[0]
        numbers = list(SDG_WEIGHTS)
        picked: list[int] = []
        while len(picked) < count:
            goal = self.rng.choices(numbers, weights=[SDG_WEIGHTS[n] for n in numbers])[0]
            if goal not in picked:
                picked.append(goal)
        return tuple(picked)

    def countries(self, count: int) -> tuple[str, ...]:
        region = self.rng.choices(list(REGION_WEIGHTS), weights=list(REGION_WEIGHTS.values()))[0]
        picked: list[str] = []
        while len(picked) < count:
            # Most multi-country work stays within a region; some crosses regions.
            where = region if self.rng.random() < 0.8 else self.rng.choice(list(REGION_WEIGHTS))
            code = self.rng.choices(self.by_region[where], weights=self.country_weights[where])[0]
            if code not in picked:
                picked.append(code)
        return tuple(picked)

    def keyword(self, goal: int) -> str:
        sdg = self.goals[goal]
        return self.rng.choice(sdg.keywords or sdg.aliases or (sdg.name.lower(),))

    def target(self, goal: int) -> str:
        sdg = self.goals[goal]
        if not sdg.targets:
            return sdg.title
        text = re.sub(r"^By \d{4},?\s*", "", self.rng.choice(sdg.targets)[1]).rstrip(".")
        return text[0].lower() + text[1:]


def _solution(number: int, vocabulary: _Vocabulary, partner_ids: Sequence[str], partner_names: dict[str, str]) -> Solution:
    rng = vocabulary.rng
    goals = vocabulary.goals_for_record()
    countries = vocabulary.countries(rng.choices((1, 2, 3, 4), weights=(6, 3, 1, 0.5))[0])
    geo = geography()
    place = geo.country_name(countries[0])
    topic = vocabulary.keyword(goals[0])
    second = vocabulary.keyword(goals[-1])
    people = rng.choice(PEOPLE)
    method = rng.choice(METHODS)
    result = rng.choice(RESULTS).format(n=rng.randrange(200, 50_000), k=rng.randrange(2, 6), p=rng.randrange(5, 60))
    provider = rng.choice(partner_ids) if partner_ids and rng.random() < 0.7 else None
    title = f"[synthetic] {rng.choice(ACTIONS)} {topic} for {people} in {place}"
    summary = f"A synthetic solution on {topic} and {second} with {people} in {', '.join(geo.country_name(c) for c in countries)}."
    description = (
        f"It works through {method} and {rng.choice(METHODS)}, and aims to {vocabulary.target(goals[0])}. "
        f"The pilot {result}."
    )
    return Solution(
        id=f"syn-s-{number:06d}",
        title=title,
        summary=summary,
        description=description,
        countries=countries,
        regions=tuple(geo.divisions(list(countries))),
        sdgs=goals,
        themes=(topic, second) if second != topic else (topic,),
        provider=provider,
        provider_name=partner_names.get(provider, "Synthetic Ministry of Planning") if provider else "Synthetic Ministry of Planning",
        other_partners=(),
        year=rng.randrange(2008, 2026),
        status=rng.choice(("active", "completed", "unknown")),
        source_url=f"https://example.org/synthetic/solution/{number:06d}",
    )


def _partner(number: int, vocabulary: _Vocabulary) -> Partner:
    rng = vocabulary.rng
    goals = vocabulary.goals_for_record()
    country = vocabulary.countries(1)[0] if rng.random() < 0.85 else None
    topic = vocabulary.keyword(goals[0])
    name = "[synthetic] " + rng.choice(PARTNER_NAMES).format(topic=topic.title())
    focus = tuple(dict.fromkeys(vocabulary.keyword(g) for g in goals))
    where = f" based in {geography().country_name(country)}" if country else ""
    return Partner(
        id=f"syn-p-{number:06d}",
        name=name,
        acronym=None,
        aliases=(),
        type=rng.choice(PARTNER_TYPES),
        country=country,
        regions=tuple(geography().divisions([country])) if country else (),
        sdgs=goals,
        focus_areas=focus,
        description=f"A synthetic partner{where} that supports {rng.choice(PEOPLE)} through {rng.choice(METHODS)}.",
        source_url=f"https://example.org/synthetic/partner/{number:06d}",
    )


def generate(count: int, *, seed: int = SEED) -> list[Record]:
    """The first `count` synthetic records (a smaller catalogue is a prefix of a larger one)."""
    return list(iter_records(count, seed=seed))


def iter_records(count: int, *, seed: int = SEED) -> Iterator[Record]:
    """One partner in every PARTNER_EVERY records, the rest solutions; a solution's provider is
    an earlier partner, so any prefix is a valid catalogue."""
    rng = random.Random(seed)
    vocabulary = _Vocabulary(rng)
    partner_ids: list[str] = []
    partner_names: dict[str, str] = {}
    solutions = 0
    for index in range(count):
        if index % PARTNER_EVERY == 0:
            partner = _partner(len(partner_ids) + 1, vocabulary)
            partner_ids.append(partner.id)
            partner_names[partner.id] = partner.name
            yield partner
        else:
            solutions += 1
            yield _solution(solutions, vocabulary, partner_ids, partner_names)


# -- cached stores for benchmarks and the recall check -------------------------------------------
class KnownVectors:
    """An embedder that answers from vectors computed earlier (text -> vector); a text it was not
    given (a window of a record too long for one chunk, a real record mixed in) goes to `fallback`."""

    dimension = DIMENSION

    def __init__(self, texts: Sequence[str], vectors: np.ndarray, fallback: TextEmbedder) -> None:
        self._rows = {text: row for row, text in enumerate(texts)}
        self._vectors = vectors
        self._fallback = fallback

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self._vectors.shape[1]), dtype=np.float32)
        unknown = [i for i, t in enumerate(texts) if t not in self._rows]
        known = [i for i, t in enumerate(texts) if t in self._rows]
        if known:
            out[known] = self._vectors[[self._rows[texts[i]] for i in known]]
        if unknown:
            out[unknown] = self._fallback.encode([texts[i] for i in unknown], batch_size=batch_size)
        return out


def synthetic_vectors(count: int, embedder: TextEmbedder, *, seed: int = SEED, cache_dir: Path | None = None,
                      chunk: int = 5_000, log=None) -> np.ndarray:
    """Embeddings of the first `count` synthetic records' texts, computed once and kept in
    `<state_dir>/bench/`. The file grows chunk by chunk (each write atomic), so an interrupted
    run resumes where it stopped and a larger count reuses every vector already computed."""
    cache_dir = Path(cache_dir or settings().state_dir / "bench")
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"synthetic-{seed}-vectors.npy"
    vectors = np.load(path) if path.exists() else np.zeros((0, DIMENSION), dtype=np.float32)
    if len(vectors) >= count:
        return vectors[:count]
    texts = [r.text() for r in iter_records(count, seed=seed)]
    started = time.perf_counter()
    done_before = len(vectors)
    while len(vectors) < count:
        batch = texts[len(vectors) : len(vectors) + chunk]
        vectors = np.vstack([vectors, embedder.encode(batch, batch_size=64)]).astype(np.float32)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            np.save(handle, vectors)
        os.replace(tmp, path)
        if log:
            rate = (len(vectors) - done_before) / (time.perf_counter() - started)
            log(f"embedded {len(vectors)}/{count} synthetic texts ({rate:.0f}/s)")
    return vectors[:count]


def synthetic_store(count: int, embedder: TextEmbedder, *, seed: int = SEED, root: Path | None = None, log=None):
    """A KnowledgeStore of the first `count` synthetic records under `<state_dir>/bench/`, built
    once (from cached vectors) and reused; queries go through `embedder`."""
    from knowledge.store import KnowledgeStore

    root = Path(root or settings().state_dir / "bench" / f"synthetic-{seed}-{count}")
    store = KnowledgeStore(root, embedder)
    if store.current_generation() is None:
        records = generate(count, seed=seed)
        vectors = synthetic_vectors(count, embedder, seed=seed, log=log)
        if log:
            log(f"building the {count}-record synthetic store in {root} (once)")
        KnowledgeStore(root, KnownVectors([r.text() for r in records], vectors, embedder)).ingest(records)
    return store


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of records (e.g. 1000, 10000, 100000)")
    parser.add_argument("out", help="JSONL file to write ('-' for standard output)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("count must be at least 1")
    out = sys.stdout if args.out == "-" else Path(args.out).open("w", encoding="utf-8")
    try:
        for record in iter_records(args.count, seed=args.seed):
            out.write(json.dumps({"kind": record.kind, **record_to_json(record)}, ensure_ascii=False) + "\n")
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return 0
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
