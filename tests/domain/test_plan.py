"""Call-next must read its index in order, not sort the waiting set (20,000 waiting)."""

from __future__ import annotations

import json

import asyncpg

from clearhall.server.domain.calling import CALL_NEXT


async def test_call_next_uses_the_index_without_sorting(conn: asyncpg.Connection) -> None:
    hall_id = await conn.fetchval("SELECT id FROM halls")
    services = [r["id"] for r in await conn.fetch("SELECT id FROM services ORDER BY code")]
    # 20,000 waiting tickets over three services, a fifth of them green channel.
    await conn.execute(
        """
        INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category,
                             priority, status, order_at, key_hash)
        SELECT 'bulk' || i, $1, s, s, current_date, i, 'X' || i,
               CASE WHEN i % 5 = 0 THEN 'elderly' ELSE 'normal' END, i % 5 = 0, 'waiting',
               now() - (i || ' seconds')::interval, '\\x00'
        FROM generate_series(1, 20000) i, LATERAL (SELECT ($2::int[])[1 + i % 3] AS s) pick
        """,
        hall_id, services,
    )  # fmt: skip
    await conn.execute("ANALYZE tickets")
    staff = await conn.fetchval("SELECT id FROM staff ORDER BY id LIMIT 1")
    # window 2 serves A first; its run of green-channel calls decides the direction
    await conn.execute("UPDATE windows SET staff_id = $1 WHERE number = 2", staff)
    for green_first in (True, False):
        await conn.execute("UPDATE windows SET priority_run = $1 WHERE number = 2", 0 if green_first else 9)
        claim = conn.transaction()
        await claim.start()
        plan_json = await conn.fetchval(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + CALL_NEXT,
            hall_id, 2, 3, staff, False, "staff", staff, "plan test", "plan_test", {}, {}, False,
        )  # fmt: skip
        await claim.rollback()  # ANALYZE really claimed a ticket: put it back
        plan = json.loads(plan_json) if isinstance(plan_json, str) else plan_json
        text = json.dumps(plan)
        index, other = ("tickets_waiting_green_first", "tickets_waiting_normal_first")[
            :: 1 if green_first else -1
        ]
        # (the window's own services are sorted: a handful of rows, never tickets)
        sorts = [n for n in walk(plan[0]["Plan"]) if n["Node Type"] == "Sort"]
        assert not any(m.get("Relation Name") == "tickets" for n in sorts for m in walk(n)), text
        # It stops after a handful of rows instead of reading all 20,000 ...
        scans = [n for n in walk(plan[0]["Plan"]) if n.get("Index Name") == index]
        assert scans and scans[0]["Actual Loops"] == 1 and scans[0]["Actual Rows"] <= 10, text
        # ... and the other direction's scan never runs.
        skipped = [n for n in walk(plan[0]["Plan"]) if n.get("Index Name") == other]
        assert all(n["Actual Loops"] == 0 for n in skipped), text


def walk(node: dict) -> list[dict]:
    out = [node]
    for child in node.get("Plans", []):
        out += walk(child)
    return out
