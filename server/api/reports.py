"""Reports over HTTP (CONTRACT §11; docs/supervision.md, "Reports"), for supervisors:

    GET /api/reports/daily?day=YYYY-MM-DD&format=json|csv|xlsx     (default: today, json)
    GET /api/reports/monthly?month=YYYY-MM&format=json|csv|xlsx    (default: this month, json)

Hall-local days. The handler parses the query, asks `domain/reports` for the
report and hands it to one renderer (`report_formats`); a CSV or workbook is
an attachment with an ASCII and a UTF-8 (RFC 5987) file name. Reports read the
replica when there is one (docs/replica.md: they may lag by a few seconds).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Final

from aiohttp import web

from clearhall.server.api.report_formats import (
    CSV_TYPE,
    XLSX_TYPE,
    content_disposition,
    report_csv,
    report_json,
    report_xlsx,
)
from clearhall.server.api.routes import Access, Endpoint, ok
from clearhall.server.domain import errors, messages, reports
from clearhall.server.keys import HALL, READ_DB

FORMATS: Final = ("json", "csv", "xlsx")
DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTH: Final = re.compile(r"([0-9]{4})-([0-9]{2})")


def query_format(request: web.Request) -> str:
    value = request.query.get("format") or "json"
    if value not in FORMATS:
        raise errors.invalid(messages.QUERY_NOT_A_CHOICE(name="format", choices=", ".join(FORMATS)), "format")
    return value


def query_day(request: web.Request, today: date) -> date:
    raw = request.query.get("day")
    if not raw:
        return today
    try:
        if not DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise errors.invalid(messages.QUERY_NOT_DATE(name="day"), "day") from None


def query_month(request: web.Request, today: date) -> tuple[int, int]:
    raw = request.query.get("month")
    if not raw:
        return today.year, today.month
    found = MONTH.fullmatch(raw)
    if found is None or not 1 <= int(found[2]) <= 12:
        raise errors.invalid(messages.QUERY_NOT_MONTH(name="month"), "month")
    return int(found[1]), int(found[2])


async def render(report: reports.Report, fmt: str) -> web.Response:
    if fmt == "json":
        return ok(report_json(report))
    if fmt == "csv":
        body, content_type, charset = report_csv(report), CSV_TYPE, "utf-8"
    else:
        body, content_type, charset = await asyncio.to_thread(report_xlsx, report), XLSX_TYPE, None
    headers = {"Content-Disposition": content_disposition(report, fmt), "Cache-Control": "no-store"}
    return web.Response(body=body, content_type=content_type, charset=charset, headers=headers)


async def get_daily(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    day = query_day(request, reports.today_in(hall))
    fmt = query_format(request)
    report = await request.app[READ_DB].run(reports.daily, hall, day)  # may lag: docs/replica.md
    return await render(report, fmt)


async def get_monthly(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    year, month = query_month(request, reports.today_in(hall))
    fmt = query_format(request)
    report = await request.app[READ_DB].run(reports.monthly, hall, year, month)
    return await render(report, fmt)


ROUTES = (
    Endpoint(
        "GET", "/api/reports/daily", get_daily,
        "The daily report of a hall-local day (default today) as json, csv or xlsx: per service, window and"
        " staff member — issued, served, no-shows, transfers, suspensions, wait and service time (average,"
        " 90th percentile), cards, the 好差评 figures — and the integrity log's head for the day"
        " (docs/supervision.md, \"Reports\")",
        Access.SUPERVISOR, tag="reports", query=("day", "format"),
    ),
    Endpoint(
        "GET", "/api/reports/monthly", get_monthly,
        "The monthly report of a calendar month (default this month), the same figures as the daily one",
        Access.SUPERVISOR, tag="reports", query=("month", "format"),
    ),
)  # fmt: skip
