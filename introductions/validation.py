"""The limits and validators of every detail a user gives (introductions and hand-offs), shared by the
conversation's forms and the service, so that nothing a form accepts is refused after consent."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

# Column sizes of the store, and the limits the forms tell users about.
NAME_MAX = 120
ORGANISATION_MAX = 200
ROLE_MAX = 120
EMAIL_MAX = 254
MESSAGE_MAX = 1000
TOPIC_MAX = 1000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LETTER = re.compile(r"[^\W\d_]")


class IntroductionError(Exception):
    """Base of the errors a caller turns into a reply; messages never contain the submitted values."""


class InvalidRequest(IntroductionError, ValueError):
    """A field failed validation; `field` names it so a form can ask for it again."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field} {problem}")


def identifier(field: str, value: str | None, limit: int) -> str:
    """An id from the caller (conversation, catalogue, key): kept exactly, apart from outer spaces."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(field, "is required")
    value = value.strip()
    if _CONTROL.search(value) or "\n" in value or "\t" in value:
        raise InvalidRequest(field, "contains control characters")
    if len(value) > limit:
        raise InvalidRequest(field, f"must be at most {limit} characters")
    return value


def line(field: str, value: str | None, limit: int, *, required: bool = True) -> str:
    """One line of text: whitespace (newlines included) collapsed, control characters refused."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(field, "must be text")
    if _CONTROL.search(value.replace("\n", " ").replace("\r", " ").replace("\t", " ")):
        raise InvalidRequest(field, "contains control characters")
    value = " ".join(value.split())
    if required and not value:
        raise InvalidRequest(field, "is required")
    if len(value) > limit:
        raise InvalidRequest(field, f"must be at most {limit} characters")
    return value


def paragraphs(field: str, value: str | None, limit: int) -> str:
    """Free text that may keep its line breaks."""
    if not isinstance(value, str):
        raise InvalidRequest(field, "is required" if value is None else "must be text")
    lines = [" ".join(part.split()) for part in value.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if _CONTROL.search(text.replace("\n", " ")):
        raise InvalidRequest(field, "contains control characters")
    if not text:
        raise InvalidRequest(field, "is required")
    if len(text) > limit:
        raise InvalidRequest(field, f"must be at most {limit} characters")
    return text


def email(value: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("email", "is required")
    try:
        # No DNS look-up (offline tests, slow resolvers); ASCII only, since not every SMTP relay speaks SMTPUTF8.
        normalized = validate_email(value.strip(), check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        raise InvalidRequest("email", "is not a valid email address") from None
    if len(normalized) > EMAIL_MAX:
        raise InvalidRequest("email", f"must be at most {EMAIL_MAX} characters")
    return normalized


def _words(text: str) -> int:
    return len([w for w in text.split() if _LETTER.search(w)])


# What the forms collect, as the service will store it. Each raises InvalidRequest.


def name(value: str | None) -> str:
    text = line("name", value, NAME_MAX)
    if not _LETTER.search(text) or text.startswith("/"):
        raise InvalidRequest("name", "must contain letters")
    return text


def organisation(value: str | None) -> str:
    text = line("organisation", value, ORGANISATION_MAX)
    if not _LETTER.search(text) or text.startswith("/"):
        raise InvalidRequest("organisation", "must contain letters")
    return text


def role(value: str | None) -> str | None:
    text = line("role", value, ROLE_MAX, required=False)
    if text.startswith("/"):
        raise InvalidRequest("role", "must contain letters")
    return text or None


def message(value: str | None, field: str = "message", limit: int = MESSAGE_MAX) -> str:
    text = paragraphs(field, value, limit)
    if _words(text) < 2 or text.startswith("/"):
        raise InvalidRequest(field, "must be a sentence or two")
    return text


def topic(value: str | None) -> str:
    return message(value, "topic", TOPIC_MAX)
