"""Integrity signals over HTTP (CONTRACT §11): GET /api/signals?from=&to= (supervisors;
hall-local dates, default today, at most `signals.MOST_DAYS` days). What each
signal means, and what it does not prove, is docs/supervision.md.

An answer names applicants only by `ref` (a prefix of the keyed hash of their
ID or phone number); it never holds a number or a mask (`signal_rows`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from clearhall.server.api.query import query_days
from clearhall.server.api.routes import Access, Endpoint, ok
from clearhall.server.domain import signals
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.signal_rows import LogRow, RatingRow, Row, Signal, TicketRow
from clearhall.server.domain.tickets import local_iso
from clearhall.server.keys import HALL, READ_DB
from clearhall.server.store.hall_signals import SignalsConf


def row_json(row: Row, hall: Hall) -> dict[str, Any]:
    tz = hall.timezone
    if isinstance(row, TicketRow):
        return {
            "type": "ticket",
            "number": row.number,
            "service": row.service,
            "day": row.day.isoformat(),
            "status": row.status,
            "issued_at": local_iso(row.issued_at, tz),
            "called_at": local_iso(row.called_at, tz),
            "finished_at": local_iso(row.finished_at, tz),
            "window": row.window,
            "staff": {"username": row.staff, "name": row.staff_name} if row.staff else None,
            "issued_by": row.issued_by,
            "applicant": row.applicant,
            "proxy": row.proxy,  # who took it for the applicant (帮代办), by ref
            "phone": row.phone,
        }
    if isinstance(row, RatingRow):
        after = (row.rated_at - row.finished_at).total_seconds() if row.finished_at else None
        return {
            "type": "rating",
            "ticket": row.ticket,
            "service": row.service,
            "window": row.window,
            "staff": {"username": row.staff, "name": row.staff_name} if row.staff else None,
            "score": row.score,
            "channel": row.channel,
            "finished_at": local_iso(row.finished_at, tz),
            "rated_at": local_iso(row.rated_at, tz),
            "seconds_after_finish": round(after, 1) if after is not None else None,
            "after_visit": row.next_visit,
        }
    assert isinstance(row, LogRow)
    return {
        "type": "log",
        "id": row.id,
        "at": local_iso(row.at, tz),
        "action": row.action,
        "window": row.window,
        "ticket": row.ticket,
        "reason": row.reason,
        "rule_ticket": row.rule_ticket,
    }


def signal_json(s: Signal, hall: Hall) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "rule": s.rule,
        "from": s.first.isoformat(),
        "to": s.last.isoformat(),
        "about": s.about,
        "why": {"zh": s.why.zh, "en": s.why.en},
        "figures": s.figures,
        "thresholds": s.thresholds,
        "rows": [row_json(r, hall) for r in s.rows],
        "rows_total": s.rows_total,
    }


async def get_signals(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    first, last = query_days(request, hall.timezone, signals.MOST_DAYS)
    thresholds, found = await request.app[READ_DB].run(signals.find, hall, first, last)  # may lag
    return ok(answer(hall, first, last, thresholds, found))


def answer(
    hall: Hall, first: date, last: date, thresholds: SignalsConf, found: list[Signal]
) -> dict[str, Any]:
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "signals": [signal_json(s, hall) for s in found],
        "thresholds": thresholds.json() | {"daily_tickets_per_id": hall.daily_tickets_per_id},
    }


ROUTES = (
    Endpoint(
        "GET", "/api/signals", get_signals,
        "Integrity signals for hall-local days from…to (default today, at most 92 days): 黄牛 (one ID"
        " number, phone or kiosk taking more tickets than people do), possible 中介 (one applicant served"
        " again and again by the same staff member), 好差评 patterns (always 5 and seconds after the finish;"
        " pad ratings with no visit just finished), suspensions or out-of-order calls far above peers —"
        " each with the rows that raised it and why (docs/supervision.md)",
        Access.SUPERVISOR, tag="supervision", query=("from", "to"),
    ),
)  # fmt: skip
