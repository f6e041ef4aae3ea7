"""What the introduction and hand-off flows share: the details a user gives (validated by the same
functions the store uses), corrections at any step, and consent that covers exactly the last summary."""
from __future__ import annotations

import hashlib
import json
import re
from abc import ABC
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.base import ends_as_question, latest_entities
from actions.context import ActionContext
from actions.i18n import Texts
from introductions import validation
from knowledge.geo import geography
from introductions.validation import InvalidRequest


@dataclass(frozen=True)
class Detail:
    """One thing a form asks: its slot, how the user calls it, and how its answer is checked (what to say when
    it is not acceptable is `hint.<slot>` in the message catalogues)."""

    slot: str
    label: str
    check: Callable[[str], str | None]  # a validator of introductions.validation (raises InvalidRequest)
    optional: bool = False
    # An answer of this shape is taken whatever intent the NLU gave it (an email address read as "deny")
    looks_like: "re.Pattern[str] | None" = None

    def clean(self, value: Any) -> str | None:
        """The value as it will be stored; raises InvalidRequest."""
        text = "" if value is None else str(value)
        if self.optional and not text.strip():
            return ""
        result = self.check(text)
        return "" if result is None else result

    def problem(self, exc: InvalidRequest, value: Any, t: Texts | None = None) -> str:
        t = t or Texts("en")
        hint = t(f"hint.{self.slot}", limit=LIMITS.get(self.slot, ""))
        if exc.problem.startswith("must be at most"):
            limit = exc.problem.split()[4]
            return t("detail.too_long", label=t(f"label.{self.slot}"), limit=f"{int(limit):,}", length=f"{len(str(value).strip()):,}", hint=hint)
        return hint


def _email(value: str) -> str:
    return validation.email(value.strip().strip("<>").strip())


# The limits the hints quote (the validators enforce them).
LIMITS = {"requester_name": validation.NAME_MAX, "requester_organisation": validation.ORGANISATION_MAX, "requester_role": validation.ROLE_MAX}

EMAIL_SHAPE = re.compile(r"^\s*<?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?\s*$")

INTRODUCTION_DETAILS = (
    Detail("requester_name", "name", validation.name),
    Detail("requester_organisation", "organisation", validation.organisation),
    Detail("requester_role", "role", validation.role, optional=True),
    Detail("requester_email", "email", _email, looks_like=EMAIL_SHAPE),
    Detail("intro_message", "message", validation.message),
)
HANDOFF_DETAILS = (
    Detail("handoff_topic", "question", validation.topic),
    Detail("handoff_email", "email", _email, looks_like=EMAIL_SHAPE),
)
# The `field` entity names the introduction's slots; a hand-off has an email and a topic (its "message").
HANDOFF_FIELDS = {"requester_email": "handoff_email", "intro_message": "handoff_topic", "handoff_email": "handoff_email", "handoff_topic": "handoff_topic"}


def by_slot(details: Iterable[Detail]) -> dict[str, Detail]:
    return {d.slot: d for d in details}


def correction(tracker: Tracker, details: dict[str, Detail], fields: dict[str, str] | None = None) -> tuple[Detail, str | None] | None:
    """The detail a correct_detail message names (the gazetteer's or a button's `field`) and the new value
    if it gave one ("the organisation should be X"); None when the message is no correction of these."""
    if (tracker.latest_message.get("intent") or {}).get("name") != "correct_detail":
        return None
    named = [fields.get(f, f) if fields else f for f in latest_entities(tracker, "field")]
    slots = [s for s in named if s in details]
    if not slots:
        return None
    values = [v for v in latest_entities(tracker, "detail_value") if isinstance(v, str) and v.strip()]
    return details[slots[-1]], (values[-1] if values else None)


def digest(tracker: Tracker, slots: Iterable[str]) -> str:
    """Fingerprint of what a summary showed: consent is valid only for these exact values."""
    shown = {slot: tracker.get_slot(slot) for slot in slots}
    return hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def last_bot_action(tracker: Tracker) -> str | None:
    """The action that ran just before the user's latest message (what the user is answering)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name")
    return None


def consent_is_current(tracker: Tracker, slots: Iterable[str], digest_slot: str, summary_actions: set[str]) -> bool:
    """A "yes" counts when it answers a summary (nothing else ran in between) whose values are unchanged."""
    return last_bot_action(tracker) in summary_actions and tracker.get_slot(digest_slot) == digest(tracker, slots)


class DetailForm(FormValidationAction, ABC):
    """Validation of a form of Details, and corrections while it runs ("wait, my name is wrong"): the text
    of a correction is not taken as the answer to the current question. Never registered itself."""

    details: tuple[Detail, ...] = ()
    fields: dict[str, str] | None = None

    def __init__(self, context: ActionContext) -> None:
        super().__init__()
        self.context = context
        for detail in self.details:
            setattr(self, f"validate_{detail.slot}", self._validator(detail))
            if detail.looks_like is not None:
                setattr(self, f"extract_{detail.slot}", self._extractor(detail))

    @staticmethod
    def _extractor(detail: Detail):
        async def extract(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
            text = tracker.latest_message.get("text") or ""
            if tracker.get_slot("requested_slot") == detail.slot and detail.looks_like.match(text) and not text.startswith("/"):
                return {detail.slot: text.strip()}
            return {}

        return extract

    def _validator(self, detail: Detail):
        def validate(value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
            if value is None:
                # the slot was emptied (the action that starts the form resets it): not an answer to check
                return {detail.slot: None}
            labelled = _LABELLED.match(value) if isinstance(value, str) else None
            if labelled and _LABEL_SLOTS.get(" ".join(labelled.group("label").casefold().split())) == detail.slot:
                value = labelled.group("value").strip()  # "Message : nous souhaitons …" answers the message question
            try:
                return {detail.slot: detail.clean(value)}
            except InvalidRequest as exc:
                dispatcher.utter_message(text=detail.problem(exc, value, Texts.of(tracker)))
                return {detail.slot: None}

        return validate

    def cancelled(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """What stopping this form says and forgets (each form says its own)."""
        raise NotImplementedError

    def switched(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
        """A message that changes what the form is for (another partner named), or None."""
        return None

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        asked = tracker.get_slot("requested_slot")
        text = (tracker.latest_message.get("text") or "").strip()
        taken = [SlotSet(slot, None) for slot in tracker.slots_to_validate()]  # what the form took from this message
        if refuses_email(text) and "requester_email" in by_slot(self.details) and asked not in FREE_TEXT:
            # "I'd rather not give my email, just send my name": the partner could not answer; said so,
            # with what the user can do, and what they gave is kept
            given = listed_details(text, by_slot(self.details), last_sentence=True) or introduced_details(text, by_slot(self.details))
            dispatcher.utter_message(text=Texts.of(tracker)("form.email_needed"))
            return taken + [SlotSet(slot, value) for slot, value in given.items() if slot not in EMAILS]
        if asks_to_delete(tracker):
            # "Thanks. And please delete my data - now, not later." while a detail is asked: the form stops and
            # the conversation's data is deleted (nothing of the form is kept)
            from actions.introductions import ActionDeleteMyData  # introductions builds its form on this module

            deleted = await ActionDeleteMyData(self.context).run(dispatcher, tracker, domain)
            return taken + deleted + [SlotSet("requested_slot", None), ActiveLoop(None)]
        if stops_the_form(text, asked):
            # "cancel that for now" is no name: the form stops, nothing is kept or sent
            return taken + self.cancelled(dispatcher, tracker) + [SlotSet("requested_slot", None), ActiveLoop(None)]
        several = several_details(tracker, by_slot(self.details))
        details = by_slot(self.details)
        amended = amended_email(text) if "requester_email" in details and tracker.get_slot("requester_email") and not text.startswith("/") else None
        if amended is not None and asked in details:
            # "Message: we'd like to … Oh wait - the email should be m.banda@…": the address changed, and the rest
            # is the answer (to the message question, or a detail it labels)
            message, email = amended
            t = Texts.of(tracker)
            try:
                cleaned = {"requester_email": details["requester_email"].clean(email)}
                if asked in FREE_TEXT:
                    cleaned[asked] = details[asked].clean(message)
                else:
                    labelled = _LABELLED.match(text)
                    slot = _LABEL_SLOTS.get(" ".join(labelled.group("label").casefold().split())) if labelled else None
                    if slot in details and slot != "requester_email":
                        cleaned[slot] = details[slot].clean(message)  # "Message: …" said while the role is asked
                    if asked == "requester_role" and asked not in cleaned:
                        cleaned[asked] = ""  # optional: left out
            except InvalidRequest:
                cleaned = {}
            if cleaned:
                dispatcher.utter_message(text=t("detail.changed", label=t("label.requester_email")))
                return [SlotSet(slot, None) for slot in tracker.slots_to_validate() if slot not in cleaned] + [SlotSet(slot, value) for slot, value in cleaned.items()]
        if not several and asked in by_slot(self.details) and asked not in FREE_TEXT:
            switched = self.switched(dispatcher, tracker)
            given = {}
            if not text.startswith("/"):
                # "Aminata Sow, ministère …, a@b.org" listed, or "I'm Grace Akello from …" said in passing
                given = listed_details(text, by_slot(self.details), last_sentence=True) or introduced_details(text, by_slot(self.details))
            if switched is not None or given:
                # "could you put me in touch with Barefoot College instead? I'm Grace Akello from …":
                # the details said in passing are kept; the form asks what is still missing
                skipped = [SlotSet(asked, "")] if asked == "requester_role" and asked not in given else []  # optional: left out
                return taken + (switched or []) + [SlotSet(slot, value) for slot, value in given.items()] + skipped
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if intent in NOT_ANSWERS and len(text.split()) <= 4 and asked != "requester_name":
                # "oui, je confirme" while the optional role is asked: go on without it; another detail: asked again
                return taken + ([SlotSet(asked, "")] if asked == "requester_role" else [])
            aside = aside_of(tracker, asked)
            if aside is not None:
                # a question, a search or thanks while a detail is asked: answered, then asked again
                return taken + await answer_aside(self.context, aside, dispatcher, tracker, domain)
        if asked == "intro_message" and only_consent(text):
            # "Yes, send it." while the message is asked: no message yet; said so, and asked again
            dispatcher.utter_message(text=Texts.of(tracker)("form.message_first"))
            return [SlotSet(slot, None) for slot in tracker.slots_to_validate()]
        if not several and asked in FREE_TEXT and aside_of(tracker, asked) is not None:
            # "thx" while what the hand-off is about is asked: welcomed, and asked again
            return taken + await answer_aside(self.context, str(aside_of(tracker, asked)), dispatcher, tracker, domain)
        if several:
            # everything in one message: take each part for its question; the form asks what is left (not
            # the optional role when the message to the partner came too: the summary follows)
            if {"requester_email", "intro_message"} <= several.keys() and "requester_role" not in several:
                several = {**several, "requester_role": ""}
            return [SlotSet(slot, None) for slot in tracker.slots_to_validate() if slot not in several] + [
                SlotSet(slot, value) for slot, value in several.items()
            ]
        found = correction(tracker, by_slot(self.details), self.fields)
        if found is None:
            return await super().run(dispatcher, tracker, domain)
        detail, value = found
        # Undo what the form took from this message for the question it asked.
        events: list[dict[str, Any]] = [SlotSet(slot, None) for slot in tracker.slots_to_validate() if slot != detail.slot]
        return events + apply_correction(detail, value, dispatcher, Texts.of(tracker))


# What stops a form while it asks ("cancel that for now", "never mind", "I'm not ready to give my details",
# "annulez", "laissez tomber", "отмена", "пока не готов", "إلغاء", "لا أريد")
_STOP = re.compile(
    r"\b(?:cancel\w*|abort|withdraw\w*|never\s*mind|nevermind|forget\s+(?:it|that|about\s+it)|not\s+(?:now|ready)|rather\s+not|prefer\s+not"
    r"|(?:wants?|prefers?|need|needs|have|has)\s+to\s+wait|retir\w*\s+(?:la|ma|cette)\s+demande"
    r"|(?:don'?t|do\s+not)\s+want\s+to\s+(?:give|share|continue|go\s+on)|(?:don'?t|do\s+not)\s+send\s+(?:it|anything|that)|hold\s+off"
    r"|annul\w*|laisse[sz]?\s+tomber|pas\s+(?:maintenant|pr[êe]t\w*)|arr[êe]t\w*|n'envoy\w*\s+rien|ne\s+(?:l'|rien\s+)?envoy\w*\s+(?:rien|pas)|pr[ée]f[èe]re\s+attendre|finalement\s+non)\b"
    r"|^\W*stop\W*$"
    r"|(?<!\w)(?:отмен\w*|отзов\w*|отозв\w*|стоп|не\s+готов\w*|не\s+сейчас|не\s+хочу|передумал\w*|хватит|(?:ничего\s+)?не\s+отправля\w*)(?!\w)"
    r"|(?:إلغاء|ألغ|الغ|سحب\s+الطلب|اسحب|لا\s+أريد|مش\s+جاهز|لست\s+مستعد|توقف|ليس\s+الآن|لا\s+ترسل)",
    re.IGNORECASE,
)
# The details a free answer may hold only as a whole message of its own (the message to the partner, what a
# hand-off is about): a long one is the answer, whatever words it uses
FREE_TEXT = frozenset({"intro_message", "handoff_topic"})
EMAILS = frozenset({"requester_email", "handoff_email"})
# What the NLU may read an aside as, while a form asks: answered by its action, then the question comes again
_ASIDES = {
    "ask_record": ("actions.records", "ActionAnswerRecordQuestion"),
    "show_details": ("actions.records", "ActionShowDetails"),
    "find_solution": ("actions.search", "ActionSearchSolutions"),
    "find_partner": ("actions.search", "ActionSearchPartners"),
    "refine_search": ("actions.search", "ActionRefineSearch"),
    "show_results": ("actions.search", "ActionShowResults"),
    "show_more": ("actions.search", "ActionShowMore"),
    "faq": ("actions.support", "ActionAnswerFaq"),
    "out_of_scope": ("actions.support", "ActionOutOfScope"),
    "thank": ("actions.support", "ActionThank"),
}
_COMMANDS = frozenset({"show_more", "show_results"})
_COMMAND_WORDS = re.compile(
    r"\b(?:more|next|show|results?|back|list|plus|suite|suivant\w*|r[ée]sultats?|retour|afficher|montre\w*)\b"
    r"|(?<!\w)(?:ещ[её]|дальше|покаж\w*|результат\w*|назад)|(?:المزيد|النتائج|التالي|اعرض)",
    re.IGNORECASE,
)
# Answers that are no detail: a "yes" before anything was shown to agree to
NOT_ANSWERS = frozenset({"affirm"})
_THANKS = re.compile(r"\b(?:thanks?|thank\s+you|thx|merci|cheers)\b|(?<!\w)спасибо|شكر", re.IGNORECASE)


# "I'd rather not give my email", "no email please", "sans mon e-mail", "без почты", "بدون بريد"
_REFUSES_EMAIL = re.compile(
    r"\b(?:(?:rather|prefer)\s+not\s+(?:to\s+)?|(?:don'?t|do\s+not|won'?t|will\s+not)\s+(?:want\s+to\s+)?)(?:give|share|provide|send|leave)\b[^.!?]{0,20}\be-?mail"
    r"|\b(?:no|without\s+(?:an?|my)?)\s*e-?mail\b"
    r"|\b(?:sans|pas\s+(?:de|mon|d'))\s*(?:adresse\s+)?(?:e-?mail|courriel|mail)\b|\bne\s+(?:veux\s+|souhaite\s+)?pas\s+(?:donner|communiquer|laisser)\s+(?:mon\s+|d'|une\s+)?(?:adresse\s+)?(?:e-?mail|courriel|adresse|mail)"
    r"|(?<!\w)(?:без\s+(?:почты|email|e-mail|имейла|электронной)|не\s+(?:хочу|буду)\s+(?:давать|указывать|сообщать)\s+(?:свою\s+|мою\s+)?(?:почту|email|адрес|электронн\w*))"
    r"|(?:بدون|دون)\s+(?:بريد|إيميل|ايميل)|لا\s+أريد\s+(?:إعطاء|مشاركة)\s+(?:بريدي|إيميلي|البريد)",
    re.IGNORECASE,
)


def refuses_email(text: str) -> bool:
    """Whether a message refuses to give an email address (and gives none)."""
    return bool(text) and not text.startswith("/") and bool(_REFUSES_EMAIL.search(text)) and EMAIL_IN.search(text) is None


def asks_to_delete(tracker: Tracker) -> bool:
    """Whether the answer to the form's question asks to delete the user's data instead (a short message the
    NLU reads as delete_my_data and that is about the user's own data)."""
    from actions.introductions import asks_to_delete_own_data

    text = (tracker.latest_message.get("text") or "").strip()
    intent = tracker.latest_message.get("intent") or {}
    return (
        intent.get("name") == "delete_my_data"
        and float(intent.get("confidence") or 0.0) >= 0.7
        and not text.startswith("/")
        and len(text.split()) <= 12
        and asks_to_delete_own_data(text)
    )


def stops_the_form(text: str, slot: str | None) -> bool:
    """Whether the answer to the form's question asks to stop instead (a long free answer never does)."""
    if not text or text.startswith("/"):
        return False
    return bool(_STOP.search(text)) and (slot not in FREE_TEXT or len(text.split()) <= 8)


_ADDRESS_TRY = re.compile(r"^\W*[\w.+-]+\s*(?:\bat\b|\[at\]|\(at\))\s*[\w.-]+(?:\s*(?:\bdot\b|\.)\s*\w+)*\W*$", re.IGNORECASE)


def aside_of(tracker: Tracker, slot: str | None) -> str | None:
    """The intent of a message that is not the answer to the form's question but an aside (a question
    about a record, a search, an FAQ, thanks), or None when it is the answer."""
    text = (tracker.latest_message.get("text") or "").strip()
    intent = tracker.latest_message.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if not text or text.startswith("/") or name not in _ASIDES or confidence < 0.5:
        return None
    if slot in FREE_TEXT:  # a message may say anything; only a bare "thanks" is not one
        return name if name == "thank" and _THANKS.search(text) and len(text.split()) <= 3 else None
    if name == "thank":
        return name if _THANKS.search(text) and len(text.split()) <= 8 else None
    if name in _COMMANDS and confidence >= 0.8 and _COMMAND_WORDS.search(text):
        return name  # "Afficher plus", "back to the results": a command, not a name ("Lea Moreau" may be read as one)
    if slot in EMAILS:
        # an address, or a try at one ("amina at example", "a dot b"): the answer, checked as an address
        return None if "@" in text or _ADDRESS_TRY.search(text) or (len(text.split()) <= 3 and not ends_as_question(text)) else name
    # a name is short; an organisation or a role may be long, so only a question is an aside there
    return name if "?" in text or (slot == "requester_name" and len(text.split()) > 8) else None


async def answer_aside(context: ActionContext, intent: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
    import importlib

    module, name = _ASIDES[intent]
    action = getattr(importlib.import_module(module), name)(context)
    return await action.run(dispatcher, tracker, domain)


# "I'm Grace Akello from the Northern Uganda Women Energy Network", "je suis Awa Ndiaye, de l'ONG X",
# "меня зовут Ирина Петрова из ..."; names start with a capital letter
SELF_INTRODUCTION = r"(?i:(?<!\w)(?:i'?m|i\s+am|my\s+name\s+is|this\s+is|je\s+suis|je\s+m'appelle|moi\s+c'est|меня\s+зовут|я\s*[-—–]|اسمي|أنا))\s+"
_SELF = re.compile(
    SELF_INTRODUCTION +
    r"(?P<name>[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]+(?:\s+[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]+){0,3})"
    r"(?:\s*,?\s+(?i:from|with|at|of|de\s+la|de\s+l['’]|de|du|chez|из|от)(?:(?<=['’])|\s+)(?P<org>[^,;.\n]{2,120}))?"
)


# An answer that says which detail it gives ("Message: we would like to …", "email: a@b.org", "rôle : …")
_LABELLED = re.compile(
    r"^\W*(?:(?:sorry|pardon|désolée?|извините|عفوا|عفواً)\W+)?(?:(?:the|my|le|la|mon|ma)\s+)?(?:(?:correct|right|new|bon|bonne|nouveau|nouvel|nouvelle|правильн\w*|нов\w*)\s+)?(?P<label>message|msg|note|name|my\s+name|organi[sz]ation|org|role|position|title|e-?mail"
    r"|nom|organisme|r[ôo]le|poste|courriel|сообщение|имя|организация|должность|почта|الرسالة|الاسم|المنظمة|الدور|البريد)"
    # "the correct name:", "nouvel e-mail :", "правильное имя:", "الاسم الصحيح:"
    r"(?:\s+(?:is|should\s+be|correct|right|new|exact|correcte?|nouveau|nouvelle|exacte?|правильн\w*|нов\w*|الصحيح|الصحيحة|الجديد|الجديدة))?"
    r"\s*[:：]\s*(?P<value>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
_LABEL_SLOTS = {
    "message": "intro_message", "msg": "intro_message", "note": "intro_message", "сообщение": "intro_message", "الرسالة": "intro_message",
    "name": "requester_name", "my name": "requester_name", "nom": "requester_name", "имя": "requester_name", "الاسم": "requester_name",
    "organisation": "requester_organisation", "organization": "requester_organisation", "org": "requester_organisation", "organisme": "requester_organisation",
    "организация": "requester_organisation", "المنظمة": "requester_organisation",
    "role": "requester_role", "position": "requester_role", "title": "requester_role", "rôle": "requester_role", "poste": "requester_role",
    "должность": "requester_role", "الدور": "requester_role",
    "email": "requester_email", "e-mail": "requester_email", "courriel": "requester_email", "почта": "requester_email", "البريد": "requester_email",
}


# A sentence that agrees to send, said at the end of the message to the partner ("… Yes, you can send it.",
# "Please send.", "Oui, envoyez.", "Отправляйте.", "أرسل الطلب"): no part of the message; consent is asked
# on the summary
_SEND_IT = re.compile(
    r"(?:^|(?<=[.!?]))\s*(?:(?:yes|ok|okay|sure|oui|да|نعم)\W*)?(?:(?:you\s+can|please|go\s+ahead\s+and|vous\s+pouvez)\s+)?"
    r"(?:send|submit|envo\w+|transmet\w*|отправ\w+|أرسل\w*|ارسل\w*)(?:\s+(?:it|this|the\s+request|la\s+demande|le|её|его|الطلب))?\s*(?:please|svp|s'il\s+vous\s+pla[iî]t|пожалуйста)?\W*$",
    re.IGNORECASE,
)


# A sentence of a message that changes the address given before ("the email should be m.banda@…, not the
# one I gave", "en fait mon courriel est …", "правильная почта …", "البريد الصحيح هو …")
_EMAIL_WORD = re.compile(r"\b(?:e-?mail|address|courriel|adresse)\b|(?<!\w)(?:почт\w*|адрес\w*|e-?mail)|البريد|الإيميل|إيميلي|بريدي", re.IGNORECASE)
_AMENDING = re.compile(
    r"\b(?:should\s+be|is\s+actually|actually|instead|not\s+the\s+one|correct(?:ion|ed)?|wrong|sorry|typo|devrait\s+être|plutôt|en\s+fait|erreur|correct\w*)\b"
    r"|(?<!\w)(?:правильн\w*|на\s+самом\s+деле|ошиб\w*|исправ\w*|вместо)|الصحيح|الصحيحة|خطأ|بدلا|بدلاً",
    re.IGNORECASE,
)


def amended_email(text: str) -> tuple[str, str] | None:
    """A free-text answer that also corrects the address: (the text without that sentence, the new address)."""
    email = EMAIL_IN.search(text or "")
    if email is None:
        return None
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text, 0, email.start())]
    end = next((m.start() for m in _SENTENCE_END.finditer(text, email.end())), len(text))
    sentence = text[starts[-1] : end]
    if not (_EMAIL_WORD.search(sentence) and _AMENDING.search(sentence)):
        return None
    rest = " ".join((text[: starts[-1]] + " " + text[end:].lstrip(" .!?")).split()).strip()
    labelled = _LABELLED.match(rest)
    if labelled and _LABEL_SLOTS.get(" ".join(labelled.group("label").casefold().split())) == "intro_message":
        rest = labelled.group("value").strip()
    return (rest, email.group().strip("<>")) if rest else None


def only_consent(text: str) -> bool:
    """Whether an answer only says "yes, send it" ("Yes, send it.", "Oui, envoyez", "نعم، أرسلها"): no message."""
    return bool(text) and not _SEND_IT.sub("", text).strip(" .,!?؟،") and bool(_SEND_IT.search(text))


def without_consent(message: str) -> str:
    """The message to the partner without a closing "yes, you can send it"."""
    trimmed = _SEND_IT.sub("", message).strip()
    return trimmed if len(trimmed) >= 10 else message


# A labelled message after the first sentence ("… Network. Message: we'd like …", "… Message : nous voulons …")
_MESSAGE_LABEL = re.compile(r"(?<=[.!?;,،])\s+(?:message|msg|сообщение|(?:و)?الرسالة)\s*[:：]\s*(?P<value>\S.*)$", re.IGNORECASE | re.DOTALL)


def introduced_details(text: str, details: dict[str, Detail]) -> dict[str, str]:
    """The name, organisation and email a message gives in passing ("I'm Grace Akello from the Northern
    Uganda Women Energy Network, grace@example.org"), or the one detail it labels ("Message: …"); each
    checked by its validator, {} when none is."""
    found: dict[str, str] = {}
    labelled = _LABELLED.match(text or "")
    if labelled:
        slot = _LABEL_SLOTS.get(" ".join(labelled.group("label").casefold().split()))
        slot = {"requester_email": "handoff_email", "intro_message": "handoff_topic"}.get(slot, slot) if slot not in details else slot
        if slot in details:
            value = labelled.group("value").strip()
            try:
                cleaned = details[slot].clean(without_consent(value) if slot == "intro_message" else value)
            except InvalidRequest:
                cleaned = None
            if cleaned:
                return {slot: cleaned}
    candidates = {}
    message = _MESSAGE_LABEL.search(text or "")
    if message and "intro_message" in details:
        # "I'm Abena Owusu from Susu Sisters Network. Message: we'd like to learn …": the labelled message too
        candidates["intro_message"] = without_consent(message.group("value").strip())
        text = text[: message.start()]
    match = _SELF.search(text or "")
    if match:
        candidates["requester_name"] = match.group("name")
        if match.group("org"):
            candidates["requester_organisation"] = match.group("org").strip()
    email = EMAIL_IN.search(text or "")
    if email and "requester_email" in details:
        candidates["requester_email"] = email.group()
        after = text[email.end() :].strip(" .,;:\n،؛")
        if "intro_message" in details and len(after.split()) >= 4 and not after.rstrip().endswith(("?", "؟")):
            candidates["intro_message"] = without_consent(after)  # "… a@b.ba. We'd like to discuss a greenhouse programme."
    for slot, value in candidates.items():
        if slot in details:
            try:
                cleaned = details[slot].clean(value)
            except InvalidRequest:
                continue
            if cleaned:
                found[slot] = cleaned
    return found


_PARTS = re.compile(r"\s*[,;\n،؛]\s*")
# Words that name a job ("extension officer", "chargée de programme", "руководитель отдела", "مديرة مشروع")
_ROLE_WORDS = re.compile(
    r"\b(?:officer|director|manager|coordinator|head|chief|specialist|adviser|advisor|consultant|analyst|lecturer|professor"
    r"|researcher|engineer|assistant|secretary|minister|deputy|chair\w*|president|founder|lead|expert|associate|intern"
    r"|directeur|directrice|chargée?|responsable|conseill\w+|coordinat\w+|chef|ingénieur\w*|chercheu\w+|stagiaire)\b"
    r"|(?<!\w)(?:руководител\w*|директор\w*|начальник\w*|специалист\w*|советник\w*|координатор\w*|эксперт\w*|менеджер\w*|заместител\w*|инженер\w*)"
    r"|(?<!\w)(?:مدير\w*|منسق\w*|رئيس\w*|مستشار\w*|خبير\w*|أخصائي\w*|مسؤول\w*|باحث\w*)",
    re.IGNORECASE,
)


# the word that says where the user works, before an organisation ("from the Ministry", "de l'ONG", "من وزارة")
_FROM = re.compile(r"^\s*(?:(?i:from|with|at|chez)\s+|(?:de|du)\s+|(?i:из|от)\s+|(?:و)?(?:من|في)\s+)")


def _without_label(part: str) -> str:
    """A part without the label of the address that follows it ("Zambia. Email" → "Zambia")."""
    ends = [m.end() for m in _SENTENCE_END.finditer(part)]
    return part[: ends[-1]].rstrip(" .!?") if ends and _NO_DETAIL.match(part[ends[-1] :]) else part
_NO_DETAIL = re.compile(
    r"^\W*(?:ok(?:ay)?|fine|sure|yes|alright|so|d'accord|bon|oui|хорошо|ладно|да|حسنا|حسناً|طيب|نعم|تمام)?\W*"
    r"(?:(?:my\s+)?e-?mail(?:\s+(?:is|address))?|(?:mon\s+)?(?:e-?mail|courriel|adresse)(?:\s+est)?|(?:моя\s+)?(?:почта|email|e-mail)|بريدي(?:\s+الإلكتروني)?|إيميلي|البريد(?:\s+الإلكتروني)?)?\W*$",
    re.IGNORECASE,
)
EMAIL_IN = re.compile(r"<?[^@\s<>,;،؛]+@[^@\s<>,;،؛]+\.[^@\s<>,;.،؛]+>?")


def several_details(tracker: Tracker, details: dict[str, Detail]) -> dict[str, str]:
    """The introduction's details when the answer to its first question gives them all in one go ("Amina
    Diallo, Ministry of Energy Mali, rural electrification officer, amina@example.org, we want to train 20
    women"): name, organisation and role before the email address, separated by commas, and a message
    after it. Each part is checked by its validator; {} unless name, organisation and email all are."""
    if tracker.get_slot("requested_slot") != "requester_name":
        return {}
    return listed_details((tracker.latest_message.get("text") or "").strip(), details)


_SENTENCE_END = re.compile(r"[.!?]\s+")


def listed_details(text: str, details: dict[str, Detail], *, last_sentence: bool = False) -> dict[str, str]:
    """Name, organisation and role before an email address, separated by commas, and a message after it
    (see `several_details`); `last_sentence`: read only from the sentence that holds the address ("Please
    introduce me to them. Chikondi Banda, Malawi ICT Agency, c.banda@example.org")."""
    order = ("requester_name", "requester_organisation", "requester_role")
    if not all(s in details for s in (*order, "requester_email", "intro_message")):
        return {}
    email = EMAIL_IN.search(text)
    if last_sentence and email is not None:
        # the sentence that holds the address, with the one before when it only labels it ("…, Zambia. Email a@b.zm")
        starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, email.start())]
        while starts and _NO_DETAIL.match(text[starts[-1] : email.start()]):
            starts.pop()
        text = text[starts[-1] :] if starts else text
    email = EMAIL_IN.search(text)
    if text.startswith("/") or email is None:
        return {}
    # parts that are no detail: an opening ("حسناً", "ok") or the label of the address that follows ("بريدي")
    before = [part for part in _PARTS.split(text[: email.start()]) if part.strip() and not _NO_DETAIL.match(part)]
    if before:
        # "Хочу с ними познакомиться. Меня зовут Дилноза Рахимова, …", "I'm Dr Alberto Mondlane, …": the name
        # is what follows the last sentence and the words that introduce it
        name = before[0]
        ends = [m.end() for m in _SENTENCE_END.finditer(name)]
        name = re.sub(r"^\s*" + SELF_INTRODUCTION, "", name[ends[-1] :] if ends else name)
        before[0] = name if name.strip() else before[0]
    after = text[email.end() :].strip(" .,;:\n،؛")
    labelled = _LABELLED.match(after.removeprefix("و"))  # "…، والرسالة: نرغب …"
    if labelled and _LABEL_SLOTS.get(" ".join(labelled.group("label").casefold().split())) == "intro_message":
        after = labelled.group("value").strip()  # "… a@b.org. Message : nous souhaitons …"
    after = without_consent(after) if after else after
    before = [_without_label(part) for part in before]
    if len(before) > 3:
        # "Mwila Banda, Department of Fisheries, Ministry of Fisheries and Livestock, Zambia, m.banda@…": the
        # organisation was written with commas; a last part that names a job is the role
        role = [before.pop()] if _ROLE_WORDS.search(before[-1]) else []
        before = [before[0], ", ".join(part.strip() for part in before[1:]), *role]
    if len(before) == 3 and not _ROLE_WORDS.search(before[2]) and geography().country_code(before[2].strip(" .")):
        before = [before[0], f"{before[1].strip()}, {before[2].strip()}"]  # "…, Direction de la santé, Niger, a@b.ne"
    if not 2 <= len(before) <= 3:
        return {}
    if len(before) >= 2:
        before[1] = _FROM.sub("", before[1])  # "…، من وزارة الصحة", "…, from the Ministry of Health"
    found: dict[str, str] = {}
    try:
        for slot, part in zip(order, before):
            found[slot] = details[slot].clean(part.strip())
        found["requester_email"] = details["requester_email"].clean(email.group())
    except InvalidRequest:
        return {}
    if after:
        try:
            found["intro_message"] = details["intro_message"].clean(after)
        except InvalidRequest:
            pass  # asked again as its own question
    return {slot: value for slot, value in found.items() if value}


def labelled_correction(text: str, details: dict[str, Detail]) -> tuple[Detail, str] | None:
    """A correction that labels the detail it gives ("عفواً، الاسم الصحيح: محمد صالح", "the correct email: a@b.org")."""
    labelled = _LABELLED.match(text or "")
    slot = _LABEL_SLOTS.get(" ".join(labelled.group("label").casefold().split())) if labelled else None
    if slot not in details:
        return None
    value = labelled.group("value").strip()
    return details[slot], (value if slot in FREE_TEXT else value.rstrip(" .!؟?"))


def apply_correction(detail: Detail, value: str | None, dispatcher: CollectingDispatcher, t: Texts | None = None) -> list[dict[str, Any]]:
    """The new value when it is given and acceptable; otherwise the detail is cleared, to be asked again."""
    t = t or Texts("en")
    label = t(f"label.{detail.slot}")
    if value is not None:
        try:
            cleaned = detail.clean(value)
        except InvalidRequest as exc:
            dispatcher.utter_message(text=detail.problem(exc, value, t))
        else:
            dispatcher.utter_message(text=t("detail.changed", label=label))
            return [SlotSet(detail.slot, cleaned)]
    else:
        dispatcher.utter_message(text=t("detail.fix", label=label))
    return [SlotSet(detail.slot, None)]
