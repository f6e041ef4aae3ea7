"""`make chaos`: faults injected into server mode on loopback, one after the other, with a conversation going
on through nginx; prints a results table. Bounded (each step waits at most a few minutes).

Steps: kill -9 a Rasa worker mid-form; kill -9 an action server during a search turn; kill -9 the outbox
worker; restart PostgreSQL; stop the SMTP server for a minute while an introduction is requested. After
each, the conversation's next turn must be answered (not with the apology) and carry on where it was, and
supervisord must have brought the process back; the introduction's email arrives once SMTP is back, once."""
from __future__ import annotations

import argparse
import re
import socket
import threading
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller

from bench.serve_load import APOLOGY
from harness.served import ServedStack
from harness.stack import texts


def answered(reply: str) -> bool:
    return bool(reply.strip()) and APOLOGY not in reply


def first_good_turn(stack: ServedStack, message: str, sender: str, attempts: int = 5) -> tuple[str, int]:
    """The reply to `message`, retried while the answer is the apology; returns it and the failed tries."""
    failures = 0
    for _ in range(attempts):
        try:
            reply = texts(stack.send(message, sender))
        except Exception:  # noqa: BLE001 - a 5xx counts as a failed try
            reply = ""
        if answered(reply):
            return reply, failures
        failures += 1
        time.sleep(2)
    return "", failures


def step_rasa(stack: ServedStack) -> tuple[bool, str]:
    sender = f"chaos-form-{uuid.uuid4().hex[:6]}"
    stack.send("tell me about AMEXCID", sender)
    stack.send('/request_introduction{"ordinal": 1}', sender)
    stack.send("Amina Diallo", sender)
    old = stack.kill("rasa:rasa-0", wait=False)
    reply, failed = first_good_turn(stack, "Ministry of Water Resources", sender)
    stack.wait_restarted("rasa:rasa-0", old)
    return "role" in reply.lower(), f"form went on to the next question; failed tries {failed}; rasa-0 restarted"


def step_actions(stack: ServedStack) -> tuple[bool, str]:
    sender = f"chaos-actions-{uuid.uuid4().hex[:6]}"
    stack.send("hello", sender)
    result: dict[str, str] = {}
    turn = threading.Thread(target=lambda: result.update(reply=texts(stack.send("find a solution for water scarcity", sender))))
    turn.start()
    time.sleep(0.3)  # the turn is in Rasa's NLU or already in the action server
    old = stack.kill("actions:actions-0", wait=False)
    turn.join(timeout=180)
    during = "answered" if answered(result.get("reply", "")) else "apology"
    reply, failed = first_good_turn(stack, "show more", sender)
    stack.wait_restarted("actions:actions-0", old)
    return bool(reply), f"turn during the kill: {during}; next turn answered after {failed} failed tries"


def step_outbox(stack: ServedStack) -> tuple[bool, str]:
    old = stack.kill("outbox", wait=False)
    new = stack.wait_restarted("outbox", old)
    return new != old, "outbox worker restarted (the outbox is a table: nothing held in the process)"


def step_postgres(stack: ServedStack) -> tuple[bool, str]:
    sender = f"chaos-pg-{uuid.uuid4().hex[:6]}"
    stack.send("hello", sender)
    started = time.perf_counter()
    stack.supervisorctl("restart", "postgres")
    reply, failed = first_good_turn(stack, "find a solution for water scarcity", sender, attempts=10)
    return bool(reply), f"restarted; next turn answered after {failed} failed tries, {time.perf_counter() - started:.0f}s"


class Smtp:
    """A real SMTP server (aiosmtpd) on loopback that can be stopped and started again on its port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.messages: list[str] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content.decode("utf-8", errors="replace"))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


OUTAGE_SECONDS = 60
DELIVERY_WAIT_SECONDS = 300  # the outbox's backoff after a minute of failures is at most ~2 minutes


def step_smtp(stack: ServedStack, smtp: Smtp) -> tuple[bool, str]:
    sender = f"chaos-smtp-{uuid.uuid4().hex[:6]}"
    smtp.stop()
    started = time.perf_counter()
    try:
        stack.send("tell me about AMEXCID", sender)
        for answer in ('/request_introduction{"ordinal": 1}', "Amina Diallo", "Ministry of Water", "policy adviser",
                       "amina.chaos@example.org", "We would like to learn how your food security programmes were designed."):
            stack.send(answer, sender)
        done, _ = first_good_turn(stack, "/affirm", sender)
        found = re.search(r"GX-[0-9A-Z]{6}", done)
        if not found:
            return False, f"no reference in the reply while SMTP was down: {done[:120]!r}"
        reference = found.group(0)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.perf_counter() - started)))
    finally:
        smtp.start()
    back = time.perf_counter()
    deadline = back + DELIVERY_WAIT_SECONDS
    while time.perf_counter() < deadline and not any(reference in m for m in smtp.messages):
        time.sleep(2)
    arrived = [m for m in smtp.messages if reference in m and "amina.chaos@example.org" not in m.split("\n\n", 1)[0]]
    if not arrived:
        return False, f"{reference}: no email {DELIVERY_WAIT_SECONDS}s after SMTP came back"
    waited = time.perf_counter() - back
    time.sleep(15)  # a second copy would come with the next poll
    copies = len([m for m in smtp.messages if reference in m and "amina.chaos@example.org" not in m.split("\n\n", 1)[0]])
    return copies == 1, f"user told {reference} is recorded while SMTP was down; partner email {waited:.0f}s after SMTP came back; copies {copies}"


STEPS = [
    ("kill -9 Rasa worker mid-form", step_rasa),
    ("kill -9 action server mid-turn", step_actions),
    ("kill -9 outbox worker", step_outbox),
    ("restart PostgreSQL", step_postgres),
    ("stop SMTP for a minute", step_smtp),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attach", metavar="STATE_DIR", help="a server mode already running (2 Rasa, 2 action workers)")
    parser.add_argument("--serve-port", type=int, default=8088)
    parser.add_argument("--internal-port", type=int, default=5100)
    args = parser.parse_args(argv)
    smtp = Smtp()
    smtp.start()
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port), "BROKER_EMAIL": "partner-desk@example.org"}
    if args.attach:  # (its SMTP is whatever it was started with: the SMTP step then reports no email)
        stack = ServedStack.attached(Path(args.attach), args.serve_port, args.internal_port)
    else:
        stack = ServedStack(rasa_workers=2, action_workers=2, extra_env=mail).start()
    rows = []
    try:
        for name, step in STEPS:
            started = time.perf_counter()
            try:
                ok, detail = step(stack, smtp) if step is step_smtp else step(stack)
            except Exception as exc:  # noqa: BLE001 - a failed step is a row of the table
                ok, detail = False, f"{type(exc).__name__}: {str(exc)[:120]}"
            rows.append((name, ok, time.perf_counter() - started, detail))
            print(f"{name:<34} {'carried on' if ok else 'FAILED':<11} {rows[-1][2]:6.0f}s  {detail}", flush=True)
    finally:
        stack.stop()
        smtp.stop()
    return 0 if all(ok for _, ok, _, _ in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
