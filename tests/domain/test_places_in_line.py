"""`tickets.places_in_line` (the citizens' sockets' places, one query for all) gives
the answer `tickets.place_in_line` gives for each ticket, whatever the line holds."""

from __future__ import annotations

import asyncpg

from clearhall.server.domain import tickets
from tests.conftest import Api
from tests.helpers import valid_id

# service and category of each ticket taken, in this order (green channel first in line)
MIX = [
    ("A", "normal"), ("C", "elderly"), ("A", "pregnant"), ("B", "normal"), ("A", "normal"),
    ("C", "normal"), ("A", "disabled"), ("C", "normal"), ("B", "military"), ("A", "normal"),
]  # fmt: skip


async def agree(conn: asyncpg.Connection, hall_id: int, ids: list[str]) -> None:
    places = await tickets.places_in_line(conn, hall_id, [*ids, "no-such-ticket"])
    assert "no-such-ticket" not in places
    assert set(places) == set(ids)
    for ticket_id in ids:
        found = await tickets.fetch(conn, hall_id, ticket_id)
        assert found is not None
        t = found[0]
        ahead, wait = await tickets.place_in_line(conn, hall_id, t)
        one = tickets.Place(t.number, t.status, ahead, wait, t.window)
        assert places[ticket_id] == one, (t.number, t.service, t.category)


async def test_places_in_line_agree_with_place_in_line(api: Api, conn: asyncpg.Connection) -> None:
    hall_id = await conn.fetchval("SELECT id FROM halls")
    await api.sign_in("s1", 1)
    await api.sign_in("s4", 4)
    # Service A has a history of handling times (the median counts), C has none (the typical time).
    for _ in range(6):
        await api.issue("A")
        assert (await api.window("s1", 1, "call-next")).status == 200
        assert (await api.window("s1", 1, "finish")).status == 200
    await conn.execute(
        "UPDATE tickets SET called_at = finished_at - (seq * interval '47 seconds') WHERE status = 'done'"
    )
    ids = []
    for i, (service, category) in enumerate(MIX):
        real_name = {"id_number": valid_id(9000 + i)} if service == "B" else {}  # B: 实名取号
        ids.append((await api.issue(service, category, **real_name))["id"])
    await agree(conn, hall_id, ids)

    # called, transferred (keeping its place in C's line), called again; a window paused
    assert (await api.window("s1", 1, "call-next")).status == 200
    await agree(conn, hall_id, ids)
    assert (await api.window("s1", 1, "transfer", {"service": "C"})).status == 200
    assert (await api.window("s4", 4, "call-next")).status == 200
    assert (await api.window("s4", 4, "no-show")).status in (200, 409)  # too early after the call: 409
    assert (await api.window("s1", 1, "call-next")).status == 200
    assert (await api.window("s1", 1, "pause", {"reason": "午休"})).status == 200
    await agree(conn, hall_id, ids)

    # B is served by nobody signed in (no estimate), then not offered at all (no load row)
    await conn.execute("UPDATE services SET active = false WHERE code = 'B'")
    await agree(conn, hall_id, ids)
