"""Cost bounded by today's rows, not by history (issue 13): the plans of the
queries that run all day, on a database holding a year of past days.

50,000 finished tickets and 100,000 log entries on the 365 days before today
(bench/past.py, chained like a real log's), a few hundred of today's rows,
ANALYZE; then each query runs under EXPLAIN (ANALYZE, FORMAT JSON) and no scan
of `tickets` or `action_log` may be a sequential scan or read more than
BOUND rows (today's are a few hundred, the past 50,000 and 100,000).

A query that does read history is a strict xfail naming the index that would
fix it: the test then fails the day the fix lands, to be turned back on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bench import past
from bench.workload import TOP_UP
from clearhall.server.domain import calling, card_acts, card_rules, figures, reports, tickets, views
from clearhall.server.domain import report_queries as q
from clearhall.server.domain.hall import Hall, load_hall
from clearhall.server.store import db
from clearhall.server.store.kinds import GREEN_CHANNEL
from tests.conftest import with_database

HISTORY = ("tickets", "action_log")
BOUND = 5_000
TODAY_WAITING, TODAY_DONE, TODAY_ENTRIES = 300, 100, 400

# -- today: some waiting tickets finished a few minutes ago, log entries of the last hour
FINISH_SOME = """
UPDATE tickets SET status = 'done', called_at = now() - interval '10 minutes',
       finished_at = now() - interval '2 minutes',
       window_id = (SELECT min(id) FROM windows WHERE hall_id = $1)
WHERE id IN (SELECT id FROM tickets WHERE hall_id = $1 AND status = 'waiting' LIMIT $2)
"""
TODAY_LOG = """
INSERT INTO action_log (hall_id, at, actor_kind, actor_name, window_number, ticket_id, ticket_number, action)
SELECT $1, now() - g * interval '5 seconds', 'staff', 'today', 1, t.id, t.number,
       (ARRAY['issue', 'call_next', 'finish', 'transfer', 'suspend'])[1 + g % 5]
FROM generate_series(1, $2) g
JOIN LATERAL (SELECT id, number FROM tickets WHERE hall_id = $1 AND day = (now() AT TIME ZONE $3)::date
              ORDER BY id OFFSET g % $4 LIMIT 1) t ON true
"""
# -- window 40, opened today (no entry of the past days names it): its staff member
# -- signed in an hour ago, at the counter and in the log, and it has done nothing since
NEW_WINDOW = """
WITH w AS (
    INSERT INTO windows (hall_id, number, staff_id)
    VALUES ($1, 40, (SELECT min(id) FROM staff WHERE hall_id = $1)) RETURNING id, number, staff_id
), served AS (
    INSERT INTO window_services SELECT w.id, s.id FROM w, services s WHERE s.hall_id = $1
), came AS (
    INSERT INTO attendance (hall_id, window_id, staff_id, signed_in_at)
    SELECT $1, w.id, w.staff_id, now() - interval '1 hour' FROM w
)
INSERT INTO action_log (hall_id, at, actor_kind, actor_id, actor_name, window_number, action)
SELECT $1, now() - interval '1 hour', 'staff', w.staff_id, 'today', w.number, 'sign_in' FROM w
"""
# -- the chain over the whole log, in id order (hashes are not checked here; their shape is)
CHAIN_ALL = """
INSERT INTO action_log_chain (hall_id, seq, entry_id, prev_hash, hash)
SELECT hall_id, row_number() OVER (ORDER BY id), id, repeat('0', 64), repeat('0', 64) FROM action_log
"""


@pytest.fixture(scope="module")
async def filled(pg_url: str, template: str) -> AsyncIterator[str]:
    """One database for the module (filling it takes seconds): the template's hall, a year of past days."""
    name = "clearhall_test_plans"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        conn = await asyncpg.connect(with_database(pg_url, name))
        try:
            await db.init_connection(conn)
            await fill(conn)
        finally:
            await conn.close()
        yield with_database(pg_url, name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


async def fill(conn: asyncpg.Connection) -> None:
    h = await load_hall(conn, "main")
    assert h is not None
    await past.fill(conn, h.id, h.timezone, 50_000, 100_000)
    services = [r["id"] for r in await conn.fetch("SELECT id FROM services WHERE hall_id = $1", h.id)]
    chosen = [services[i % len(services)] for i in range(TODAY_WAITING)]
    categories = ["elderly" if i % 5 == 0 else "normal" for i in range(TODAY_WAITING)]
    await conn.execute(TOP_UP, h.id, chosen, h.timezone, categories, list(GREEN_CHANNEL))
    await conn.execute(FINISH_SOME, h.id, TODAY_DONE)
    await conn.execute(TODAY_LOG, h.id, TODAY_ENTRIES, h.timezone, TODAY_WAITING)
    await conn.execute(NEW_WINDOW, h.id)
    await conn.execute(CHAIN_ALL)
    await conn.execute("ANALYZE")


def scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("Plans", []):
        found += scans(child)
    return found


def history_read(node: dict[str, Any]) -> str | None:
    """Why this plan node reads history, or None."""
    relation = node.get("Relation Name") or ""
    index = node.get("Index Name") or ""
    if relation not in HISTORY and not index.startswith(("tickets", "action_log")):
        return None
    read = (
        node.get("Actual Rows", 0)
        + node.get("Rows Removed by Filter", 0)
        + node.get("Rows Removed by Index Recheck", 0)
    ) * node.get("Actual Loops", 1)
    name = f"{node['Node Type']} on {relation or index}"
    if node["Node Type"] == "Seq Scan":
        return f"{name} ({read} rows)"
    return f"{name} read {read} rows" if read > BOUND else None


async def history_reads(conn: asyncpg.Connection, query: str, *args: object) -> list[str]:
    async with conn.transaction():
        plan = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", *args)
    tree = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    return [why for node in scans(tree) if (why := history_read(node))]


def today_bounds(h: Hall) -> tuple[datetime, datetime]:
    today = reports.today_in(h)
    return figures.day_bounds(today, today, h.timezone)


def queries(h: Hall, service_ids: list[int]) -> dict[str, tuple[str, tuple[object, ...]]]:
    start, end = today_bounds(h)
    today = reports.today_in(h)
    now, back = datetime.now(UTC), datetime.now(UTC) - card_rules.LOOKBACK
    since_day = back.astimezone(ZoneInfo(h.timezone)).date()
    return {
        "queue: SERVICE_LOAD": (tickets.SERVICE_LOAD, (h.id, None)),
        "queue: WINDOWS_STATE": (views.WINDOWS_STATE, (h.id,)),
        "queue: RECENT_CALLS": (views.RECENT_CALLS, (h.id, h.timezone)),
        "issue: AHEAD": (tickets.AHEAD, (h.id, service_ids[0], False, end, "zzz")),
        "call-next pick, green first": (calling.RULE_CHOICE[True], (h.id, service_ids)),
        "call-next pick, normal first": (calling.RULE_CHOICE[False], (h.id, service_ids)),
        "report: ENDED": (q.ENDED, (h.id, start, end)),
        "report: ISSUED": (q.ISSUED, (h.id, today, today)),
        "report: MOVES": (q.MOVES, (h.id, start, end)),
        "report: SERVICE_VISITS": (q.SERVICE_VISITS, (h.id, start, end)),
        "report: HEAD": (q.HEAD, (h.id, end)),
        "report: UNSEALED": (q.UNSEALED, (h.id, start, end)),
        "report: VISIT_COUNTS": (figures.VISIT_COUNTS, (h.id, start, end)),
        # the card rules, every 10 s in every process (server/carding.py)
        "cards: TIME_LIMIT": (card_rules.TIME_LIMIT_SQL, (h.id, now, since_day)),
        "cards: LONG_WAIT": (card_rules.LONG_WAIT_SQL, (h.id, now, back, 30)),
        "cards: IDLE": (card_rules.IDLE_SQL, (h.id, now, card_rules.WINDOW_ACTS, 10)),
        "cards: ABSENT": (card_rules.ABSENT_SQL, (h.id, now, back)),
        "cards: OUT_OF_ORDER": (card_acts.OUT_OF_ORDER_SQL, (h.id, now, back)),
        "cards: SUSPENDED": (card_acts.SUSPENDED_SQL, (h.id, now, back)),
        "cards: BAD_RATING": (card_acts.BAD_RATING_SQL, (h.id, now, back)),
    }


# The queries that read history today, each with the index that would bound it
# (a strict xfail: it fails the day the index lands, to be turned back on). None now:
# report_queries.ENDED scanned every ticket until schema.sql's tickets_ended.
KNOWN: dict[str, str] = {}
NAMES = [
    "queue: SERVICE_LOAD", "queue: WINDOWS_STATE", "queue: RECENT_CALLS", "issue: AHEAD",
    "call-next pick, green first", "call-next pick, normal first", "report: ENDED", "report: ISSUED",
    "report: MOVES", "report: SERVICE_VISITS", "report: HEAD", "report: UNSEALED", "report: VISIT_COUNTS",
    "cards: TIME_LIMIT", "cards: LONG_WAIT", "cards: IDLE", "cards: ABSENT", "cards: OUT_OF_ORDER",
    "cards: SUSPENDED", "cards: BAD_RATING",
]  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN[n])) if n in KNOWN else n
        for n in NAMES
    ],
)
async def test_reads_only_today(filled: str, name: str) -> None:
    conn = await asyncpg.connect(filled)
    try:
        await db.init_connection(conn)
        hall = await load_hall(conn, "main")
        assert hall is not None
        service_ids = [
            r["id"] for r in await conn.fetch("SELECT id FROM services WHERE hall_id = $1", hall.id)
        ]
        query, args = queries(hall, service_ids)[name]
        assert await history_reads(conn, query, *args) == []
    finally:
        await conn.close()
