"""Every action the server offers, built around one shared ActionContext."""
from __future__ import annotations

from rasa_sdk import Action

from actions.context import ActionContext
from actions.search import ActionSearchPartners, ActionSearchSolutions, ActionShowDetails, ActionShowMore
from actions.support import (
    ActionClarify,
    ActionFaqFallback,
    ActionHumanHandoff,
    ActionIntroductionStatus,
    ActionRequestIntroduction,
)

ACTION_CLASSES = (
    ActionSearchSolutions,
    ActionSearchPartners,
    ActionShowMore,
    ActionShowDetails,
    ActionClarify,
    ActionFaqFallback,
    ActionHumanHandoff,
    ActionRequestIntroduction,
    ActionIntroductionStatus,
)


def build_actions(context: ActionContext) -> list[Action]:
    return [cls(context) for cls in ACTION_CLASSES]
