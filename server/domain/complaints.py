"""投诉 (CONTRACT §10): a citizen's complaint, with no log-in, from the phone page
or the kiosk. It opens a follow-up case like a bad rating's.

- The text is normalised (NFC; full-width letters and digits as ASCII, while
  Chinese punctuation stays as written; invisible format characters such as
  zero-width spaces and direction marks removed; spaces inside a line and
  blank lines collapsed) and must then hold 1–500 characters.
- It may name a ticket, which must come with that ticket's key (a visit is
  proved as a rating is), and/or a window. The case is about the window
  given (else the ticket's), and about the ticket's staff member when the
  ticket was served at that window.
- Without a ticket the complaint gets a key of its own, answered once in the
  201 and kept only as its SHA-256: the citizen rates the handling with it.
- A call-back number (`contact`) is kept on the case, as a bad rating's.
- Complaints are limited per client address, in the database (so across
  server processes): COMPLAINTS_BY_ADDRESS, `429` with Retry-After past it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import asyncpg

from clearhall.server.domain import action_log, errors, follow_ups, messages, rating_rules, throttle
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.ratings import normalise_contact, proves

MOST_CHARS: Final = 500
# A few at once (a family at one phone), then one every two minutes from one address.
COMPLAINTS_BY_ADDRESS: Final = throttle.Rule("complaints_address", 5, timedelta(minutes=2))
# A kiosk is one address shared by everyone in the hall: counted by its device, with more room.
COMPLAINTS_BY_KIOSK: Final = throttle.Rule("complaints_kiosk", 20, timedelta(seconds=30))
CITIZEN: Final = action_log.Actor("citizen", None, "群众")


@dataclass(frozen=True)
class Complaint:
    text: str
    ticket: str | None = None
    key: str | None = None
    window: int | None = None
    contact: str | None = None


@dataclass(frozen=True)
class Filed:
    id: int
    follow_up_id: int
    due_at: datetime
    key: str | None  # the complaint's own key, when it names no ticket: given once, never stored


# Full-width letters and digits, and the ideographic space, as their ASCII selves; Chinese
# punctuation (，。：（）) stays as written — NFKC would turn "，" into ",".
WIDE = str.maketrans(
    {0xFF10 + i: 0x30 + i for i in range(10)}
    | {0xFF21 + i: 0x41 + i for i in range(26)}
    | {0xFF41 + i: 0x61 + i for i in range(26)}
    | {0x3000: 0x20}
)


def normalise_text(text: str) -> str:
    """NFC, full-width letters and digits as ASCII, no invisible format characters,
    one space between words, no blank lines."""
    text = unicodedata.normalize("NFC", text).translate(WIDE)
    # invisible format characters (zero-width, direction marks) and lone surrogates (not text)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cf", "Cs"))
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


TICKET = "SELECT id, number, key_hash, window_id, staff_id FROM tickets WHERE id = $1 AND hall_id = $2"
INSERT_COMPLAINT = """
INSERT INTO complaints (hall_id, text, ticket_id, window_id, key_hash)
VALUES ($1, $2, $3, $4, $5) RETURNING id
"""


async def file(
    pool: asyncpg.Pool, hall: Hall, address: str | None, c: Complaint, kiosk: int | None = None
) -> Filed:
    text = normalise_text(c.text)
    if not text:
        raise errors.invalid(messages.EMPTY_FIELD(field="text"), "text")
    if len(text) > MOST_CHARS:
        raise errors.invalid(messages.TOO_LONG(field="text", most=MOST_CHARS), "text")
    if c.key and not c.ticket:
        raise errors.invalid(messages.KEY_WITHOUT_TICKET, "key")
    if c.ticket and not c.key:
        raise errors.invalid(messages.COMPLAINT_NEEDS_KEY, "key")
    contact = normalise_contact(c.contact, "contact")
    async with pool.acquire() as conn, conn.transaction():
        t = None
        if c.ticket:
            t = await conn.fetchrow(TICKET, c.ticket, hall.id) if len(c.ticket) <= 64 else None
            if t is None:
                raise errors.not_found(messages.NO_TICKET)
            if not proves(t["key_hash"], c.key):
                raise errors.unauthorized(messages.WRONG_TICKET_KEY)
        window_id = None
        if c.window is not None:
            window_id = await conn.fetchval(
                "SELECT id FROM windows WHERE hall_id = $1 AND number = $2 AND active", hall.id, c.window
            )
            if window_id is None:
                raise errors.invalid(messages.NO_WINDOW(number=c.window), "window")
        staff_id = None
        if t is not None and (window_id is None or window_id == t["window_id"]):
            window_id, staff_id = t["window_id"], t["staff_id"]
        if kiosk is not None:
            wait = await throttle.hit(conn, hall.id, COMPLAINTS_BY_KIOSK, str(kiosk))
        else:
            wait = await throttle.hit(conn, hall.id, COMPLAINTS_BY_ADDRESS, throttle.address_key(address))
        if wait is not None:
            raise throttle.refused(messages.COMPLAINTS_TOO_FAST, wait)
        own_key = secrets.token_urlsafe(16) if t is None else None
        key_hash = hashlib.sha256(own_key.encode()).digest() if own_key else None
        complaint_id: int = await conn.fetchval(
            INSERT_COMPLAINT, hall.id, text, t["id"] if t else None, window_id, key_hash
        )
        rules = await rating_rules.load(conn, hall.id)
        subject = follow_ups.Subject("complaint", complaint_id, staff_id, window_id, contact)
        opened = await follow_ups.open_case(conn, hall.id, rules, subject)
        window = await conn.fetchval("SELECT number FROM windows WHERE id = $1", window_id)
        await action_log.record(
            conn, hall.id, CITIZEN, "complaint", window=window, ticket_id=t["id"] if t else None,
            ticket_number=t["number"] if t else None,
            details={"complaint": complaint_id, "follow_up": opened.id},
        )  # fmt: skip
    return Filed(complaint_id, opened.id, opened.due_at, own_key)
