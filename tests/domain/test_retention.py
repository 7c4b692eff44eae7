"""Data retention (issue 13, Production item 4): a visit's ID and phone numbers,
its proxy's and its key are erased once its day is `[retention] personal_days`
past, by every process's housekeeping; recent visits keep theirs, and the action
log is never touched (its chain still verifies afterwards).

The past is made by moving rows' days back through `conn` (a superuser)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp.test_utils import TestServer

from clearhall.server import housekeeping
from clearhall.server.domain import integrity, retention
from clearhall.server.keys import DB, HALL
from tests.conftest import SECRETS, Api
from tests.helpers import valid_id

PERSONAL = ("id_hash", "id_masked", "phone_hash", "phone_masked", "proxy_id_hash", "proxy_id_masked")
BOOKING_PERSONAL = ("code_hash", "id_hash", "id_masked", "phone_hash", "phone_masked")
TOMORROW = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)


async def age(conn: asyncpg.Connection, table: str, ids: list[Any], days: int) -> None:
    """Move rows `days` into the past (their day and their times)."""
    if table == "tickets":
        await conn.execute(
            "UPDATE tickets SET day = day - $2::int, issued_at = issued_at - make_interval(days => $2),"
            " order_at = order_at - make_interval(days => $2) WHERE id = ANY($1)", ids, days,
        )  # fmt: skip
    elif table == "appointments":
        await conn.execute(
            "UPDATE appointments SET day = day - $2::int, slot = slot - make_interval(days => $2),"
            " slot_end = slot_end - make_interval(days => $2) WHERE id = ANY($1)", ids, days,
        )  # fmt: skip
    else:
        await conn.execute(
            f"UPDATE {table} SET created_at = created_at - make_interval(days => $2) WHERE id = ANY($1)",
            ids, days,
        )  # fmt: skip


async def from_scratch(conn: asyncpg.Connection) -> None:
    """As if the purge had never run: the server's first sweep, at its start, found
    nothing old and noted so; rows moved into the past since are behind that mark
    (in a hall, no row is ever made in the past: tickets are today's, bookings ahead)."""
    await conn.execute("UPDATE retention_rules SET purged_before = NULL")


async def log_rows(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    rows = await conn.fetch("SELECT * FROM action_log ORDER BY id")
    chain = await conn.fetch("SELECT * FROM action_log_chain ORDER BY seq")
    return [tuple(r.values()) for r in rows] + [tuple(r.values()) for r in chain]


async def test_old_visits_lose_their_personal_data_and_the_log_stays(
    server: TestServer, api: Api, conn: asyncpg.Connection
) -> None:
    hall = server.app[HALL]
    old = await api.issue("B", id_number=valid_id(1), phone="13812345678")
    proxied = await api.issue("B", id_number=valid_id(2), proxy_id_number=valid_id(3))
    recent = await api.issue("B", id_number=valid_id(4), phone="13912345678")
    r = await api.post("/api/appointments", {"service": "A", "slot": f"{TOMORROW}T10:00:00+08:00",
                                             "id_number": valid_id(5), "phone": "13712345678"})  # fmt: skip
    assert r.status == 201, r.body
    booking = r.body["appointment"]
    SECRETS.add(booking["code"])
    r = await api.post("/api/complaints", {"text": "取号机坏了"})
    assert r.status == 201, r.body
    complaint = r.body["complaint"]

    await age(conn, "tickets", [old["id"], proxied["id"]], 181)
    await age(conn, "tickets", [recent["id"]], 179)  # one day short of the default 180
    await age(conn, "appointments", [booking["id"]], 200)
    await age(conn, "complaints", [complaint["id"]], 200)
    await from_scratch(conn)
    while await integrity.seal(conn, hall.id) > 0:
        pass
    log_before = await log_rows(conn)
    # the booking's entry holds its masked number: it stays (docs/operating.md says so)
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE details ? 'id_masked'") == 1

    purged = await housekeeping.sweep_once(server.app[DB], hall)  # as the server's role does it

    assert (purged.tickets, purged.appointments, purged.complaints) == (2, 1, 1)
    for ticket in (old, proxied):
        row = await conn.fetchrow("SELECT * FROM tickets WHERE id = $1", ticket["id"])
        assert row is not None
        assert all(row[c] is None for c in PERSONAL) and row["key_hash"] == b"", dict(row)
        assert row["number"] == ticket["number"] and row["status"] == "waiting"  # the visit stays
        assert (await api.get(f"/api/tickets/{ticket['id']}?key={ticket['key']}")).status == 401
    kept = await conn.fetchrow("SELECT * FROM tickets WHERE id = $1", recent["id"])
    assert kept is not None
    assert all(kept[c] is not None for c in ("id_hash", "id_masked", "phone_hash", "phone_masked"))
    assert (await api.get(f"/api/tickets/{recent['id']}?key={recent['key']}")).status == 200
    gone = await conn.fetchrow("SELECT * FROM appointments WHERE id = $1", booking["id"])
    assert gone is not None
    assert all(gone[c] is None for c in BOOKING_PERSONAL) and gone["status"] == "booked"
    holder = f"/api/appointments/{booking['id']}?code={booking['code']}"
    assert (await api.get(holder)).status == 404
    assert await conn.fetchval("SELECT key_hash FROM complaints WHERE id = $1", complaint["id"]) is None

    # the log and its chain: not one byte changed, and the chain verifies
    assert await log_rows(conn) == log_before
    while await integrity.seal(conn, hall.id) > 0:
        pass
    verdict = await integrity.verify(conn, hall.id)
    assert verdict.ok and verdict.entries == len(await conn.fetch("SELECT id FROM action_log"))

    # a second sweep finds nothing more; a day later the recent ticket goes too
    assert not (await housekeeping.sweep_once(server.app[DB], hall)).any
    await conn.execute("UPDATE retention_rules SET personal_days = 178 WHERE hall_id = $1", hall.id)
    assert (await housekeeping.sweep_once(server.app[DB], hall)).tickets == 1


async def test_every_day_is_purged_once_with_processes_racing(
    server: TestServer, api: Api, conn: asyncpg.Connection
) -> None:
    """Tickets over 25 days, purged a week per transaction by two purges at once (as
    two processes would): each exactly once, and the purge remembers how far it came."""
    hall = server.app[HALL]
    tickets = [await api.issue("A", phone=f"138000000{n:02d}") for n in range(25)]
    for n, t in enumerate(tickets):
        await age(conn, "tickets", [t["id"]], 200 + n)
    await from_scratch(conn)
    pool = server.app[DB]

    async def one() -> retention.Purged:
        async with pool.acquire() as own:
            return await retention.purge(own, hall.id, hall.timezone)

    first, second = await asyncio.gather(one(), one())
    assert first.tickets + second.tickets == 25
    assert await conn.fetchval("SELECT count(*) FROM tickets WHERE phone_hash IS NOT NULL") == 0
    reached = await conn.fetchval("SELECT purged_before FROM retention_rules WHERE hall_id = $1", hall.id)
    today = await conn.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
    assert reached == today - timedelta(days=180)

    # a shorter span, set later, reaches the days in between at the next purge; a
    # longer one gives nothing back
    late = await api.issue("A", phone="13800000099")
    await age(conn, "tickets", [late["id"]], 100)
    await conn.execute("UPDATE retention_rules SET personal_days = 90 WHERE hall_id = $1", hall.id)
    assert (await one()).tickets == 1
    await conn.execute("UPDATE retention_rules SET personal_days = 365 WHERE hall_id = $1", hall.id)
    assert not (await one()).any
    assert await conn.fetchval("SELECT count(*) FROM tickets WHERE phone_hash IS NOT NULL") == 0
