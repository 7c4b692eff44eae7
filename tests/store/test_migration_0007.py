"""Migration 0007 (好差评): a database made before it ends up like a new one, its
ratings' `source` honestly become `channel` (citizen → phone, pad → pad), and
its old follow-up cases keep their rating, deadline and status."""

from __future__ import annotations

import asyncpg

from clearhall.server.store import db

TABLES = ("halls", "services", "tickets", "ratings", "follow_ups", "complaints", "follow_up_steps")

COLUMNS = """
SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY($1) ORDER BY table_name, column_name
"""
CONSTRAINTS = """
SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
FROM pg_constraint WHERE conrelid::regclass::text = ANY($1) ORDER BY 1, 2
"""

# The shape of the database before 0007, as schema.sql and migrations 0001–0006 left it
# (forwarding's triggers, which read halls.forward_url, came after it).
MAKE_OLD = """
DROP TRIGGER IF EXISTS ratings_forward ON ratings;
DROP TRIGGER IF EXISTS follow_ups_forward ON follow_ups;
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_one_subject;
DROP TABLE follow_up_steps;
ALTER TABLE follow_ups DROP COLUMN kind, DROP COLUMN complaint_id, DROP COLUMN staff_id, DROP COLUMN window_id,
    DROP COLUMN contact, DROP COLUMN overdue_at, DROP COLUMN satisfaction, DROP COLUMN satisfaction_at;
DROP TABLE complaints;
ALTER TABLE follow_ups ADD COLUMN note text;
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_status_check;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_status_check CHECK (status IN ('open', 'contacted', 'closed'));
ALTER TABLE ratings DROP CONSTRAINT ratings_channel_check;
ALTER TABLE ratings RENAME COLUMN channel TO source;
ALTER TABLE ratings ADD CONSTRAINT ratings_source_check CHECK (source IN ('citizen', 'pad'));
ALTER TABLE ratings DROP COLUMN reasons, DROP COLUMN excluded;
ALTER TABLE tickets DROP COLUMN case_number;
ALTER TABLE services DROP COLUMN matter_code;
ALTER TABLE halls DROP COLUMN rating_bad_reasons, DROP COLUMN rate_within_days, DROP COLUMN follow_up_days,
    DROP COLUMN contact_retention_days, DROP COLUMN default_after_days, DROP COLUMN default_score,
    DROP COLUMN calendar_holidays, DROP COLUMN calendar_workdays, DROP COLUMN forward_url,
    DROP COLUMN forward_token_env, DROP COLUMN region_code, DROP COLUMN dept_code, DROP COLUMN dept_name;
"""

OLD_TICKET = """
INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category, priority, status,
                     order_at, key_hash, window_id, staff_id, finished_at)
SELECT $1, h.id, s.id, s.id, current_date, $2::int, 'A' || $2::int, 'normal', false, 'done', now(), '\\x00'::bytea,
       w.id, st.id, now()
FROM halls h JOIN services s ON s.hall_id = h.id AND s.code = 'A'
JOIN windows w ON w.hall_id = h.id AND w.number = 1 JOIN staff st ON st.username = 's1'
"""


async def test_an_old_database_becomes_like_a_new_one(conn: asyncpg.Connection) -> None:
    new_columns = await conn.fetch(COLUMNS, list(TABLES))
    new_constraints = await conn.fetch(CONSTRAINTS, list(TABLES))

    await conn.execute(MAKE_OLD)
    for n, source in enumerate(("citizen", "pad", "citizen"), 1):
        await conn.execute(OLD_TICKET, f"old-{n}", n)
        await conn.execute(
            "INSERT INTO ratings (hall_id, ticket_id, service_id, window_id, staff_id, score, source)"
            " SELECT hall_id, id, service_id, window_id, staff_id, $2, $3 FROM tickets WHERE id = $1",
            f"old-{n}", 1 if n == 3 else 5, source,
        )  # fmt: skip
    await conn.execute(
        "INSERT INTO follow_ups (hall_id, rating_id, status, due_at) SELECT hall_id, id, 'contacted',"
        " created_at + interval '3 days' FROM ratings WHERE ticket_id = 'old-3'"
    )
    due_before = await conn.fetchval("SELECT due_at FROM follow_ups")
    await conn.execute("DELETE FROM schema_migrations WHERE version = 7")

    assert await db.apply_schema(conn) == [7]

    assert await conn.fetch(COLUMNS, list(TABLES)) == new_columns
    assert await conn.fetch(CONSTRAINTS, list(TABLES)) == new_constraints
    channels = await conn.fetch("SELECT ticket_id, channel FROM ratings ORDER BY ticket_id")
    assert [(r["ticket_id"], r["channel"]) for r in channels] == [
        ("old-1", "phone"), ("old-2", "pad"), ("old-3", "phone")
    ]  # fmt: skip
    case = await conn.fetchrow(
        "SELECT f.*, st.username FROM follow_ups f JOIN staff st ON st.id = f.staff_id"
    )
    assert case is not None and case["kind"] == "rating" and case["status"] == "open"
    assert case["due_at"] == due_before and case["username"] == "s1"
    reasons = await conn.fetchval("SELECT rating_bad_reasons FROM halls")
    assert reasons == ["态度冷漠", "办事拖拉", "一次性告知不到位", "多次跑动", "收费不合理", "其他"]
    # A second start changes nothing.
    assert await db.apply_schema(conn) == []
