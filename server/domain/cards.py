"""Red and yellow cards (红黄牌, CONTRACT §11): evaluating the hall's rules, issuing
each card once, red cards from yellows, reading cards, and supervisors' notes.

`evaluate` runs continuously, by one evaluator per hall at a time: every server
process tries every EVERY_S (`server/carding.py`) and the advisory lock
(CARD_LOCK, the hall's id) lets one through; the lock is the transaction's, so
a process that dies mid-way lets it go with its connection and the next try,
by any process, takes over. `now` is an argument (the runtime passes the
database's now()): the rules (`card_rules`, `card_acts`) find what had
happened by then, and the card of each occurrence is inserted with
`ON CONFLICT DO NOTHING` on (hall, rule, subject) — a second evaluation, a
restart, or two evaluators racing without the lock issue nothing twice. A card
that was really inserted is logged (`card`, by the system) and sent to
supervisors (`card.issued`) in the same transaction.

Red cards: a staff member's yellow cards not yet part of a red one, in order
of `at`; as soon as `red_after_yellows` of them fall within
`red_period_days` (the first less than that many days before the last), they
make a red card, issued at the last one's moment, and are spent. Cards about
nobody (a long wait is the hall's) make no red card.

Cards and notes are never changed or deleted (a trigger refuses it, and the
server's role has no such privilege); a supervisor annotates a card
(`annotate`, logged as `card_note`), e.g. 系统故障.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import asyncpg

from clearhall.server.domain import action_log, card_acts, card_rules, errors, events, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.card_rules import LOOKBACK, RULE_WORDS, Occurrence, evidence, moments
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.text import Text
from clearhall.server.domain.tickets import local_iso
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_cards import CardsConf, load_cards

CARD_LOCK: Final = 0x63617264  # advisory lock class "card"; the hall id is the second key
COLORS: Final = ("yellow", "red")
RED: Final = "red_after_yellows"
SYSTEM: Final = action_log.Actor("system", None, "系统")
NOTIFY_MOST: Final = 7000  # bytes of a card in `card.issued`: PostgreSQL refuses a notification of 8000


@dataclass(frozen=True)
class Note:
    text: str
    username: str
    name: str
    at: datetime


@dataclass(frozen=True)
class Card:
    id: int
    color: str
    rule: str
    staff_username: str | None
    staff_name: str | None
    window: int | None
    ticket: str | None  # the ticket's number
    ticket_id: str | None  # for the action log only; never shown
    at: datetime
    issued_at: datetime
    evidence: dict[str, Any]
    notes: tuple[Note, ...] = field(default=())

    def json(self, tz: str) -> dict[str, Any]:
        staff = {"username": self.staff_username, "name": self.staff_name} if self.staff_username else None
        return {
            "id": self.id, "color": self.color, "rule": self.rule, "staff": staff, "window": self.window,
            "ticket": self.ticket, "at": local_iso(self.at, tz), "issued_at": local_iso(self.issued_at, tz),
            "evidence": self.evidence,
            "notes": [{"text": n.text, "by": {"username": n.username, "name": n.name},
                       "at": local_iso(n.at, tz)} for n in self.notes],
        }  # fmt: skip


# ---------------------------------------------------------------- evaluating


async def occurrences(conn: Connection, hall: Hall, rules: CardsConf, now: datetime) -> list[Occurrence]:
    """Every occurrence of the hall's switched-on yellow rules by `now` that has no card yet."""
    since_day = (now - LOOKBACK).astimezone(ZoneInfo(hall.timezone)).date()
    found: list[Occurrence] = []
    if rules.time_limit:
        found += await card_rules.time_limit(conn, hall, now, since_day)
    if rules.wait_minutes:
        found += await card_rules.long_wait(conn, hall, now, rules.wait_minutes)
    if rules.idle_minutes:
        found += await card_rules.idle_window(conn, hall, now, rules.idle_minutes)
    if rules.absent_minutes:
        found += await card_rules.absent(conn, hall, now, rules.absent_minutes)
    if rules.out_of_order_calls:
        found += await card_acts.out_of_order(conn, hall, now)
    if rules.suspended_twice:
        found += await card_acts.suspended_twice(conn, hall, now)
    if rules.bad_ratings:
        found += await card_acts.bad_rating(conn, hall, now)
    return sorted(found, key=lambda o: (o.at, o.rule, o.subject))


async def evaluate(conn: Connection, hall: Hall, now: datetime, *, lock: bool = True) -> list[Card] | None:
    """Issue the cards of everything that had happened by `now`, in one transaction: the
    cards issued, or None when another evaluator holds the hall's lock. `lock=False`
    (tests) evaluates without it: the unique key alone keeps each card single."""
    async with conn.transaction():
        if lock and not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, $2)", CARD_LOCK, hall.id):
            return None
        rules = await load_cards(conn, hall.id)
        issued = []
        for o in await occurrences(conn, hall, rules, now):
            if card := await issue(conn, hall, o):
                issued.append(card)
        if rules.red_after_yellows:  # after the yellows: this evaluation's count too
            for o in await reds(conn, hall, rules, now):
                if card := await issue(conn, hall, o):
                    issued.append(card)
        if issued:
            batch = [(events.CARD_ISSUED, {"card": announced(c, hall.timezone)}) for c in issued]
            await events.publish_many(conn, hall.id, batch)
    return issued


def announced(card: Card, tz: str) -> dict[str, Any]:
    """The card as `card.issued` carries it: whole, or, when its evidence is too long for a
    notification (a suspension naming many long documents), with the evidence cut to its
    rule, threshold and sentence and marked `truncated` (GET /api/cards/{id} has it all)."""
    whole = card.json(tz)
    if len(json.dumps(whole, ensure_ascii=False).encode()) <= NOTIFY_MOST:
        return whole
    e = card.evidence
    sentence = {
        language: text if len(text) <= 200 else text[:199] + "…" for language, text in e["sentence"].items()
    }
    return whole | {"evidence": {"rule": e["rule"], "threshold": e["threshold"], "sentence": sentence,
                                 "truncated": True}}  # fmt: skip


INSERT_CARD = """
INSERT INTO cards (hall_id, color, rule, subject, staff_id, window_id, ticket_id, ticket_number, at, yellows,
                   evidence)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (hall_id, rule, subject) DO NOTHING
RETURNING id
"""


async def issue(conn: Connection, hall: Hall, o: Occurrence) -> Card | None:
    """The card of occurrence `o`, logged; None when it has one already."""
    card_id = await conn.fetchval(
        INSERT_CARD, hall.id, o.color, o.rule, o.subject, o.staff_id, o.window_id, o.ticket_id,
        o.ticket_number, o.at, list(o.yellows), o.evidence,
    )  # fmt: skip
    if card_id is None:
        return None
    card = await read(conn, hall.id, card_id)
    assert card is not None  # inserted by this transaction
    await action_log.record(
        conn, hall.id, SYSTEM, "card", window=card.window, ticket_id=o.ticket_id,
        ticket_number=o.ticket_number,
        details={"card": card.id, "color": card.color, "rule": card.rule, "staff": card.staff_username},
    )  # fmt: skip
    return card


# -- each staff member's yellow cards that no red card has spent, in order
UNSPENT_YELLOWS = """
SELECT c.id, c.staff_id, st.name AS staff_name, c.rule, c.at, c.ticket_number, w.number AS window
FROM cards c JOIN staff st ON st.id = c.staff_id LEFT JOIN windows w ON w.id = c.window_id
WHERE c.hall_id = $1 AND c.color = 'yellow' AND c.at >= $3 AND c.at <= $2
  AND NOT EXISTS (SELECT 1 FROM cards r WHERE r.hall_id = $1 AND r.color = 'red' AND c.id = ANY(r.yellows))
ORDER BY c.staff_id, c.at, c.id
"""


async def reds(conn: Connection, hall: Hall, rules: CardsConf, now: datetime) -> list[Occurrence]:
    """The red cards that unspent yellows make by `now`."""
    period = timedelta(days=rules.red_period_days)
    groups: dict[int, list[asyncpg.Record]] = {}
    found = []
    for y in await conn.fetch(UNSPENT_YELLOWS, hall.id, now, now - LOOKBACK - period):
        group = [g for g in groups.get(y["staff_id"], []) if y["at"] - g["at"] < period] + [y]
        groups[y["staff_id"]] = group
        if len(group) >= rules.red_after_yellows:
            found.append(red(hall, rules, group))
            groups[y["staff_id"]] = []
    return found


def red(hall: Hall, rules: CardsConf, yellows: list[asyncpg.Record]) -> Occurrence:
    tz, last = hall.timezone, yellows[-1]
    names = list(dict.fromkeys(RULE_WORDS[y["rule"]] for y in yellows))  # each rule once, in order
    listed = Text("、".join(n.zh for n in names), ", ".join(n.en for n in names))
    why = messages.CARD_RED(
        name=last["staff_name"], days=rules.red_period_days, count=len(yellows), rules=listed
    )
    made_of = [
        {"id": y["id"], "rule": y["rule"], "at": local_iso(y["at"], tz), "window": y["window"],
         "ticket": y["ticket_number"]}
        for y in yellows
    ]  # fmt: skip
    tickets = [{"number": y["ticket_number"]} for y in yellows if y["ticket_number"]]
    threshold = {"yellows": rules.red_after_yellows, "days": rules.red_period_days}
    times = moments(tz, first=yellows[0]["at"], at=last["at"])
    return Occurrence(
        RED, "yellows:" + ",".join(str(y["id"]) for y in yellows), last["at"], last["staff_id"], None, None,
        None, evidence(RED, threshold, times, tickets, [], why, yellows=made_of),
        color="red", yellows=tuple(y["id"] for y in yellows),
    )  # fmt: skip


# ---------------------------------------------------------------- reading and notes

CARD_SELECT = """
SELECT c.id, c.color, c.rule, st.username AS staff_username, st.name AS staff_name, w.number AS window,
       c.ticket_number AS ticket, c.ticket_id, c.at, c.issued_at, c.evidence
FROM cards c LEFT JOIN staff st ON st.id = c.staff_id LEFT JOIN windows w ON w.id = c.window_id
"""

LIST_CARDS = f"""{CARD_SELECT}
WHERE c.hall_id = $1 AND c.at >= $2 AND c.at < $3
  AND ($4::text IS NULL OR st.username = $4) AND ($5::text IS NULL OR c.color = $5)
ORDER BY c.at DESC, c.id DESC
LIMIT $6
"""

NOTES = """
SELECT n.card_id, n.text, n.at, st.username, st.name
FROM card_notes n JOIN staff st ON st.id = n.staff_id
WHERE n.card_id = ANY($1::bigint[])
ORDER BY n.id
"""


async def _with_notes(conn: Connection, rows: list[asyncpg.Record]) -> list[Card]:
    notes: dict[int, list[Note]] = {r["id"]: [] for r in rows}
    for n in await conn.fetch(NOTES, list(notes)):
        notes[n["card_id"]].append(Note(n["text"], n["username"], n["name"], n["at"]))
    return [Card(**dict(r), notes=tuple(notes[r["id"]])) for r in rows]


async def read(conn: Connection, hall_id: int, card_id: int) -> Card | None:
    rows = await conn.fetch(CARD_SELECT + " WHERE c.hall_id = $1 AND c.id = $2", hall_id, card_id)
    return (await _with_notes(conn, list(rows)))[0] if rows else None


@dataclass(frozen=True)
class Filter:
    first: date  # hall-local days, both included
    last: date
    staff: str | None = None  # a username
    color: str | None = None
    limit: int = 500


async def cards(conn: Connection, hall: Hall, f: Filter) -> list[Card]:
    """The cards of hall-local days first…last, newest first."""
    zone = ZoneInfo(hall.timezone)
    start = datetime.combine(f.first, time(0), tzinfo=zone)
    end = datetime.combine(f.last + timedelta(days=1), time(0), tzinfo=zone)
    rows = await conn.fetch(LIST_CARDS, hall.id, start, end, f.staff, f.color, f.limit)
    return await _with_notes(conn, list(rows))


INSERT_NOTE = "INSERT INTO card_notes (hall_id, card_id, staff_id, text) VALUES ($1, $2, $3, $4)"


async def annotate(pool: asyncpg.Pool, hall: Hall, p: Principal, card_id: int, text: str) -> Card:
    """A supervisor's note on a card, kept with it and in the action log; the card stays as it was."""
    async with pool.acquire() as conn, conn.transaction():
        card = await read(conn, hall.id, card_id)
        if card is None:
            raise errors.not_found(messages.NO_CARD)
        await conn.execute(INSERT_NOTE, hall.id, card_id, p.id, text)
        await action_log.record(
            conn, hall.id, p.actor, "card_note", window=card.window, ticket_id=card.ticket_id,
            ticket_number=card.ticket, reason=text,
            details={"card": card_id, "color": card.color, "rule": card.rule},
        )  # fmt: skip
        noted = await read(conn, hall.id, card_id)
    assert noted is not None
    return noted
