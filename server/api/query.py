"""Reading query parameters the same way everywhere: a 400 in the contract's shape
naming the parameter, never a 500 (ASCII digits only, bounded numbers, ISO dates)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from clearhall.server.api.routes import ascii_number
from clearhall.server.domain import errors, messages


def query_int(request: web.Request, name: str, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    number = ascii_number(raw, high)
    if number is None or number < low:
        raise errors.invalid(messages.QUERY_NOT_INTEGER(name=name, low=low, high=high), name)
    return number


def query_date(request: web.Request, name: str) -> date | None:
    if not request.query.get(name):
        return None
    try:
        return date.fromisoformat(request.query[name])
    except ValueError:
        raise errors.invalid(messages.QUERY_NOT_DATE(name=name), name) from None


def query_word(request: web.Request, name: str) -> str | None:
    value = request.query.get(name) or None
    if value is not None and not re.fullmatch(r"[A-Za-z0-9_]{1,32}", value):
        raise errors.invalid(messages.QUERY_WRONG_FORMAT(name=name), name)
    return value


def query_days(request: web.Request, timezone: str, most_days: int) -> tuple[date, date]:
    """?from=&to= as hall-local dates: `to` defaults to today and `from` to `to`; at most
    `most_days` days, `to` not before `from`."""
    last = query_date(request, "to") or datetime.now(ZoneInfo(timezone)).date()
    first = query_date(request, "from") or last
    if last < first:
        raise errors.invalid(messages.TO_BEFORE_FROM, "to")
    if (last - first).days >= most_days:
        raise errors.invalid(messages.RANGE_TOO_LONG(days=most_days), "from")
    return first, last
