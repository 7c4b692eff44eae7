"""好差评 (CONTRACT §7; the rules in docs/haochaping.md): one rating per finished
ticket, tied to its service, window, staff member and 办件编号, given by the
citizen (with the ticket's key: channel `phone`) or by the rating pad of the
window where it was finished (`pad`), within the hall's `rate_within_days` of
the finish. Staff can never rate, and a ticket a staff member issued at the
counter and then served themselves is rated only at the pad: its key passed
through their hands. Every rating keeps which credential issued its ticket,
for the integrity signals.

Scores: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意. A 1 or 2 is a bad
rating (差评): it needs a reason from the hall's list or a comment, may carry a
call-back number (kept on its case, never on the rating), and opens a
follow-up case due in `follow_up_days` working days (`follow_ups`).

A rating closes the question everywhere at once: `rating.closed` tells the pad
of that window and the ticket's own phone, which stop asking; the score goes to
supervisors only (`rating.received`). With `default_after_days` a visit left
unrated that long gets the hall's `default_score`, channel `default`, once
(`give_defaults`, run by the housekeeping of every process).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg

from clearhall.server.domain import action_log, errors, events, follow_ups, messages, rating_rules, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus

DIMENSIONS: Final = ("attitude", "efficiency", "professionalism", "integrity")
SCORE_WORDS: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
CHANNELS: Final = ("pad", "phone", "default")
SYSTEM: Final = action_log.Actor("system", None, "系统")
DEFAULTS_PER_SWEEP = 500  # a hall turning default ratings on catches up a batch at a time


@dataclass(frozen=True)
class Rating:
    id: int
    ticket_id: str
    ticket: str  # its number
    score: int
    dimensions: dict[str, int]
    reasons: list[str]
    comment: str | None
    channel: str  # pad | phone | default
    service: str
    window: int | None
    staff: str | None  # the staff member's name
    case_number: str | None
    rated_at: datetime
    excluded: bool  # an upheld appeal took it out of the staff member's figures
    follow_up_id: int | None
    follow_up_due_at: datetime | None

    @property
    def bad(self) -> bool:
        return self.score <= 2


# Every query that returns ratings selects these, from ratings r; rows become a
# Rating in `Rating(**row)`.
RATING_SELECT = """
SELECT r.id, r.ticket_id, t.number AS ticket, r.score, r.dimensions, r.reasons, r.comment, r.channel,
       s.code AS service, w.number AS window, st.name AS staff, t.case_number, r.created_at AS rated_at,
       r.excluded, f.id AS follow_up_id, f.due_at AS follow_up_due_at
FROM ratings r
JOIN tickets t ON t.id = r.ticket_id
JOIN services s ON s.id = r.service_id
LEFT JOIN windows w ON w.id = r.window_id
LEFT JOIN staff st ON st.id = r.staff_id
LEFT JOIN follow_ups f ON f.rating_id = r.id
"""


async def fetch(conn: Connection, rating_id: int) -> Rating | None:
    row = await conn.fetchrow(RATING_SELECT + " WHERE r.id = $1", rating_id)
    return Rating(**dict(row)) if row else None


TICKET_FOR_RATING = """
SELECT t.id, t.number, t.status, t.service_id, t.window_id, t.staff_id, t.key_hash,
       t.issued_by_device, t.issued_by_staff,
       t.finished_at > now() - make_interval(days => $3) AS in_time
FROM tickets t WHERE t.id = $1 AND t.hall_id = $2
FOR UPDATE
"""

INSERT_RATING = """
INSERT INTO ratings (hall_id, ticket_id, service_id, window_id, staff_id, score, dimensions, reasons,
                     comment, channel, issued_by_device, issued_by_staff)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (ticket_id) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True)
class Given:
    """What the rater sent: the score and, for a 差评, why and where to call back."""

    score: int
    dimensions: dict[str, int]
    reasons: list[str]
    comment: str | None
    contact: str | None


async def rate(
    pool: asyncpg.Pool, hall: Hall, pad: Principal | None, ticket_id: str, key: str | None, given: Given
) -> Rating:
    """Rate a finished ticket once: by its key (`pad` None) or at the pad of its window."""
    async with pool.acquire() as conn, conn.transaction():
        rules = await rating_rules.load(conn, hall.id)
        t = await conn.fetchrow(TICKET_FOR_RATING, ticket_id, hall.id, rules.rate_within_days)
        if t is None:
            raise errors.not_found(messages.NO_TICKET)
        if pad is None and not proves(t["key_hash"], key):
            raise errors.unauthorized(messages.WRONG_TICKET_KEY)
        if pad is not None and pad.window_id != t["window_id"]:
            raise errors.forbidden(messages.NOT_FINISHED_HERE)
        if pad is None and t["issued_by_staff"] is not None and t["issued_by_staff"] == t["staff_id"]:
            raise errors.forbidden(messages.RATE_AT_THE_PAD)
        if t["status"] != TicketStatus.DONE:
            raise errors.conflict(messages.ONLY_DONE_RATED)
        if await is_rated(conn, t["id"]):  # one rating per visit, whatever this one says
            raise errors.conflict(messages.ALREADY_RATED)
        if not t["in_time"]:
            raise errors.conflict(messages.RATING_PERIOD_OVER(days=rules.rate_within_days))
        reasons, comment, contact = check_given(given, rules.bad_reasons)
        channel = "pad" if pad else "phone"
        rating_id = await conn.fetchval(
            INSERT_RATING,
            hall.id, t["id"], t["service_id"], t["window_id"], t["staff_id"], given.score, given.dimensions,
            reasons, comment, channel, t["issued_by_device"], t["issued_by_staff"],
        )  # fmt: skip
        if rating_id is None:
            raise errors.conflict(messages.ALREADY_RATED)
        if given.score <= 2:
            subject = follow_ups.Subject("rating", rating_id, t["staff_id"], t["window_id"], contact)
            await follow_ups.open_case(conn, hall.id, rules, subject)
        actor = pad.actor if pad else action_log.Actor("citizen", None, "群众")
        window = await conn.fetchval("SELECT number FROM windows WHERE id = $1", t["window_id"])
        await action_log.record(
            conn, hall.id, actor, "rate", window=window, ticket_id=t["id"], ticket_number=t["number"],
            details={"score": given.score, "channel": channel, "reasons": reasons},
        )  # fmt: skip
        # The first rating wins everywhere at once: the pad of that window and the
        # ticket's phone stop asking (rating.closed), supervisors hear the score.
        await events.publish_many(conn, hall.id, [
            (events.RATING_RECEIVED, {"window": window, "score": given.score}),
            (events.RATING_CLOSED, {"ticket": {"id": t["id"]}, "window": window}),
        ])  # fmt: skip
        rating = await fetch(conn, rating_id)
    assert rating is not None
    return rating


def check_given(given: Given, known: tuple[str, ...]) -> tuple[list[str], str | None, str | None]:
    """(reasons, comment, contact) as stored. A 差评 needs a known reason or a comment;
    reasons go with a 差评 only; a contact is kept for a 差评's call-back only."""
    comment = given.comment.strip() if given.comment else None
    reasons = list(dict.fromkeys(r.strip() for r in given.reasons))  # once each, in the order given
    for reason in reasons:
        if reason not in known:
            raise errors.invalid(messages.UNKNOWN_REASON(reason=reason[:20]), "reasons")
    if given.score > 2:
        if reasons:
            raise errors.invalid(messages.REASONS_ONLY_FOR_BAD, "reasons")
        return [], comment or None, None  # no call-back for a good rating: its number is not kept
    if not reasons and not comment:
        raise errors.invalid(messages.BAD_RATING_NEEDS_REASON, "reasons")
    return reasons, comment or None, normalise_contact(given.contact, "contact")


def proves(key_hash: bytes | None, key: str | None) -> bool:
    """Whether `key` is the one whose hash is stored. Keys are URL-safe ASCII: anything
    else (a lone surrogate cannot even be encoded) is simply not the key."""
    if not key_hash or not key or not key.isascii():
        return False
    return tickets.key_matches(key_hash, key)


PHONE_SEPARATORS = re.compile(r"[\s\-()+.]")


def normalise_contact(value: str | None, field: str) -> str | None:
    """A call-back number: NFKC (full-width digits become ASCII), separators dropped,
    then 7–15 ASCII digits (a mobile, or a landline with its area code); else 400."""
    if value is None or not value.strip():
        return None
    digits = PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value))
    if not re.fullmatch(r"[0-9]{7,15}", digits):
        raise errors.invalid(messages.CONTACT_FORMAT, field)
    return digits


IS_RATED = "SELECT EXISTS (SELECT 1 FROM ratings WHERE ticket_id = $1)"


async def is_rated(conn: Connection, ticket_id: str) -> bool:
    """Whether the ticket has its one rating (for its citizen's page: no score, no channel)."""
    return bool(await conn.fetchval(IS_RATED, ticket_id))


# -- visits finished more than N days ago and never rated get the hall's default
# -- score, oldest first; the ticket's one rating (ON CONFLICT) makes it once
# -- however many processes run this at the same moment
GIVE_DEFAULTS = """
WITH due AS (
    SELECT t.id, t.service_id, t.window_id, t.staff_id, t.issued_by_device, t.issued_by_staff
    FROM tickets t
    WHERE t.hall_id = $1 AND t.status = 'done' AND t.finished_at < now() - make_interval(days => $2)
      AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.ticket_id = t.id)
    ORDER BY t.finished_at
    LIMIT $4
), given AS (
    INSERT INTO ratings (hall_id, ticket_id, service_id, window_id, staff_id, score, channel,
                         issued_by_device, issued_by_staff)
    SELECT $1, id, service_id, window_id, staff_id, $3, 'default', issued_by_device, issued_by_staff FROM due
    ON CONFLICT (ticket_id) DO NOTHING
    RETURNING ticket_id, window_id
)
SELECT g.ticket_id, t.number, w.number AS window
FROM given g JOIN tickets t ON t.id = g.ticket_id LEFT JOIN windows w ON w.id = g.window_id
"""


async def give_defaults(conn: Connection, hall_id: int) -> int:
    """Default ratings for the visits left unrated `default_after_days` (0: none); how many."""
    async with conn.transaction():
        rules = await rating_rules.load(conn, hall_id)
        if rules.default_after_days <= 0:
            return 0
        rows = await conn.fetch(
            GIVE_DEFAULTS, hall_id, rules.default_after_days, rules.default_score, DEFAULTS_PER_SWEEP
        )
        for r in rows:
            await action_log.record(
                conn, hall_id, SYSTEM, "rate", window=r["window"], ticket_id=r["ticket_id"],
                ticket_number=r["number"], details={"score": rules.default_score, "channel": "default"},
            )  # fmt: skip
    return len(rows)
