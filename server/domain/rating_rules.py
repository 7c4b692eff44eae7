"""The hall's 好差评 rules as stored from its hall file (`[ratings]`, `[calendar]`):
read from the hall's row where a use case needs them, so a reloaded hall
file counts from the next request on. The hall file's reading and defaults
are `store/hall_ratings.py`; what each rule means is docs/haochaping.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clearhall.server.domain.workdays import Calendar, add_working_days
from clearhall.server.store.db import Connection


@dataclass(frozen=True)
class Rules:
    timezone: str
    bad_reasons: tuple[str, ...]
    rate_within_days: int
    follow_up_days: int
    contact_retention_days: int
    default_after_days: int  # 0 = off
    default_score: int
    calendar: Calendar

    def due_at(self, opened_at: datetime) -> datetime:
        """A case's deadline: the end of the follow_up_days-th working day after it opened."""
        return add_working_days(opened_at, self.follow_up_days, self.calendar, self.timezone)


SELECT_RULES = """
SELECT timezone, rating_bad_reasons, rate_within_days, follow_up_days, contact_retention_days,
       default_after_days, default_score, calendar_holidays, calendar_workdays
FROM halls WHERE id = $1
"""


async def load(conn: Connection, hall_id: int) -> Rules:
    row = await conn.fetchrow(SELECT_RULES, hall_id)
    assert row is not None, f"hall {hall_id} has no row"
    return Rules(
        timezone=row["timezone"],
        bad_reasons=tuple(row["rating_bad_reasons"]),
        rate_within_days=row["rate_within_days"],
        follow_up_days=row["follow_up_days"],
        contact_retention_days=row["contact_retention_days"],
        default_after_days=row["default_after_days"],
        default_score=row["default_score"],
        calendar=Calendar.of(row["calendar_holidays"], row["calendar_workdays"]),
    )
