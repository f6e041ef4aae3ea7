"""Every action the server offers, built around one shared ActionContext."""
from __future__ import annotations

from rasa_sdk import Action

from actions.context import ActionContext
from actions.feedback import ActionRecordFeedback, ActionSaveFeedbackReason
from actions.handoffs import (
    ActionCancelHandoff,
    ActionConfirmHandoff,
    ActionCorrectHandoffDetail,
    ActionDeclineHandoff,
    ActionHandoffStatus,
    ActionHumanHandoff,
    ActionSubmitHandoff,
    ValidateHandoffForm,
)
from actions.language import ActionDetectLanguage, ActionSwitchLanguage
from actions.introductions import (
    ActionCancelIntroduction,
    ActionConfirmIntroduction,
    ActionCorrectDetail,
    ActionDeclineConsent,
    ActionDeleteMyData,
    ActionIntroductionStatus,
    ActionRequestIntroduction,
    ActionSubmitIntroduction,
    ValidateIntroductionForm,
)
from actions.records import ActionAnswerRecordQuestion, ActionShowDetails
from actions.search import ActionRefineSearch, ActionSearchPartners, ActionSearchSolutions, ActionShowMore, ActionShowResults
from actions.support import ActionAnswerFaq, ActionClarify, ActionFaqFallback, ActionGreet, ActionOutOfScope, ActionThank, ActionWebinarWelcome

ACTION_CLASSES = (
    ActionSearchSolutions,
    ActionSearchPartners,
    ActionShowMore,
    ActionShowDetails,
    ActionRefineSearch,
    ActionShowResults,
    ActionAnswerRecordQuestion,
    ActionClarify,
    ActionAnswerFaq,
    ActionFaqFallback,
    ActionOutOfScope,
    ActionThank,
    ActionGreet,
    ActionHumanHandoff,
    ActionRequestIntroduction,
    ValidateIntroductionForm,
    ActionConfirmIntroduction,
    ActionSubmitIntroduction,
    ActionDeclineConsent,
    ActionCancelIntroduction,
    ActionCorrectDetail,
    ActionIntroductionStatus,
    ActionDeleteMyData,
    ActionWebinarWelcome,
    ValidateHandoffForm,
    ActionConfirmHandoff,
    ActionCorrectHandoffDetail,
    ActionSubmitHandoff,
    ActionDeclineHandoff,
    ActionCancelHandoff,
    ActionHandoffStatus,
    # answer feedback (actions/feedback.py)
    ActionRecordFeedback,
    ActionSaveFeedbackReason,
    # reply language (actions/language.py)
    ActionDetectLanguage,
    ActionSwitchLanguage,
)


def build_actions(context: ActionContext) -> list[Action]:
    return [cls(context) for cls in ACTION_CLASSES]
