"""`python -m analytics …`: the staff analytics from the command line.

  report [--out FILE] [--from D] [--to D] [--channel C] [--json] [--no-tagger]   the self-contained HTML report
  feedback list [--status open|resolved] [--rating up|down] [--all] [--json]      the review queue
  feedback show ID                                                              one item (with its conversation id)
  feedback resolve ID --label L [--expected REF] [--note TEXT]                  staff's verdict
  feedback export [--out FILE]                                                  resolved items as labelled JSONL
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from knowledge.settings import settings


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def results_dir() -> Path:
    """Where `make report` (like `make eval`) writes: <state dir>/results/analytics."""
    return settings().state_dir / "results" / "analytics"


def _store():
    from introductions.db import upgrade
    from introductions.feedback import FeedbackStore

    upgrade(settings().database_url)
    return FeedbackStore(settings().database_url, settings())


def cmd_report(args: argparse.Namespace) -> int:
    from analytics.report import View, parse_day, render_report, summary_numbers
    from analytics.web import dataset_builder

    config = settings()
    started = time.perf_counter()
    dataset = dataset_builder(config, tagger=not args.no_tagger)()
    view = View(parse_day(args.date_from), parse_day(args.date_to, end=True), args.channel or None)
    if args.json:
        _print_json(summary_numbers(dataset, view))
        return 0
    out = Path(args.out) if args.out else results_dir() / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(dataset, view), encoding="utf-8")
    print(f"report of {dataset.conversations:,} conversations written to {out} in {time.perf_counter() - started:.1f}s")
    return 0


def _line(item) -> str:
    reason = f" — {item.reason}" if item.reason else ""
    verified = "" if item.verified else " [unverified]"
    return (f"{item.id:>6}  {item.created_at:%Y-%m-%d}  {item.rating:<4}  {item.status:<8}  "
            f"{item.channel:<9}  {item.answer_ref}{reason}{verified}")


def cmd_feedback_list(args: argparse.Namespace) -> int:
    store = _store()
    try:
        items = store.find(status=args.status, rating=args.rating, verified=None if args.all else True, limit=args.limit)
    finally:
        store.close()
    if args.json:
        for item in items:
            _print_json(item.as_json())
    elif not items:
        print("no feedback")
    else:
        for item in items:
            print(_line(item))
    return 0


def cmd_feedback_show(args: argparse.Namespace) -> int:
    store = _store()
    try:
        item = store.get(args.id)
    finally:
        store.close()
    if item is None:
        print(f"error: no feedback {args.id}", file=sys.stderr)
        return 1
    data = item.as_json(conversation=True)
    if args.json:
        _print_json(data)
    else:
        for key, value in data.items():
            print(f"{key:>16}: {'' if value is None else value}")
    return 0


def cmd_feedback_resolve(args: argparse.Namespace) -> int:
    store = _store()
    try:
        item = store.resolve(args.id, args.label, expected=args.expected, note=args.note)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if item is None:
        print(f"error: no feedback {args.id}", file=sys.stderr)
        return 1
    print(f"feedback {item.id} resolved: {item.label}")
    return 0


def labelled_example(item) -> dict[str, Any]:
    """A resolved item as an evaluation example: the query or FAQ key, what was rated, staff's label and the
    answer that should have been given (knowledge/eval/queries.jsonl uses `query`, `kind`, `expected`)."""
    example: dict[str, Any] = {
        "answer_kind": item.answer_kind,
        "rating": item.rating,
        "label": item.label,
        "reason": item.reason,
        "note": item.note,
        "source": "feedback",
        "feedback_id": item.id,
    }
    if item.answer_kind == "search":
        example["query"] = item.answer_value
        example["expected"] = [e.strip() for e in (item.expected or "").split(",") if e.strip()]
    elif item.answer_kind == "faq":
        example["faq_key"] = item.answer_value
        example["expected_faq"] = item.expected
    else:
        example["answer_ref"] = item.answer_ref
    return example


def cmd_feedback_export(args: argparse.Namespace) -> int:
    store = _store()
    try:
        items = store.find(status="resolved", verified=True)
    finally:
        store.close()
    lines = [json.dumps(labelled_example(i), ensure_ascii=False) for i in reversed(items)]
    if args.out:
        Path(args.out).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        print(f"{len(lines)} labelled example(s) written to {args.out}")
    else:
        for line in lines:
            print(line)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m analytics", description="Galaxy Assistant staff analytics")
    commands = top.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write the self-contained HTML report (make report)")
    report.add_argument("--out", help="default: <state dir>/results/analytics/report.html")
    report.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD")
    report.add_argument("--channel", help="socketio (web widget), telegram or rest")
    report.add_argument("--json", action="store_true", help="print every table as JSON instead")
    report.add_argument("--no-tagger", action="store_true", help="no SDG tagger or encoder (faster; needs stay untagged)")
    report.set_defaults(run=cmd_report)

    feedback = commands.add_parser("feedback", help="answer feedback: the review queue").add_subparsers(dest="action", required=True)
    listing = feedback.add_parser("list", help="list feedback, newest first")
    listing.add_argument("--status", choices=("open", "resolved"))
    listing.add_argument("--rating", choices=("up", "down"))
    listing.add_argument("--all", action="store_true", help="also ratings of answers the conversation was never shown")
    listing.add_argument("--limit", type=int)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_feedback_list)
    show = feedback.add_parser("show", help="one feedback item")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_feedback_show)
    resolve = feedback.add_parser("resolve", help="mark an item reviewed, with a label")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--label", required=True, help="e.g. correct, wrong_result, missing_content, wrong_faq")
    resolve.add_argument("--expected", help="what should have been answered: record ids (comma-separated) or an FAQ key")
    resolve.add_argument("--note")
    resolve.set_defaults(run=cmd_feedback_resolve)
    export = feedback.add_parser("export", help="resolved items as labelled JSONL examples")
    export.add_argument("--out")
    export.set_defaults(run=cmd_feedback_export)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)
