"""Per-client message limits of the public channels: a sliding window of one minute per conversation and
per client address, kept in the Rasa process (one process serves the channels). Standard library only."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

RATE_LIMITED_REPLY = (
    "You're sending messages faster than I can answer. Please wait a minute, then try again."
)
WINDOW_SECONDS = 60.0


def client_address(request: object) -> str:
    """The client's address: behind nginx (server mode, SANIC_PROXIES_COUNT=1) the one nginx forwarded,
    else the connection's; without this every user behind the proxy would share one address limit."""
    return getattr(request, "remote_addr", "") or getattr(request, "ip", "") or ""


class SlidingWindow:
    """At most `limit` hits per key in any `window` seconds."""

    def __init__(self, limit: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._next_sweep = 0.0

    def hit(self, key: str) -> bool:
        """Records a hit for `key`; False (and nothing recorded) when its window is full."""
        if self.limit <= 0:
            return True  # 0 switches the limit off
        now = self._clock()
        self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def _sweep(self, now: float) -> None:
        # Forget idle keys once a window, so memory follows the active clients only.
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]


class ClientLimits:
    """The two limits of a public channel: per conversation (session) and per client address."""

    def __init__(self, per_session: int, per_ip: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions = SlidingWindow(per_session, clock=clock)
        self.addresses = SlidingWindow(per_ip, clock=clock)

    def allow(self, conversation: str, address: str) -> bool:
        return self.addresses.hit(address or "?") and self.sessions.hit(conversation)
