"""Upgrading from the previous release (issue 13, Production item 4): a database
made by the release before migration 0012 (its schema.sql, kept as
schema_before_0012.sql, and the migrations it had, 0001–0011), holding a day of a
hall, is brought up by today's `db.apply_schema` as the owner's start does:
0012 and 0013 run once, the database ends up shaped exactly like a new one,
every row is still there, the action log's chain verifies with the same head,
and today's server starts on it, takes today's hall file and issues."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from clearhall.server.app import create_app
from clearhall.server.domain import integrity
from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.credentials import hasher
from tests.conftest import HALL_FILE, app_client, settings_for, with_database
from tests.helpers import eventually

PREVIOUS = Path(__file__).with_name("schema_before_0012.sql")
KIOSK_TOKEN = "previous-release-kiosk-token"
KEY = "previous-release-ticket-key"


@pytest.fixture
async def old_url(pg_url: str, template: str) -> AsyncIterator[str]:
    """A database as the previous release left it: its schema.sql, then 0001–0011."""
    name = f"clearhall_test_previous_{os.getpid()}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        url = with_database(pg_url, name)
        conn = await asyncpg.connect(url)
        await db.init_connection(conn)  # as the server's connections: jsonb as Python values
        try:
            await conn.execute(PREVIOUS.read_text(encoding="utf-8"))
            for version, migration, path in db.migrations():
                if version <= 11:  # what that release shipped, applied as its start did
                    await conn.execute(path.read_text(encoding="utf-8"))
                    await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2)", version, migration)
            await a_day_of_the_previous_release(conn)
        finally:
            await conn.close()
        yield url
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


async def a_day_of_the_previous_release(conn: asyncpg.Connection) -> None:
    """Yesterday in a hall, written as that release wrote it: tickets (one real-name),
    a rating, the action log chained."""
    await conn.execute("INSERT INTO installation (secret) VALUES ($1)", b"s" * 32)
    hall = await conn.fetchval("INSERT INTO halls (code, name) VALUES ('main', '旧址大厅') RETURNING id")
    services = [
        await conn.fetchval(
            "INSERT INTO services (hall_id, code, name, real_name_required) VALUES ($1, $2, $3, $4) RETURNING id",
            hall, code, name, real,
        )
        for code, name, real in (("A", "企业开办", False), ("B", "不动产登记", True))
    ]  # fmt: skip
    window = await conn.fetchval("INSERT INTO windows (hall_id, number) VALUES ($1, 1) RETURNING id", hall)
    await conn.execute("INSERT INTO window_services VALUES ($1, $2)", window, services[0])
    staff = await conn.fetchval(
        "INSERT INTO staff (hall_id, username, name, password_hash, role) VALUES ($1, 's1', '李娜', $2, 'staff')"
        " RETURNING id", hall, hasher.hash("password-s1"),
    )  # fmt: skip
    kiosk = await conn.fetchval(
        "INSERT INTO devices (hall_id, name, kind, token_hash) VALUES ($1, 'kiosk-1', 'kiosk', $2) RETURNING id",
        hall, hashlib.sha256(KIOSK_TOKEN.encode()).digest(),
    )  # fmt: skip
    yesterday = await conn.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date - 1")
    for seq, (service, status, id_hash) in enumerate(
        ((0, "done", None), (1, "done", b"i" * 32), (0, "waiting", None)), 1
    ):
        code = "AB"[service]
        await conn.execute(
            """
            INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category, priority,
                                 status, order_at, key_hash, id_hash, id_masked, issued_by_device, window_id,
                                 staff_id, called_at, finished_at)
            VALUES ($1, $2, $3, $3, $4, $5, $6, 'normal', false, $7, now() - interval '1 day', $8, $9, $10, $11,
                    $12, $13, CASE WHEN $7 = 'done' THEN now() END, CASE WHEN $7 = 'done' THEN now() END)
            """,
            f"old-ticket-{seq}", hall, services[service], yesterday, seq, f"{code}00{seq}", status,
            hashlib.sha256(f"{KEY}-{seq}".encode()).digest(), id_hash, "4306**********1234" if id_hash else None,
            kiosk, window if status == "done" else None, staff if status == "done" else None,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO ticket_counters VALUES ($1, $2, $3, $4) ON CONFLICT (service_id, day) DO UPDATE"
            " SET last = EXCLUDED.last", hall, services[service], yesterday, seq,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, ticket_id, ticket_number, action,"
            " details) VALUES ($1, 'device', $2, 'kiosk-1', $3, $4, 'issue', $5)",
            hall, kiosk, f"old-ticket-{seq}", f"{code}00{seq}", {"service": code},
        )  # fmt: skip
    await conn.execute(
        "INSERT INTO ratings (hall_id, ticket_id, service_id, window_id, staff_id, score, channel, issued_by_device)"
        " VALUES ($1, 'old-ticket-1', $2, $3, $4, 5, 'pad', $5)", hall, services[0], window, staff, kiosk,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, window_number, ticket_id,"
        " ticket_number, action) VALUES ($1, 'staff', $2, '李娜', 1, 'old-ticket-1', 'A001', 'finish')",
        hall, staff,
    )  # fmt: skip
    while await integrity.seal(conn, hall) > 0:
        pass


SHAPE = {
    "columns": """
        SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
               || ' ' || coalesce(column_default, '') FROM information_schema.columns
        WHERE table_schema = 'public' ORDER BY 1""",
    "constraints": """
        SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1""",
    "indexes": "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "triggers": """
        SELECT tgrelid::regclass::text || ' ' || pg_get_triggerdef(oid) FROM pg_trigger
        WHERE NOT tgisinternal ORDER BY 1""",
    "functions": """
        SELECT proname || ' ' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
        ORDER BY 1""",
}


async def shape(conn: asyncpg.Connection) -> dict[str, list[str]]:
    return {what: [r[0] for r in await conn.fetch(query)] for what, query in SHAPE.items()}


async def test_the_previous_releases_database_upgrades_in_place(
    old_url: str, conn: asyncpg.Connection
) -> None:
    old = await asyncpg.connect(old_url)
    try:
        await db.init_connection(old)
        before = {
            t: await old.fetch(f"SELECT * FROM {t} ORDER BY 1") for t in ("tickets", "ratings", "action_log")
        }
        hall = await old.fetchval("SELECT id FROM halls WHERE code = 'main'")
        chained = await integrity.verify(old, hall)
        assert chained.ok and chained.entries == 4
        assert await old.fetchval("SELECT to_regclass('appointments')") is None  # the past, indeed

        assert await db.apply_schema(old) == [12, 13]  # a start of today's server, as the owner
        assert await db.apply_schema(old) == []  # and the next start changes nothing

        assert await shape(old) == await shape(conn)  # conn: a database made new by today's schema
        for table, rows in before.items():
            after = await old.fetch(f"SELECT * FROM {table} ORDER BY 1")
            assert [{k: r[k] for k in rows[0].keys()} for r in after] == [dict(r) for r in rows], table
        ticket = await old.fetchrow("SELECT * FROM tickets WHERE id = 'old-ticket-2'")
        assert ticket is not None and ticket["proxy_id_hash"] is None and ticket["proxy_id_masked"] is None
        assert await old.fetchval("SELECT open_days FROM halls WHERE id = $1", hall) == "workdays"
        assert await old.fetchval("SELECT bool_or(appointments) FROM services") is False
        assert await old.fetchval("SELECT count(*) FROM retention_rules") == 0  # the default until a start
        assert chained.head is not None
        anchor = (chained.head_seq, chained.head)
        assert (await integrity.verify(old, hall, anchor)).ok
    finally:
        await old.close()

    # today's server on the upgraded database, with today's hall file (the same hall code)
    assert hallfile.load(HALL_FILE).code == "main"
    app = create_app(settings_for(old_url, config=HALL_FILE))
    async with app_client(app) as (_, api):
        r = await api.post("/api/tickets", {"service": "A"}, token="test-kiosk-token-1")
        assert r.status == 201 and r.body["ticket"]["number"] == "A001", r.body  # today's first
        mine = await api.get(f"/api/tickets/old-ticket-3?key={KEY}-3")  # yesterday's key still opens it
        assert mine.status == 200 and mine.body["ticket"]["number"] == "A003", mine.body
        boss = await api.login("boss")

        async def chained_on() -> bool:  # today's issue is chained after yesterday's head
            verified = (await api.get("/api/audit/verify", token=boss)).body
            assert verified["ok"], verified
            return bool(verified["entries"] >= 5)

        await eventually(chained_on)
        yesterday = await api.get("/api/reports/daily?day=" + str(ticket["day"]), token=boss)
        assert yesterday.status == 200, yesterday.body
    check = await asyncpg.connect(old_url)
    try:
        assert await check.fetchval("SELECT personal_days FROM retention_rules") == 180
        assert ticket["day"] + timedelta(days=1) == await check.fetchval(
            "SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date"
        )
        await hall_apply.apply(check, hallfile.load(HALL_FILE))  # a second load changes nothing new
    finally:
        await check.close()


async def test_migration_0013_on_a_database_made_with_0012(conn: asyncpg.Connection) -> None:
    """A database made after 0012 and before 0013 had bookings whose code and ID number
    were NOT NULL: 0013 lets the purge erase them, and leaves it like a new one."""
    new = await shape(conn)
    await conn.execute("DROP TABLE retention_rules")
    await conn.execute(
        "ALTER TABLE appointments ALTER COLUMN code_hash SET NOT NULL, ALTER COLUMN id_hash SET NOT NULL,"
        " ALTER COLUMN id_masked SET NOT NULL"
    )
    await conn.execute("DELETE FROM schema_migrations WHERE version = 13")
    assert await shape(conn) != new
    assert await db.apply_schema(conn) == [13]
    assert await shape(conn) == new
