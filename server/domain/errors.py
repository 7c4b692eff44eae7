"""Domain errors: a stable code and a sentence, and nothing of HTTP.

Use cases raise `DomainError`; the HTTP layer maps each code to its status
once (`clearhall.server.api.middleware.STATUS`). Codes are the contract's
(CONTRACT §3) and never change; the sentence comes from the catalogue in
`messages`. A database constraint that means something (a unique violation)
becomes one of these where the query runs.
"""

from __future__ import annotations

from typing import Any, Final

from clearhall.server.domain import messages
from clearhall.server.domain.text import Text

INVALID_JSON: Final = "invalid_json"
INVALID_INPUT: Final = "invalid_input"
UNAUTHORIZED: Final = "unauthorized"
FORBIDDEN: Final = "forbidden"
NOT_FOUND: Final = "not_found"
METHOD_NOT_ALLOWED: Final = "method_not_allowed"
CONFLICT: Final = "conflict"
LIMIT_EXCEEDED: Final = "limit_exceeded"
TOO_LARGE: Final = "too_large"
RATE_LIMITED: Final = "rate_limited"
CLOSED: Final = "closed"
REQUEST_TIMEOUT: Final = "request_timeout"
UNAVAILABLE: Final = "unavailable"
INTERNAL: Final = "internal_error"


class DomainError(Exception):
    """An expected failure: a stable code, a sentence, and details such as the field."""

    def __init__(self, code: str, text: Text, **extra: Any) -> None:
        super().__init__(text.en)
        self.code = code
        self.text = text
        self.extra = extra


def invalid(text: Text, field: str | None = None) -> DomainError:
    return DomainError(INVALID_INPUT, text, **({"field": field} if field else {}))


def unauthorized(text: Text = messages.NEED_CREDENTIAL) -> DomainError:
    return DomainError(UNAUTHORIZED, text)


def forbidden(text: Text) -> DomainError:
    return DomainError(FORBIDDEN, text)


def not_found(text: Text) -> DomainError:
    return DomainError(NOT_FOUND, text)


def conflict(text: Text) -> DomainError:
    return DomainError(CONFLICT, text)


def limit_exceeded(text: Text) -> DomainError:
    return DomainError(LIMIT_EXCEEDED, text)
