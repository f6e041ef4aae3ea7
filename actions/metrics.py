"""Prometheus metrics of one action server: calls by action, their latency and their errors.

Each server has a registry of its own (not prometheus_client's global one), so tests can build
several apps in one process; `/metrics` renders it."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Seconds: a greeting is a few ms, a search tens to hundreds, a burst on a busy machine seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ActionMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter("galaxy_action_calls", "Action calls, by action", ["action"], registry=self.registry)
        self.errors = Counter(
            "galaxy_action_errors",
            "Action calls that failed (the user got an apology or Rasa an error), by action",
            ["action"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "galaxy_action_seconds", "Time to run an action, by action", ["action"], buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self.in_flight = Gauge("galaxy_actions_in_flight", "Actions running now", registry=self.registry)
        self.records = Gauge("galaxy_catalogue_records", "Records of the catalogue generation served", registry=self.registry)
        self.reloads = Counter("galaxy_catalogue_reloads", "New catalogue generations loaded without a restart", registry=self.registry)

    def error(self, action: str) -> None:
        self.errors.labels(action=action).inc()
