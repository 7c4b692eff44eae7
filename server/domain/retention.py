"""Data retention: a visit's personal data is erased once it is old.

A ticket or booking whose hall-local `day` is the hall file's `[retention]
personal_days` past (store/hall_retention.py; default 180) loses

- on a ticket: `id_hash`, `id_masked`, `phone_hash`, `phone_masked`,
  `proxy_id_hash`, `proxy_id_masked`, and its key (`key_hash` becomes NO_KEY,
  which no key hashes to: the column is NOT NULL);
- on a booking: its code (`code_hash`), `id_hash`, `id_masked`, `phone_hash`,
  `phone_masked`;
- on a complaint: its own key, for rating the handling (`key_hash`).

What happened stays: numbers, services, times, windows, staff, ratings,
cases, cards. The action log is never touched: it is append-only and chained
(docs/supervision.md), and some entries' `details` hold a masked number (a
booking's `id_masked`, a proxy's); changing one would break the chain, so it
is kept as it is (docs/operating.md, "Data retention"). Call-back numbers of
cases (`follow_ups.contact`, [ratings] contact_retention_days) and phone numbers
kept for SMS (`notify_contacts`, a day at most) have their own, shorter, rules.

`retention_rules.purged_before` is the day the purge has reached: each run
reads only the days that have come of age since (by the `(hall_id, day)`
indexes), a week at a time, each week one transaction holding the hall's row
locked, so several processes purging at once take turns and the cost never
grows with the history kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from clearhall.server.store.db import Connection

NO_KEY: Final = b""  # a key's SHA-256 is 32 bytes: no key matches an empty one
BATCH_DAYS: Final = 7


@dataclass(frozen=True)
class Purged:
    tickets: int = 0
    appointments: int = 0
    complaints: int = 0
    before: date | None = None  # the first day kept whole, once anything was looked at

    def __add__(self, other: Purged) -> Purged:
        return Purged(
            self.tickets + other.tickets,
            self.appointments + other.appointments,
            self.complaints + other.complaints,
            other.before or self.before,
        )

    @property
    def any(self) -> bool:
        return bool(self.tickets or self.appointments or self.complaints)


# a hall whose file has not been loaded since migration 0013 has the default
MAKE_ROW = "INSERT INTO retention_rules (hall_id) VALUES ($1) ON CONFLICT (hall_id) DO NOTHING"

# -- the hall's row, locked: one purge per hall at a time; the days to purge
# -- end before `cutoff`, personal_days before today (hall time)
CLAIM = """
SELECT personal_days, purged_before, (now() AT TIME ZONE $2)::date - personal_days AS cutoff
FROM retention_rules WHERE hall_id = $1
FOR UPDATE
"""

# -- where a purge that never ran starts: the oldest day holding anything personal
OLDEST = """
SELECT least((SELECT min(day) FROM tickets WHERE hall_id = $1),
             (SELECT min(day) FROM appointments WHERE hall_id = $1),
             (SELECT (min(created_at) AT TIME ZONE $2)::date FROM complaints WHERE hall_id = $1))
"""

PURGE_TICKETS = """
UPDATE tickets SET id_hash = NULL, id_masked = NULL, phone_hash = NULL, phone_masked = NULL,
                   proxy_id_hash = NULL, proxy_id_masked = NULL, key_hash = $4
WHERE hall_id = $1 AND day >= $2 AND day < $3
  AND (key_hash <> $4 OR id_hash IS NOT NULL OR id_masked IS NOT NULL OR phone_hash IS NOT NULL
       OR phone_masked IS NOT NULL OR proxy_id_hash IS NOT NULL OR proxy_id_masked IS NOT NULL)
"""

PURGE_APPOINTMENTS = """
UPDATE appointments SET code_hash = NULL, id_hash = NULL, id_masked = NULL,
                        phone_hash = NULL, phone_masked = NULL
WHERE hall_id = $1 AND day >= $2 AND day < $3
  AND (code_hash IS NOT NULL OR id_hash IS NOT NULL OR id_masked IS NOT NULL
       OR phone_hash IS NOT NULL OR phone_masked IS NOT NULL)
"""

# -- a complaint's day is the hall-local day it was made
PURGE_COMPLAINTS = """
UPDATE complaints SET key_hash = NULL
WHERE hall_id = $1 AND key_hash IS NOT NULL
  AND created_at >= $2::date::timestamp AT TIME ZONE $4 AND created_at < $3::date::timestamp AT TIME ZONE $4
"""

ADVANCE = "UPDATE retention_rules SET purged_before = $2 WHERE hall_id = $1"


async def purge_step(conn: Connection, hall_id: int, timezone: str) -> Purged | None:
    """Purge the next week (at most) of days come of age, in one transaction;
    None when the purge has caught up."""
    async with conn.transaction():
        await conn.execute(MAKE_ROW, hall_id)
        row = await conn.fetchrow(CLAIM, hall_id, timezone)
        assert row is not None  # made above
        cutoff: date = row["cutoff"]
        start: date | None = row["purged_before"]
        if start is None:
            start = await conn.fetchval(OLDEST, hall_id, timezone) or cutoff
        if start >= cutoff:
            if row["purged_before"] is None:
                await conn.execute(ADVANCE, hall_id, cutoff)
            return None
        end = min(start + timedelta(days=BATCH_DAYS), cutoff)
        tickets = await conn.execute(PURGE_TICKETS, hall_id, start, end, NO_KEY)
        bookings = await conn.execute(PURGE_APPOINTMENTS, hall_id, start, end)
        complaints = await conn.execute(PURGE_COMPLAINTS, hall_id, start, end, timezone)
        await conn.execute(ADVANCE, hall_id, end)
    return Purged(count(tickets), count(bookings), count(complaints), end)


async def purge(conn: Connection, hall_id: int, timezone: str) -> Purged:
    """Erase the personal data of every visit now old enough; what was erased."""
    done = Purged()
    while (step := await purge_step(conn, hall_id, timezone)) is not None:
        done += step
    return done


def count(status: str) -> int:
    """The rows an `UPDATE n` status names."""
    return int(status.rpartition(" ")[2] or 0)
