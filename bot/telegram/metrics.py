"""Prometheus metrics of the Telegram bridge (updates, their latency and failures, the age of the last
update) on a loopback port of its own (TELEGRAM_METRICS_PORT; 0, the default, serves none)."""
from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram, start_http_server

UPDATES = Counter("galaxy_telegram_updates_total", "Telegram updates processed")
UPDATE_ERRORS = Counter("galaxy_telegram_update_errors_total", "Telegram updates whose handling raised")
UPDATE_SECONDS = Histogram(
    "galaxy_telegram_update_seconds", "Time to handle one update (Rasa turn and replies)",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
)
_started = time.time()
_last_update = [0.0]
# Seconds since the last update, or since start when none came: a stuck poller shows as a growing number.
LAST_UPDATE_AGE = Gauge("galaxy_telegram_last_update_age_seconds", "Seconds since the last update arrived")
LAST_UPDATE_AGE.set_function(lambda: time.time() - (_last_update[0] or _started))


def update_arrived() -> None:
    _last_update[0] = time.time()
    UPDATES.inc()


def serve_metrics(port: int) -> None:
    """Metrics on 127.0.0.1:`port` (a thread of prometheus_client), when a port is set."""
    if port:
        start_http_server(port, addr="127.0.0.1")
