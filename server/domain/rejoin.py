"""回队 at the kiosk: a suspended ticket's citizen is back with the missing document.

`POST /api/tickets/rejoin` (a kiosk device) with one proof of the ticket:

- the receipt's QR code, which the kiosk's barcode scanner types as the phone
  URL: `{"ticket": ID, "key": KEY}`;
- the number and the ID number it was taken with: `{"number", "id_number"}`;
- the number and the phone number: `{"number", "phone"}`.

A suspended ticket goes back to waiting in its old place, a missed one once N
behind the head of its line where the hall allows 过号顺延, exactly as a
window's `requeue` does (`requeue.back_in_line`, logged with the kiosk as
actor and the kind of proof, never the proof itself); `ticket.rejoined` tells
the screens. Only tickets of today.

Numbers, ID and phone numbers are normalised (NFKC, spaces, case) before they
are compared, the ID and phone by their keyed hash. A proof that fits no
ticket is a guess: guesses are counted in the database per kiosk and per
ticket number (`throttle`), and past the limit every try, right or wrong, is
`429` until the pause is over. An unknown number and a wrong proof get the
same answer; only a right proof learns the ticket's state.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from clearhall.server.domain import action_log, errors, events, messages, requeue, throttle, views
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.idcard import (
    id_problem,
    keyed_hash,
    normalise_id,
    normalise_phone,
    phone_problem,
)
from clearhall.server.domain.issuing import standing_of
from clearhall.server.domain.tickets import Ticket, key_matches
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus

# A kiosk serves a whole hall: its citizens mistype now and then. A ticket's
# number is on the hall screen, so the number's own limit is the tight one.
GUESSES_AT_KIOSK = throttle.Rule("rejoin_kiosk", 10, timedelta(seconds=15))
GUESSES_AT_NUMBER = throttle.Rule("rejoin_number", 5, timedelta(seconds=60))

NUMBER = re.compile(r"([A-Z]{1,2})0*([0-9]{1,6})")

# -- the ticket of today a proof names, locked; with what proves it
FIND = """
SELECT t.id, t.number, t.service_id, t.status, t.priority, t.key_hash, t.id_hash, t.phone_hash,
       (SELECT w.number FROM windows w WHERE w.id = t.window_id) AS window
FROM tickets t
WHERE t.hall_id = $1 AND t.day = (now() AT TIME ZONE $2)::date
  AND (t.id = $3 OR ($3::text IS NULL AND t.number = $4))
FOR UPDATE
"""


@dataclass(frozen=True)
class Proof:
    """What the kiosk was given: the QR's ticket and key, or a number with an ID or phone number."""

    ticket: str | None = None
    key: str | None = None
    number: str | None = None
    id_number: str | None = None
    phone: str | None = None

    @property
    def kind(self) -> str:
        return "qr" if self.ticket is not None else "id_number" if self.id_number is not None else "phone"


@dataclass(frozen=True)
class Rejoined:
    ticket: Ticket
    standing: dict[str, Any]  # `issuing.standing_of`: what the kiosk shows (no id, no key)
    came_back: bool  # a missed ticket (过号顺延): not in its old place


def normalise_number(value: str) -> str:
    """ "a 12", "Ａ０１２", "A012" → "A012"; 400 when it is no ticket number."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    found = NUMBER.fullmatch(text)
    if found is None:
        raise errors.invalid(messages.TICKET_NUMBER_FORMAT, "number")
    return found[1] + found[2].rjust(3, "0")


def checked(proof: Proof) -> Proof:
    """The proof normalised, or 400 when it is not one of the three forms."""
    qr = proof.ticket is not None and proof.key is not None
    by_number = proof.number is not None and (proof.id_number is None) != (proof.phone is None)
    if qr == by_number or (qr and (proof.number or proof.id_number or proof.phone)):
        raise errors.invalid(messages.REJOIN_PROOF)
    if qr:
        return proof
    assert proof.number is not None
    number = normalise_number(proof.number)
    if proof.id_number is not None:
        problem = id_problem(proof.id_number)
        if problem:
            raise errors.invalid(problem, "id_number")
        return Proof(number=number, id_number=normalise_id(proof.id_number))
    assert proof.phone is not None
    problem = phone_problem(proof.phone)
    if problem:
        raise errors.invalid(problem, "phone")
    return Proof(number=number, phone=normalise_phone(proof.phone))


def proves(row: asyncpg.Record, proof: Proof, secret: bytes) -> bool:
    if proof.key is not None:
        return key_matches(row["key_hash"], proof.key)
    stored, kind, value = (
        (row["id_hash"], "id", proof.id_number)
        if proof.id_number is not None
        else (row["phone_hash"], "phone", proof.phone)
    )
    if stored is None or value is None:
        return False
    return hmac.compare_digest(stored, keyed_hash(secret, kind, value))


async def rejoin(
    conn: Connection, hall: Hall, secret: bytes, actor: action_log.Actor, proof: Proof
) -> Rejoined:
    """Put the proven ticket back in line (one transaction); 404 for a wrong proof, counted."""
    proof = checked(proof)
    kiosk = f"{actor.kind}:{actor.id}"
    number = proof.number or f"qr:{(proof.ticket or '')[:64]}"  # the ticket counted against
    for rule, subject in ((GUESSES_AT_KIOSK, kiosk), (GUESSES_AT_NUMBER, number)):
        wait = await throttle.waiting(conn, hall.id, rule, subject)
        if wait is not None:
            raise throttle.refused(messages.REJOIN_TOO_MANY, wait)
    async with conn.transaction():
        row = await conn.fetchrow(FIND, hall.id, hall.timezone, proof.ticket, proof.number)
        if row is not None and proves(row, proof, secret):
            return await _back(conn, hall, actor, row, proof)
    # A guess: counted against the kiosk and the number (or the QR's ticket).
    await guessed(conn, hall, kiosk, number)
    raise errors.not_found(messages.REJOIN_NO_MATCH)


async def guessed(conn: Connection, hall: Hall, kiosk: str, number: str) -> None:
    for rule, subject in ((GUESSES_AT_KIOSK, kiosk), (GUESSES_AT_NUMBER, number)):
        wait = await throttle.hit(conn, hall.id, rule, subject)
        if wait is not None:
            raise throttle.refused(messages.REJOIN_TOO_MANY, wait)


async def _back(
    conn: Connection, hall: Hall, actor: action_log.Actor, row: asyncpg.Record, proof: Proof
) -> Rejoined:
    number, status = row["number"], row["status"]
    if status in (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING):
        # Nothing to put back: the citizen learns where the ticket stands.
        text = messages.REJOIN_WAITING if status == TicketStatus.WAITING else messages.REJOIN_CALLED
        standing = await standing_of(conn, hall, row["id"])
        raise errors.DomainError(errors.CONFLICT, text(number=number), ticket=standing)
    if status not in (TicketStatus.SUSPENDED, TicketStatus.NO_SHOW):
        raise errors.conflict(messages.REJOIN_DONE(number=number))
    ticket = await requeue.back_in_line(conn, hall, actor, row, details={"at": "kiosk", "proof": proof.kind})
    await events.publish(conn, hall.id, events.TICKET_REJOINED, ticket=views.public_ticket(ticket))
    standing = await standing_of(conn, hall, ticket.id)
    return Rejoined(ticket, standing, came_back=status == TicketStatus.NO_SHOW)
