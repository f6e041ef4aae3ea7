"""The knowledge and brokering services an action server holds, handed to every action at registration.

The action server fills it once at start-up (`actions.server`); tests fill it with a small store.
It holds process-wide services only, never anything about one conversation (that lives in the
tracker Rasa sends with every call), so several action servers are interchangeable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from knowledge.services import KnowledgeServices
from knowledge.settings import Settings, settings

if TYPE_CHECKING:
    from actions.metrics import ActionMetrics
    from introductions.service import IntroductionService


@dataclass
class ActionContext:
    settings: Settings = field(default_factory=settings)
    services: KnowledgeServices | None = None
    # Brokering lives in its own package; None while loading or when its database is unreachable.
    introductions: IntroductionService | None = None
    # The server's Prometheus metrics (None in unit tests that build actions without a server).
    metrics: ActionMetrics | None = None

    @property
    def ready(self) -> bool:
        return self.services is not None

    def require(self) -> KnowledgeServices:
        if self.services is None:
            raise RuntimeError("knowledge services are still loading")
        return self.services
