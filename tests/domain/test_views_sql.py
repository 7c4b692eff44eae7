"""A call-next's own statement sends its events, built in SQL (calling.CALL_NEXT):
they must be exactly what Python would have sent (views.window_view,
views.public_ticket, events.notification), for every kind of window."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg

from clearhall.server.domain import events
from clearhall.server.domain.action_log import Actor
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.calling import call_next
from clearhall.server.domain.hall import Hall, load_hall
from clearhall.server.domain.issuing import Issued, Order, issue
from clearhall.server.domain.views import public_ticket, window_view, window_view_sql
from clearhall.server.domain.window import Call, Window
from clearhall.server.domain.window_calls import ticket_events, transition
from clearhall.server.store import db
from clearhall.server.store.kinds import ActorKind

T = TypeVar("T")

STATES = itertools.product(
    (None, "李娜"),  # staff
    (None, True, False),  # party member
    (False, True),  # paused
    (None, "A007"),  # current number
    ([], ["A"], ["A", "C"]),  # services
    (None, "接电话"),  # pause reason
)


async def test_the_window_in_sql_is_the_window_in_python(conn: asyncpg.Connection) -> None:
    expression = window_view_sql("w", "w.current_number")
    for staff, party, paused, current, services, reason in STATES:
        w = Window(
            id=1, number=3, staff_id=1 if staff else None, staff_name=staff, party_member=party,
            paused=paused, pause_reason=reason, current_ticket_id="x" if current else None,
            current_number=current, priority_run=0, service_ids=[], service_codes=services,
        )  # fmt: skip
        row = await conn.fetchval(
            f"SELECT {expression} FROM (SELECT $1::int AS number, $2::text AS staff_name,"
            " $3::bool AS party_member, $4::bool AS paused, $5::text AS pause_reason,"
            " $6::text AS current_number, $7::text[] AS service_codes) w",
            w.number, staff, party, paused, reason, current, services,
        )  # fmt: skip
        assert row == window_view(w), (w, row)


async def s1_at_window_1(conn: asyncpg.Connection, category: str) -> tuple[Hall, Principal, Issued]:
    """Hall "main" with one ticket of A waiting and s1 signed in at window 1."""
    hall = await load_hall(conn, "main")
    assert hall is not None
    secret = await db.installation_secret(conn)
    issued = await issue(conn, hall, secret, Actor(ActorKind.SYSTEM, None, "test"), Order("A", category), "x")
    staff_id = await conn.fetchval("SELECT id FROM staff WHERE username = 's1'")
    await conn.execute("UPDATE windows SET staff_id = $1 WHERE number = 1", staff_id)
    return hall, Principal(ActorKind.STAFF, staff_id, "李娜", "test", role="staff"), issued


async def heard_during(db_url: str, work: Awaitable[T]) -> tuple[T, list[dict[str, Any]]]:
    """What `work` does, and the events on the channel while it does it."""
    heard: list[dict[str, Any]] = []
    listener = await asyncpg.connect(db_url)
    await listener.add_listener(events.CHANNEL, lambda *a: heard.append(json.loads(a[3])))
    try:
        done = await work
        await listener.execute("SELECT 1")
        await asyncio.sleep(0.05)
    finally:
        await listener.close()
    return done, heard


async def test_the_events_of_a_call_next_are_what_python_would_send(
    conn: asyncpg.Connection, db_url: str
) -> None:
    hall, s1, issued = await s1_at_window_1(conn, "elderly")
    (w, ticket), heard = await heard_during(db_url, call_next(conn, hall, s1, 1))
    assert ticket is not None and ticket.number == issued.ticket.number
    wanted = [
        events.notification(
            hall.id, events.TICKET_CALLED, {"ticket": public_ticket(ticket), "window": 1, "recall": False}
        ),
        events.notification(hall.id, events.WINDOW_CHANGED, {"window": 1, "state": window_view(w)}),
    ]
    got = [e for e in heard if e.get("event") in ("ticket.called", "window.changed")]
    assert [drop_at(e) for e in got] == [drop_at(json.loads(e)) for e in wanted]


def drop_at(event: dict[str, Any]) -> dict[str, Any]:
    assert isinstance(event.pop("at"), str)
    return event


async def test_the_events_of_a_finish_are_what_python_would_send(
    conn: asyncpg.Connection, db_url: str
) -> None:
    hall, s1, _ = await s1_at_window_1(conn, "normal")
    await call_next(conn, hall, s1, 1, tell=False)
    (w, ticket), heard = await heard_during(db_url, transition(conn, hall, 1, s1, Call.FINISH, tell=True))
    wanted = [events.notification(hall.id, e, f) for e, f in ticket_events(Call.FINISH, ticket, 1)]
    wanted.append(events.notification(hall.id, events.WINDOW_CHANGED, {"window": 1, "state": window_view(w)}))
    assert [drop_at(e) for e in heard] == [drop_at(json.loads(e)) for e in wanted]
