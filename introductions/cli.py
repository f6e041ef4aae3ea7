"""`python -m introductions …` (alias: `python -m knowledge introductions …`): staff tools for introduction requests (list, show, export,
purge), hand-offs to staff (handoffs list, show, close), partners' Telegram links, and the delivery worker. `show` and `export` print personal data: they are
for UN staff."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from introductions.conversations import purge_stored_conversations
from knowledge.settings import settings

if TYPE_CHECKING:
    from introductions.service import IntroductionService

STATUSES = ("pending", "delivered", "accepted", "declined", "expired")
EXPORT_COLUMNS = (
    "reference",
    "status",
    "created_at",
    "updated_at",
    "channel",
    "conversation_id",
    "target_kind",
    "target_id",
    "partner_id",
    "requester_name",
    "requester_organisation",
    "requester_role",
    "requester_email",
    "message",
    "consent_at",
    "expires_at",
    "decided_at",
    "personal_data_purged_at",
)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def _url(args: argparse.Namespace) -> str:
    return args.database_url or settings().database_url


def _service(args: argparse.Namespace) -> IntroductionService:
    from introductions.db import upgrade
    from introductions.service import IntroductionService

    upgrade(_url(args))
    # Staff commands never create requests, so they need no catalogue.
    return IntroductionService(_url(args), settings(), lambda _partner_id: None)


def cmd_migrate(args: argparse.Namespace) -> int:
    from introductions.db import upgrade

    upgrade(_url(args))
    print("introductions store is up to date")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        introductions = service.find(status=args.status, limit=args.limit)
    finally:
        service.close()
    if args.json:
        for introduction in introductions:
            _print_json(introduction.as_json())
    elif not introductions:
        print("no introduction requests" + (f" with status {args.status}" if args.status else ""))
    else:
        for i in introductions:
            target = f"{i.target_kind} {i.target_id} -> {i.partner_id}"
            print(f"{i.reference}  {i.created_at:%Y-%m-%d %H:%M}  {i.status:<9}  {target}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        introduction = service.get(args.reference)
        messages = service.outbox_of(introduction) if introduction else []
    finally:
        service.close()
    if introduction is None:
        if args.json:
            _print_json({"error": f"no introduction {args.reference}"})
        print(f"error: no introduction {args.reference}", file=sys.stderr)
        return 1
    outbox = [
        {
            "id": m.id,
            "kind": m.kind,
            "channel": m.channel,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "next_attempt_at": m.next_attempt_at.isoformat(),
            "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None,
        }
        for m in messages
    ]
    data = {**introduction.as_json(personal_data=True), "outbox": outbox}
    if args.json:
        _print_json(data)
        return 0
    _print_fields(data)
    for m in outbox:
        state = f"delivered {m['delivered_at']}" if m["delivered_at"] else f"due {m['next_attempt_at']}"
        error = f", last error {m['last_error']}" if m["last_error"] else ""
        print(f"{m['channel']:>24}: #{m['id']} {m['kind']}: {state}, {m['attempts']} failed attempt(s){error}")
    return 0


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting like a formula (=, +, -, @) gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write_csv(handle: TextIO, introductions: list) -> None:
    writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for introduction in introductions:
        writer.writerow({k: csv_safe(v) for k, v in introduction.as_json(personal_data=True).items()})


def cmd_export(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        introductions = list(reversed(service.find(status=args.status)))  # oldest first
    finally:
        service.close()
    if args.csv == "-":
        _write_csv(sys.stdout, introductions)
    else:
        # Personal data: readable by its owner only.
        fd = os.open(args.csv, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            _write_csv(handle, introductions)
        print(f"{len(introductions)} introduction request(s) written to {args.csv}", file=sys.stderr)
    return 0


def _print_fields(data: dict[str, Any]) -> None:
    """A record's fields, one per line, for `show` (its outbox is printed after, by the caller)."""
    for key, value in data.items():
        if key != "outbox":
            print(f"{key:>24}: {'' if value is None else value}")


def cmd_purge(args: argparse.Namespace) -> int:
    if args.older_than_days is not None and args.older_than_days < 0:
        print("error: --older-than-days must be 0 or more", file=sys.stderr)
        return 2
    service = _service(args)
    try:
        expired = service.expire_overdue()
        purged = service.purge_personal_data(args.older_than_days)
        purged_handoffs = service.handoffs.purge_personal_data(args.older_than_days)
        service.feedback.purge(args.older_than_days)
    finally:
        service.close()
    days = settings().retention_days if args.older_than_days is None else args.older_than_days
    conversations = purge_stored_conversations(settings().tracker_store_url, days)
    if args.json:
        _print_json(
            {
                "expired": expired,
                "purged": purged,
                "purged_handoffs": purged_handoffs,
                "older_than_days": days,
                "conversations_deleted": conversations,
            }
        )
    else:
        print(
            f"{expired} request(s) expired; personal data purged from {purged} request(s) and "
            f"{purged_handoffs} hand-off(s) closed {days}+ day(s) ago"
        )
        print(f"{conversations} conversation(s) with no message for {days}+ day(s) deleted")
    return 0


def _worker(args: argparse.Namespace):
    from introductions.mailer import mailer_for
    from introductions.outbox import OutboxWorker
    from introductions.telegram import TelegramNotifier

    # Telegram rows wait in the outbox until a worker with TELEGRAM_BOT_TOKEN sends them.
    return OutboxWorker(_url(args), mailer_for(settings()), telegram=TelegramNotifier.from_settings(settings()))


def cmd_deliver(args: argparse.Namespace) -> int:
    service = _service(args)
    worker = _worker(args)
    try:
        service.expire_overdue()
        delivered = worker.deliver_due()
    finally:
        worker.close()
        service.close()
    print(f"{delivered} email(s) delivered")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    logging.getLogger("introductions").setLevel(settings().log_level)
    service = _service(args)
    worker = _worker(args)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def housekeeping() -> None:
        service.expire_overdue()
        service.purge_personal_data()
        purge_stored_conversations(settings().tracker_store_url, settings().retention_days)
        service.handoffs.purge_personal_data()
        service.feedback.purge()

    try:
        worker.run_forever(stop, housekeeping=housekeeping)
    finally:
        worker.close()
        service.close()
    return 0


def cmd_handoffs_list(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        handoffs = service.handoffs.find(status=args.status, limit=args.limit)
    finally:
        service.close()
    if args.json:
        for handoff in handoffs:
            _print_json(handoff.as_json())
    elif not handoffs:
        print("no hand-offs" + (f" with status {args.status}" if args.status else ""))
    else:
        for h in handoffs:
            print(f"{h.reference}  {h.created_at:%Y-%m-%d %H:%M}  {h.status:<6}  {h.channel}")
    return 0


def cmd_handoffs_show(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        handoff = service.handoffs.get(args.reference)
        messages = service.handoffs.outbox_of(handoff) if handoff else []
    finally:
        service.close()
    if handoff is None:
        print(f"error: no hand-off {args.reference}", file=sys.stderr)
        return 1
    outbox = [
        {"id": m.id, "kind": m.kind, "recipient": m.recipient_email, "attempts": m.attempts,
         "delivered_at": m.delivered_at.isoformat() if m.delivered_at else None}
        for m in messages
    ]
    data = {**handoff.as_json(personal_data=True), "outbox": outbox}
    if args.json:
        _print_json(data)
        return 0
    _print_fields(data)
    for m in outbox:
        state = f"delivered {m['delivered_at']}" if m["delivered_at"] else "not delivered yet"
        print(f"{'email':>24}: #{m['id']} to {m['recipient']}: {state}, {m['attempts']} failed attempt(s)")
    return 0


def cmd_handoffs_close(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        result = service.handoffs.close_handoff(args.reference)
    finally:
        service.close()
    if result is None:
        print(f"error: no hand-off {args.reference}", file=sys.stderr)
        return 1
    handoff, closed = result
    print(f"{handoff.reference}: " + ("closed" if closed else "was already closed"))
    return 0


def _catalogue_service(args: argparse.Namespace) -> IntroductionService:
    """A service that knows the catalogue's partners, to refuse links for a partner id that does not exist."""
    from knowledge.catalogue import Partner, load_catalogue
    from introductions.db import upgrade
    from introductions.service import IntroductionService

    partners = {r.id: r for r in load_catalogue(settings().catalogue_paths) if isinstance(r, Partner)}
    upgrade(_url(args))
    return IntroductionService(_url(args), settings(), partners.get)


def cmd_telegram_link(args: argparse.Namespace) -> int:
    from introductions.service import InvalidRequest

    service = _catalogue_service(args)
    try:
        issued = service.issue_telegram_link_code(args.partner_id)
        name = service.partner_name(issued.partner_id)
    except InvalidRequest:
        print(f"error: no partner {args.partner_id} in the catalogue", file=sys.stderr)
        return 1
    finally:
        service.close()
    username = settings().telegram_bot_username
    link = f"https://t.me/{username}?start={issued.start_parameter}" if username else None
    if args.json:
        _print_json(
            {
                "partner_id": issued.partner_id,
                "code": issued.code,
                "start_parameter": issued.start_parameter,
                "link": link,
                "expires_at": issued.expires_at.isoformat(),
            }
        )
        return 0
    until = f"{issued.expires_at:%Y-%m-%d %H:%M} UTC"
    if link:
        print(f"Send this link to the focal point of {name}; it works once, until {until}:\n{link}")
    else:
        print(
            f"Link code for {name}, single use, until {until}: {issued.code}\n"
            f"The focal point sends this to the bot (TELEGRAM_BOT_USERNAME is not set, so no t.me link):\n"
            f"/start {issued.start_parameter}"
        )
    return 0


def cmd_telegram_unlink(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        removed = service.unlink_telegram(args.partner_id)
    finally:
        service.close()
    print(f"{args.partner_id}: " + ("Telegram chat unlinked" if removed else "no Telegram chat was linked"))
    return 0


def cmd_telegram_links(args: argparse.Namespace) -> int:
    service = _service(args)
    try:
        links = service.telegram_links()
    finally:
        service.close()
    if args.json:
        for link in links:
            _print_json(
                {"partner_id": link.partner_id, "chat_id": link.chat_id, "linked_at": link.linked_at.isoformat()}
            )
    elif not links:
        print("no partner has linked a Telegram chat")
    else:
        for link in links:
            print(f"{link.partner_id}  chat {link.chat_id}  linked {link.linked_at:%Y-%m-%d %H:%M}")
    return 0


def add_introductions_parser(sub: argparse._SubParsersAction) -> None:
    """Register `introductions` and its commands on the `python -m knowledge` parser (the old entry point,
    kept as an alias of `python -m introductions`)."""
    group = sub.add_parser("introductions", help="staff tools for brokered introductions and the email worker")
    add_commands(group.add_subparsers(dest="introductions_command", required=True))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m introductions", description=__doc__.split("\n\n")[0])
    add_commands(parser.add_subparsers(dest="introductions_command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """The staff commands, shared by both entry points."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url", help="SQLAlchemy URL (default: DATABASE_URL, else SQLite in GALAXY_STATE_DIR)"
    )

    migrate = commands.add_parser("migrate", parents=[common], help="create or upgrade the introductions store")
    migrate.set_defaults(run=cmd_migrate)

    listing = commands.add_parser("list", parents=[common], help="list requests, newest first (no personal data)")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=None)
    listing.add_argument("--json", action="store_true", help="one JSON object per request")
    listing.set_defaults(run=cmd_list)

    show = commands.add_parser("show", parents=[common], help="one request with the requester's details and its emails")
    show.add_argument("reference", help="e.g. GX-7K3Q9P")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_show)

    export = commands.add_parser("export", parents=[common], help="export requests with personal data as CSV")
    export.add_argument(
        "--csv", nargs="?", const="-", default="-", metavar="PATH", help="file to write (default: stdout)"
    )
    export.add_argument("--status", choices=STATUSES)
    export.set_defaults(run=cmd_export)

    purge = commands.add_parser(
        "purge", parents=[common], help="blank personal data of requests closed longer than the retention period"
    )
    purge.add_argument("--older-than-days", type=int, help="default: RETENTION_DAYS")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(run=cmd_purge)

    deliver = commands.add_parser(
        "deliver", parents=[common], help="send the emails (and Telegram messages) that are due, once"
    )
    deliver.set_defaults(run=cmd_deliver)

    worker = commands.add_parser("worker", parents=[common], help="send messages as they fall due, until stopped")
    worker.set_defaults(run=cmd_worker)

    tg_link = commands.add_parser(
        "telegram-link", parents=[common], help="a one-time t.me link that connects a partner's Telegram chat"
    )
    tg_link.add_argument("partner_id", help="catalogue id, e.g. p-amexcid")
    tg_link.add_argument("--json", action="store_true", help="partner_id, code, start_parameter, link, expires_at")
    tg_link.set_defaults(run=cmd_telegram_link)

    tg_unlink = commands.add_parser(
        "telegram-unlink", parents=[common], help="stop Telegram notifications for a partner"
    )
    tg_unlink.add_argument("partner_id")
    tg_unlink.set_defaults(run=cmd_telegram_unlink)

    handoffs = commands.add_parser("handoffs", help="requests to talk to a person at UNOSSC")
    handoff_commands = handoffs.add_subparsers(dest="handoffs_command", required=True)
    h_list = handoff_commands.add_parser("list", parents=[common], help="hand-offs, newest first (no personal data)")
    h_list.add_argument("--status", choices=("open", "closed"))
    h_list.add_argument("--limit", type=int, default=None)
    h_list.add_argument("--json", action="store_true", help="one JSON object per hand-off")
    h_list.set_defaults(run=cmd_handoffs_list)
    h_show = handoff_commands.add_parser("show", parents=[common], help="one hand-off with what the user shared")
    h_show.add_argument("reference", help="e.g. GH-7K3Q9P")
    h_show.add_argument("--json", action="store_true")
    h_show.set_defaults(run=cmd_handoffs_show)
    h_close = handoff_commands.add_parser("close", parents=[common], help="mark a hand-off as answered")
    h_close.add_argument("reference", help="e.g. GH-7K3Q9P")
    h_close.set_defaults(run=cmd_handoffs_close)

    tg_links = commands.add_parser("telegram-links", parents=[common], help="list partners with a linked chat")
    tg_links.add_argument("--json", action="store_true", help="one JSON object per link")
    tg_links.set_defaults(run=cmd_telegram_links)
