"""`python -m knowledge` — import catalogues, search them and tag SDGs, for people and scripts.

JSON output is a contract used by other parts and by acceptance checks: keep field names stable.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from knowledge.catalogue import CatalogueError, load_catalogue
from knowledge.settings import settings


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def _fail(message: str, *, as_json: bool, code: int = 2) -> int:
    if as_json:
        _print_json({"error": message})
    print(f"error: {message}", file=sys.stderr)
    return code


def _embedder():
    from knowledge.embedder import MiniLmEmbedder

    return MiniLmEmbedder(settings().embed_backend)


def _multilingual():
    """The encoder whose vectors imports write beside MiniLM's (None when switched off)."""
    if not settings().multilingual_search:
        return None
    from knowledge.multilingual import shared_encoder

    return shared_encoder()


def cmd_ingest(args: argparse.Namespace) -> int:
    from knowledge.store import KnowledgeStore

    try:
        records = load_catalogue(args.paths)
    except CatalogueError as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"nothing was written: {len(exc.errors)} problem(s) found", file=sys.stderr)
        if args.json:
            _print_json({"error": "validation failed", "problems": [str(e) for e in exc.errors]})
        return 2
    embedder = _embedder()
    tagged = 0
    if any(not r.sdgs for r in records):
        from knowledge.sdg import SdgTagger, tag_missing_sdgs

        records, tagged = tag_missing_sdgs(records, SdgTagger(embedder))
    store = KnowledgeStore(Path(args.store or settings().store_dir), embedder, _multilingual())
    # A full import of exactly GALAXY_CATALOGUE is a seed build (`store ensure` may redo it);
    # anything else is an operator's import, which `store ensure` never replaces.
    fingerprint = catalogue_fingerprint(args.paths)
    seed = args.sync and fingerprint["paths"] == catalogue_fingerprint(settings().catalogue_paths)["paths"]
    origin = {"by": "seed" if seed else "ingest", **fingerprint}
    report = store.ingest(records, sync=args.sync, progress=sys.stderr.isatty() or args.progress, origin=origin)
    # The new generation's first reader writes its snapshot cache and search index: done here, the
    # action servers on this machine load the import in a fraction of a second (100k: 0.06 s, not 20 s).
    from knowledge.search import Retriever

    Retriever(store, embedder, multilingual=None)
    if args.json:
        _print_json({**report.as_json(), "sdgs_inferred": tagged})
    else:
        print(
            f"{len(records)} records read: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.removed} removed ({report.seconds}s) -> {report.generation}"
            + (f"; SDGs inferred for {tagged} record(s) that had none" if tagged else "")
        )
    return 0


def catalogue_fingerprint(paths: Sequence[str]) -> dict[str, Any]:
    """The catalogue files (absolute paths) and one hash of their contents."""
    import hashlib

    digest = hashlib.sha256()
    resolved = sorted(str(Path(p).resolve()) for p in paths)  # the same files in any order are the same catalogue
    for path in resolved:
        digest.update(path.encode("utf-8") + b"\0")
        digest.update(Path(path).read_bytes() if Path(path).is_file() else b"<missing>")
    return {"paths": resolved, "hash": digest.hexdigest()[:16]}


def cmd_store_status(args: argparse.Namespace) -> int:
    from knowledge.store import KnowledgeStore

    store = KnowledgeStore(Path(args.store or settings().store_dir), _NoEmbedder())
    rows = store.generations()
    if args.json:
        _print_json({"store": str(store.root), "generations": rows})
    elif not rows:
        print(f"no generations in {store.root}")
    else:
        for row in rows:
            origin = row["origin"]
            source = origin.get("by", "unknown") + (f" of {', '.join(Path(p).name for p in origin['paths'])}" if origin.get("paths") else "")
            print(f"{row['state']:<9} {row['generation']}  {row['records'] if row['records'] is not None else '?'} records, format {row['format']}, {source}")
    return 0


def cmd_store_rollback(args: argparse.Namespace) -> int:
    from knowledge.store import KnowledgeStore, StoreError

    store = KnowledgeStore(Path(args.store or settings().store_dir), _NoEmbedder())
    try:
        generation = store.rollback()
    except StoreError as exc:
        return _fail(str(exc), as_json=args.json)
    if args.json:
        _print_json({"serving": generation.name})
    else:
        print(f"serving {generation.name} again (restart the action server, or reload its retriever, to use it)")
    return 0


def cmd_store_ensure(args: argparse.Namespace) -> int:
    """Builds the store from GALAXY_CATALOGUE only when there is none, or when the last seed build
    was of other files or other contents. An operator's import is never replaced."""
    from knowledge.multilingual import has_index
    from knowledge.store import KnowledgeStore, generation_origin

    paths = [str(p) for p in settings().catalogue_paths]
    wanted = catalogue_fingerprint(paths)
    store = KnowledgeStore(Path(args.store or settings().store_dir), _NoEmbedder())
    current = store.current_generation()
    reason = None
    if current is None:
        reason = "no store yet"
    else:
        origin = generation_origin(current)
        if origin.get("by") == "unknown" and (store.root / ".built").exists():
            origin = {"by": "seed"}  # built by `make store` before generations said their origin
        if origin.get("by") != "seed":
            print(f"store {store.root} serves an import ({origin.get('by', 'unknown')}): left as it is")
            return 0
        if (origin.get("paths"), origin.get("hash")) != (wanted["paths"], wanted["hash"]):
            reason = "GALAXY_CATALOGUE changed since the last seed build"
        elif settings().multilingual_search and not has_index(current):
            reason = "the serving generation has no multilingual index"
    if reason is None:
        print(f"store {store.root} is up to date with {', '.join(Path(p).name for p in paths)}")
        return 0
    print(f"building the store from {', '.join(paths)}: {reason}")
    ingest = argparse.Namespace(paths=paths, store=str(store.root), sync=True, progress=False, json=False)
    return cmd_ingest(ingest)


class _NoEmbedder:
    """Store housekeeping never embeds; the model is not loaded for it."""

    dimension = 384

    def encode(self, texts, *, batch_size: int = 64, progress: bool = False):
        raise RuntimeError("store housekeeping does not embed")


def _filters(args: argparse.Namespace):
    from knowledge.search import Filters

    return Filters(sdg=args.sdg, country=args.country, region=args.region, partner_type=args.type).validated()


def cmd_search(args: argparse.Namespace) -> int:
    from knowledge.search import FilterError, Retriever
    from knowledge.sdg import SdgTagger
    from knowledge.store import KnowledgeStore

    try:
        filters = _filters(args)
    except FilterError as exc:
        return _fail(str(exc), as_json=args.json)
    if args.top_k < 1 or args.top_k > 100:
        return _fail("--top-k must be between 1 and 100", as_json=args.json)
    embedder = _embedder()
    store = KnowledgeStore(Path(args.store or settings().store_dir), embedder)
    if store.current_generation() is None:
        return _fail(f"no knowledge store at {store.root}; run `python -m knowledge ingest` first", as_json=args.json)
    retriever = Retriever(store, embedder, tagger=None if args.mode != "hybrid" else SdgTagger(embedder))

    def run(query: str) -> list[dict]:
        results = retriever.search(query, kind=args.kind, top_k=args.top_k, filters=filters, mode=args.mode)
        return [r.as_json() for r in results]

    if args.query == "-":
        for line in sys.stdin:
            query = line.rstrip("\n")
            _print_json({"query": query, "results": run(query)})
            sys.stdout.flush()
        return 0
    results = run(args.query)
    if args.json:
        for result in results:
            _print_json(result)
    elif not results:
        print("no results" if args.query.strip() else "empty query: type what you are looking for")
    else:
        for rank, result in enumerate(results, start=1):
            print(f"{rank}. [{result['id']}] {result['title']}  (score {result['score']:.4f})\n   why: {result['why']}")
    return 0


def cmd_sdg(args: argparse.Namespace) -> int:
    from knowledge.sdg import SdgTagger

    tagger = SdgTagger(_embedder())

    def ranked(text: str) -> list[dict]:
        return [{"sdg": goal, "score": round(score, 6)} for goal, score in tagger.tag(text, top_k=args.top_k)]

    if args.text == "-":
        lines = [line.rstrip("\n") for line in sys.stdin]
        for text, tags in zip(lines, tagger.tag_many(lines, top_k=args.top_k)):
            _print_json({"text": text, "sdgs": [{"sdg": g, "score": round(s, 6)} for g, s in tags]})
        return 0
    tags = ranked(args.text)
    if args.json:
        _print_json(tags)
    else:
        from knowledge.geo import sdg_name

        for tag in tags:
            print(f"SDG {tag['sdg']:>2} {sdg_name(tag['sdg'])}: {tag['score']:.3f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="validate and import JSONL/CSV catalogue files into the store")
    ingest.add_argument("paths", nargs="+", help="catalogue files (.jsonl or .csv)")
    ingest.add_argument("--store", help="store directory (default: GALAXY_STORE_DIR)")
    ingest.add_argument("--sync", action="store_true", help="also remove records that are not in the given files")
    ingest.add_argument("--progress", action="store_true", help="show an embedding progress bar")
    ingest.add_argument("--json", action="store_true", help="print the import report as JSON")
    ingest.set_defaults(run=cmd_ingest)

    search = sub.add_parser("search", help="search solutions or partners (QUERY '-' reads one query per line)")
    search.add_argument("query")
    search.add_argument("--kind", choices=("solution", "partner"), default="solution")
    search.add_argument("--top-k", type=int, default=5)
    search.add_argument("--store")
    search.add_argument("--sdg", type=int)
    search.add_argument("--country", help="ISO 3166-1 alpha-3 code (names are accepted too)")
    search.add_argument("--region", help="africa | arab_states | asia_pacific | europe_cis | latin_america_caribbean")
    search.add_argument("--type", help="partner type, e.g. government_agency, un_entity, fund")
    search.add_argument("--mode", choices=("hybrid", "dense", "bm25", "multilingual"), default="hybrid")
    search.add_argument("--json", action="store_true", help="one JSON object per result")
    search.set_defaults(run=cmd_search)

    sdg = sub.add_parser("sdg", help="rank the SDGs of a text (TEXT '-' reads one text per line)")
    sdg.add_argument("text")
    sdg.add_argument("--top-k", type=int, default=3)
    sdg.add_argument("--json", action="store_true")
    sdg.set_defaults(run=cmd_sdg)

    store = sub.add_parser("store", help="store generations: status, rollback, ensure")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    for name, run, text in (
        ("status", cmd_store_status, "list the generations on disk (serving, previous) with their origin"),
        ("rollback", cmd_store_rollback, "serve the previous generation again"),
        ("ensure", cmd_store_ensure, "build from GALAXY_CATALOGUE only if there is no store or the seed changed"),
    ):
        command = store_sub.add_parser(name, help=text)
        command.add_argument("--store", help="store directory (default: GALAXY_STORE_DIR)")
        command.add_argument("--json", action="store_true")
        command.set_defaults(run=run)

    from introductions.cli import add_introductions_parser

    add_introductions_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
