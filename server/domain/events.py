"""The live events (CONTRACT §6): one catalogue, one way to publish.

Each event is defined once here, with who receives it and its fields; the hub
routes by this catalogue, the OpenAPI document lists it (`x-events`) and
docs/events.md is written from it (`python -m clearhall.server.domain.events`).

Events are published with pg_notify in the transaction that caused them, so
every server process sharing the database sees an event exactly when (and
only if) its change is committed. The notification carries the hall's id for
routing between halls; the hub removes it before a client sees the event.
Payloads stay small (PostgreSQL caps a notification at 8000 bytes).

A citizen's socket (the phone page) hears only about its own ticket: its
events, matched by the ticket's id or number, and `ticket.place`, which the
hub makes itself after each burst of events for the citizens connected to it,
in one query, and sends only where the place changed. The hall's other events
and the whole queue go to the hall's screens; thousands of phones neither
receive them nor read their ticket again because of them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from clearhall.server.store.db import Connection, notify_on_commit
from clearhall.server.store.kinds import DeviceKind

CHANNEL: Final = "clearhall_events"

# Who a socket belongs to, as the hub knows it.
DISPLAY, KIOSK, RATING, PRINTER = DeviceKind.DISPLAY, DeviceKind.KIOSK, DeviceKind.RATING, DeviceKind.PRINTER
STAFF, SUPERVISOR, CITIZEN = "staff", "supervisor", "citizen"
CLIENT_KINDS: Final = (DISPLAY, KIOSK, RATING, PRINTER, STAFF, SUPERVISOR, CITIZEN)
# Everyone watching the hall; the rating pads only watch their own window, a
# citizen only their own ticket.
SCREENS: Final = frozenset({DISPLAY, KIOSK, PRINTER, STAFF, SUPERVISOR})
# An event about one ticket: the hall's screens, and that ticket's citizen.
ABOUT_A_TICKET: Final = SCREENS | {CITIZEN}


@dataclass(frozen=True)
class Event:
    name: str
    audience: frozenset[str]
    fields: tuple[str, ...]
    about: str
    own_window: bool = False  # only the sockets of the event's `window` (the rating pad there)
    own_ticket: bool = False  # a citizen's socket only for its own ticket (`ticket.id` or `.number`)

    def payload(self, fields: dict[str, Any]) -> dict[str, Any]:
        if set(fields) != set(self.fields):
            raise ValueError(f"{self.name} has fields {self.fields}, not {tuple(fields)}")
        return {
            "type": "event",
            "event": self.name,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        } | (fields)

    def serialise(self, fields: dict[str, Any]) -> str:
        return json.dumps(self.payload(fields), ensure_ascii=False, separators=(",", ":"))


QUEUE_FIELDS: Final = ("services", "windows", "recent_calls", "notices")

TICKET_ISSUED = Event(
    "ticket.issued", SCREENS, ("ticket",), "A number was taken: `ticket` {number, service, category}."
)
TICKET_CALLED = Event(
    "ticket.called",
    ABOUT_A_TICKET,
    ("ticket", "window", "recall"),
    "A ticket is called to a window (announce it); `recall` is true when it is called again.",
    own_ticket=True,
)
TICKET_FINISHED = Event(
    "ticket.finished",
    ABOUT_A_TICKET | {RATING},
    ("ticket", "window"),
    "A ticket was finished (办结) at a window.",
    own_ticket=True,
)
TICKET_NO_SHOW = Event(
    "ticket.no_show",
    ABOUT_A_TICKET,
    ("ticket", "window"),
    "A called ticket did not come (过号).",
    own_ticket=True,
)
WINDOW_CHANGED = Event(
    "window.changed",
    SCREENS | {RATING},
    ("window", "state"),
    "A window's state after a call: `state` as in /api/queue's windows.",
)
QUEUE_CHANGED = Event(
    "queue.changed",
    SCREENS,
    QUEUE_FIELDS,
    "The whole hall as GET /api/queue shows it, sent by the hub after each burst of other events;"
    " screens draw from it and never need to fetch /api/queue.",
)
NOTICE_CHANGED = Event(
    "notice.changed", SCREENS, ("notice",), "An integrity notice was added, changed or removed."
)
RATING_REQUESTED = Event(
    "rating.requested",
    frozenset({RATING}),
    ("ticket", "window", "staff"),
    "To the rating pad of that window only: rate `ticket` {id, number, service} served by `staff` {name}.",
    own_window=True,
)
RATING_RECEIVED = Event(
    "rating.received",
    frozenset({SUPERVISOR}),
    ("window", "score"),
    "To supervisors only: a rating was given.",
)
RATING_CLOSED = Event(
    "rating.closed",
    frozenset({RATING, CITIZEN}),
    ("ticket", "window"),
    "`ticket` {id} was rated (at the pad or on the phone), so the other one stops asking:"
    " no score, no person.",
    own_window=True,
    own_ticket=True,
)
# 差评整改 (CONTRACT §10): supervisors' dashboards follow the cases. `follow_up`
# {id, kind, state, window, due_at} (overdue also `staff` {name}); never the
# call-back number, never the citizen.
FOLLOW_UP_OPENED = Event(
    "follow_up.opened",
    frozenset({SUPERVISOR}),
    ("follow_up",),
    "To supervisors: a bad rating or a complaint opened a follow-up case:"
    " `follow_up` {id, kind, state, window, due_at}.",
)
FOLLOW_UP_CHANGED = Event(
    "follow_up.changed",
    frozenset({SUPERVISOR}),
    ("follow_up",),
    "To supervisors: a step was added to a case, or its citizen rated the handling:"
    " `follow_up` {id, kind, state, window, due_at, step}.",
)
FOLLOW_UP_OVERDUE = Event(
    "follow_up.overdue",
    frozenset({SUPERVISOR}),
    ("follow_up",),
    "To supervisors, once per case, when its deadline passes unclosed (checked continuously):"
    " `follow_up` {id, kind, state, window, staff, due_at}.",
)
PRINTER_CHANGED = Event(
    "printer.changed",
    SCREENS,
    ("printer",),
    "A printer's state changed: `printer` {name, kiosk, state, ...}.",
)
TICKET_REJOINED = Event(
    "ticket.rejoined",
    ABOUT_A_TICKET,
    ("ticket",),
    "A suspended or missed ticket's citizen re-joined the line at a kiosk (回队):"
    " `ticket` {number, service, category}.",
    own_ticket=True,
)
# Made by each process's hub, never published on the channel: the citizens'
# places, read in one query after each burst of events (tickets.places_in_line).
TICKET_PLACE = Event(
    "ticket.place",
    frozenset({CITIZEN}),
    ("ticket",),
    "To a citizen's socket, about its own ticket only: where it stands, `ticket` {number, status,"
    " ahead, estimated_wait_s, window} (as GET /api/tickets/{id} says them), soon after the socket"
    " connects and after each burst of other events that changed it; the phone page never needs to"
    " read its ticket again to follow its place.",
    own_ticket=True,
)
GUIDE_CALLED = Event(
    "guide.called",
    frozenset({SUPERVISOR}),
    ("call",),
    "To supervisors: a citizen at a kiosk asks for a guide (呼叫导办): `call` {id, kiosk, at, screen}.",
)
GUIDE_ANSWERED = Event(
    "guide.answered",
    frozenset({SUPERVISOR}),
    ("call",),
    "To supervisors: a guide call was taken care of, so every dashboard drops it: `call` {id, kiosk, by}.",
)
# 红黄牌 (CONTRACT §11): the moment the evaluator issues a card, with its evidence.
CARD_ISSUED = Event(
    "card.issued",
    frozenset({SUPERVISOR}),
    ("card",),
    "To supervisors, once per card, the moment it is issued: `card` {id, color, rule, staff, window,"
    " ticket, at, issued_at, evidence, notes} as GET /api/cards shows it (an evidence too long for a"
    " notification comes cut, `truncated`).",
)
# 延时服务 (CONTRACT §12): a session opened or ended; the screens and kiosks show it.
HOURS_CHANGED = Event(
    "hours.changed",
    SCREENS,
    ("extended",),
    "Extended hours (延时服务) were opened or ended: `extended` is every session now in force,"
    " [{id, services, until, opened_by, opened_at}], as GET /api/extended-hours answers.",
)

CATALOGUE: Final = (
    TICKET_ISSUED,
    TICKET_CALLED,
    TICKET_FINISHED,
    TICKET_NO_SHOW,
    WINDOW_CHANGED,
    QUEUE_CHANGED,
    NOTICE_CHANGED,
    RATING_REQUESTED,
    RATING_RECEIVED,
    RATING_CLOSED,
    FOLLOW_UP_OPENED,
    FOLLOW_UP_CHANGED,
    FOLLOW_UP_OVERDUE,
    PRINTER_CHANGED,
    TICKET_REJOINED,
    GUIDE_CALLED,
    GUIDE_ANSWERED,
    CARD_ISSUED,
    HOURS_CHANGED,
    TICKET_PLACE,
)
BY_NAME: Final = {e.name: e for e in CATALOGUE}


def notification(hall_id: int, event: Event, fields: dict[str, Any]) -> str:
    return json.dumps({"hall": hall_id} | event.payload(fields), ensure_ascii=False, separators=(",", ":"))


def envelope(hall_id: int, event: Event, **fields: Any) -> dict[str, Any]:
    """A notification of `event` without the fields a SQL statement adds itself before it
    sends it (`jsonb ||`): a call's own statement, which knows its ticket only once it
    has claimed it (calling.CALL_NEXT). tests/domain/test_views_sql.py checks that what it
    sends is what `notification` would have."""
    if not set(fields) < set(event.fields):
        raise ValueError(f"{event.name}: {tuple(fields)} is not part of {event.fields}")
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    return {"hall": hall_id, "type": "event", "event": event.name, "at": at} | fields  # a jsonb argument


async def publish(conn: Connection, hall_id: int, event: Event, **fields: Any) -> None:
    """Queue an event; it is delivered when the caller's transaction commits."""
    await publish_many(conn, hall_id, [(event, fields)])


async def publish_many(conn: Connection, hall_id: int, batch: list[tuple[Event, dict[str, Any]]]) -> None:
    """Several events in one round trip, delivered in this order on commit."""
    payloads = [notification(hall_id, event, fields) for event, fields in batch]
    if notify_on_commit(conn, CHANNEL, payloads):
        return  # sent with the COMMIT, in the same round trip
    await conn.execute(
        "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS e(p, i) ORDER BY i",
        CHANNEL, payloads,
    )  # fmt: skip


def document() -> str:
    """docs/events.md, written from the catalogue."""
    lines = [
        "# Live events",
        "",
        "Written from `server/domain/events.py` by `python -m clearhall.server.domain.events`;",
        "a test fails when this file and the catalogue differ.",
        "",
        '`GET /ws` first sends `{"type": "snapshot", services, windows, recent_calls, notices}`',
        "(the fields of `GET /api/queue`), then events",
        '`{"type": "event", "event": NAME, "at": ISO, ...fields}`.',
        "A citizen's socket (the phone page) gets the snapshot too, then only the events about",
        "its own ticket (matched by its id or number) and `ticket.place`.",
        "",
        "| event | fields | who receives it | what it says |",
        "|---|---|---|---|",
    ]
    for e in CATALOGUE:
        who = ", ".join(k + _whose(e, k) for k in CLIENT_KINDS if k in e.audience)
        lines.append(f"| `{e.name}` | {', '.join(f'`{f}`' for f in e.fields)} | {who} | {e.about} |")
    return "\n".join(lines) + "\n"


def _whose(e: Event, kind: str) -> str:
    if e.own_ticket and kind == CITIZEN:
        return " (of that ticket)"
    return " (of that window)" if e.own_window else ""


if __name__ == "__main__":
    sys.stdout.write(document())
