"""The time the private surfaces' checks add to a turn (issue #10), measured on the checks themselves as the
channels run them: the REST or socket.io channel's bearer token, issued-session HMAC and both rate-limit
windows, and the action server's token comparison for each action call of the turn. Prints numbers only.

    python -m bench.security [--turns 20000]
"""
from __future__ import annotations

import argparse
import hmac
import secrets
import statistics
import time

from bot.channels.ratelimit import ClientLimits
from bot.channels.sessions import SessionIssuer, bearer_matches

ACTION_CALLS_PER_TURN = 2  # a search turn: the search action, then action_listen is Rasa's own


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20000)
    args = parser.parse_args(argv)
    token, action_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32).encode()
    issuer = SessionIssuer(secrets.token_urlsafe(32))
    limits = ClientLimits(10**9, 10**9)  # never full: the common case, where every check runs
    sessions = [issuer.issue("rest") for _ in range(1000)]
    header = f"Bearer {token}"
    times = []
    for i in range(args.turns):
        session = sessions[i % len(sessions)]
        started = time.perf_counter_ns()
        assert bearer_matches(header, token)
        conversation = issuer.conversation("rest", session)
        assert conversation is not None and limits.allow(conversation, f"10.0.{i % 250}.{i % 7}")
        for _ in range(ACTION_CALLS_PER_TURN):
            assert hmac.compare_digest(action_token, action_token)
        times.append((time.perf_counter_ns() - started) / 1000)
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(f"private-surface checks per turn: p50 {statistics.median(times):.1f} µs   p95 {p95:.1f} µs   ({args.turns} turns; token, session HMAC, 2 rate windows, {ACTION_CALLS_PER_TURN} action-server token checks)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
