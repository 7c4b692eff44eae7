"""The hall file's `[signals]`: the thresholds of the integrity signals
(docs/supervision.md, "Integrity signals") — read (called from `hallfile.parse`)
and stored (called from `hall_apply.apply`) on the hall's row.

They are kept together as one JSON object (`halls.signal_thresholds`): the
signals read them all at once, on request, and nothing else does; a key the
row lacks (a database written before that threshold existed) takes its
default here, the one place the defaults live.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from clearhall.server.store.db import Connection
from clearhall.server.store.hall_reader import Reader, table

MOST_COUNT = 10_000
MOST_SECONDS = 24 * 3600
MOST_DAYS = 366


@dataclass(frozen=True)
class SignalsConf:
    # 黄牛: one ID number, phone number or kiosk taking more tickets than people do
    id_tickets_per_day: int = 4  # never above [policy] daily_tickets_per_id: using it all is shown
    phone_tickets_per_day: int = 4
    percentile: float = 99  # … and above this percentile of the hall's own days (0 = no comparison)
    id_visit_days: int = 5  # one ID number taking tickets on this many days within `days`
    ids_per_phone: int = 3  # one phone number given with this many ID numbers within `days`
    kiosk_burst_tickets: int = 10  # tickets one kiosk issues within …
    kiosk_burst_seconds: int = 120  # … this many seconds
    # 中介: one applicant served by the same staff member again and again
    same_staff_visits: int = 4  # visits within `days`
    days: int = 30  # the span of the rules that count over time, and of the hall's own distribution
    # 好差评 patterns
    top_fast_ratings: int = 20  # at least this many ratings of one staff member at one window …
    top_fast_share: float = 0.9  # … of which this share were 5 and given within …
    top_fast_seconds: int = 5  # … this many seconds of the finish
    pad_gap_seconds: int = 180  # a pad rating this long after its ticket's finish
    pad_late_ratings: int = 1  # such pad ratings at one window in a day
    # far above peers, per person per day
    suspensions_per_day: int = 5
    out_of_order_per_day: int = 3
    peer_factor: float = 3  # more than this many times the median of the others who worked that day
    peers: int = 2  # at least this many others worked that day

    def json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


COUNTS = (
    "id_tickets_per_day", "phone_tickets_per_day", "id_visit_days", "ids_per_phone", "kiosk_burst_tickets",
    "same_staff_visits", "top_fast_ratings", "pad_late_ratings", "suspensions_per_day",
    "out_of_order_per_day", "peers",
)  # fmt: skip
SECONDS = ("kiosk_burst_seconds", "top_fast_seconds", "pad_gap_seconds")


def read_signals(top: Reader, data: dict[str, Any]) -> SignalsConf:
    reader = Reader(top.source, top.text, table(top, data, "signals"), "signals", "signals")
    default = SignalsConf()
    values: dict[str, Any] = {}
    for key in COUNTS:
        values[key] = reader.positive(key, getattr(default, key), most=MOST_COUNT)
    for key in SECONDS:
        values[key] = reader.positive(key, getattr(default, key), most=MOST_SECONDS)
    values["days"] = reader.positive("days", default.days, most=MOST_DAYS)
    values["percentile"] = decimal(reader, "percentile", default.percentile, 0, 99.9)
    if 0 < values["percentile"] < 50:
        raise reader.fail("percentile", "0 (no comparison) or 50–99.9")
    values["top_fast_share"] = decimal(reader, "top_fast_share", default.top_fast_share, 0.5, 1)
    values["peer_factor"] = decimal(reader, "peer_factor", default.peer_factor, 1, 100)
    reader.finish()
    return SignalsConf(**values)


def decimal(reader: Reader, key: str, default: float, least: float, most: float) -> float:
    value = reader.get(key, (int, float), default)
    if not least <= value <= most:  # NaN fails this too
        raise reader.fail(key, f"must be a number from {least:g} to {most:g}")
    return float(value)


def from_stored(stored: dict[str, Any] | None) -> SignalsConf:
    """The thresholds as stored on the hall's row; a key it lacks takes its default."""
    fields = {f.name for f in dataclasses.fields(SignalsConf)}
    return SignalsConf(**{k: v for k, v in (stored or {}).items() if k in fields})


# As text, so that a connection with or without the pool's jsonb codec reads and writes the same.
STORE = "UPDATE halls SET signal_thresholds = $2::text::jsonb WHERE id = $1"
LOAD = "SELECT signal_thresholds::text FROM halls WHERE id = $1"


async def apply_signals(conn: Connection, hall_id: int, conf: SignalsConf) -> None:
    """Store the thresholds on the hall's row (inside the caller's transaction)."""
    await conn.execute(STORE, hall_id, json.dumps(conf.json()))


async def load_signals(conn: Connection, hall_id: int) -> SignalsConf:
    stored = await conn.fetchval(LOAD, hall_id)
    return from_stored(json.loads(stored) if stored else None)
