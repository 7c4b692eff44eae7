"""The hall file's `[retention]`: how long a visit's personal data is kept — read
(called from `hallfile.parse`), stored on the hall's row of `retention_rules`
(called from `hall_apply.apply`) and read by the purge (`domain/retention.py`).

`personal_days` (default 180): once a ticket's or a booking's hall-local day is
that many days past, its ID and phone numbers (keyed hashes and masked forms),
its proxy's and its key are erased; what happened (numbers, times, windows,
staff, ratings, the action log) stays. It may not be shorter than the spans
that still read those columns: the integrity signals' `days`, the booking
no-show span `no_show_days` and the rating period `rate_within_days` (a shorter
one would quietly blind them, so the file is refused instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearhall.server.store.db import Connection
from clearhall.server.store.hall_reader import Reader, table

MOST_DAYS = 3650  # ten years: a longer span is a typo, or no retention at all


@dataclass(frozen=True)
class RetentionConf:
    personal_days: int = 180


def read_retention(top: Reader, data: dict[str, Any], spans: dict[str, int]) -> RetentionConf:
    """`spans`: what else reads the personal columns, and over how many days,
    e.g. {"[signals] days": 30}; `personal_days` must cover each."""
    reader = Reader(top.source, top.text, table(top, data, "retention"), "retention", "retention")
    days = reader.positive("personal_days", RetentionConf.personal_days, most=MOST_DAYS)
    for what, span in spans.items():
        if days < span:
            given = "" if "personal_days" in reader.table else " (the default)"
            raise reader.fail(
                "personal_days",
                f"{days}{given} is shorter than {what} ({span}): keep personal data at least that long",
            )
    reader.finish()
    return RetentionConf(personal_days=days)


APPLY_RETENTION = """
INSERT INTO retention_rules (hall_id, personal_days) VALUES ($1, $2)
ON CONFLICT (hall_id) DO UPDATE SET personal_days = EXCLUDED.personal_days
"""


async def apply_retention(conn: Connection, hall_id: int, conf: RetentionConf) -> None:
    """Store the rule on the hall's row (inside the caller's transaction); how far the
    purge has come (`purged_before`) is the purge's, and is kept."""
    await conn.execute(APPLY_RETENTION, hall_id, conf.personal_days)


async def load_retention(conn: Connection, hall_id: int) -> RetentionConf:
    days = await conn.fetchval("SELECT personal_days FROM retention_rules WHERE hall_id = $1", hall_id)
    return RetentionConf(personal_days=days) if days is not None else RetentionConf()
