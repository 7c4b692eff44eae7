"""黄牛 and possible 中介: the integrity signals about who takes tickets and who serves them.

Scalping (kind `scalping`), by the keyed hash of an ID or phone number, or by
kiosk device:

- `id_per_day` / `phone_per_day`: one number took at least the line's tickets
  in one hall-local day (for ID numbers never more than the hall's own
  `daily_tickets_per_id`: using the whole allowance is shown) and, once the
  hall has enough history (`MIN_SAMPLE` number-days in the last `days`), more
  than the `percentile` of the hall's own tickets per number per day;
- `id_many_days`: one ID number took tickets on `id_visit_days` different days
  within `days`;
- `phone_many_ids`: one phone number was given with `ids_per_phone` different
  ID numbers within `days` (the scalper's own phone, for the call alerts);
- `kiosk_burst`: one kiosk issued `kiosk_burst_tickets` within
  `kiosk_burst_seconds`, faster than people take tickets one after another.

Collusion (kind `collusion`, rule `same_staff`): one applicant's tickets
finished by the same staff member `same_staff_visits` times within `days`.

A span of `days` counts when it ends on a day asked for, so a signal is about
those days, with the days before them as its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from clearhall.server.domain import proxies
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.signal_rows import (
    Signal,
    busiest_span,
    joined,
    number,
    ref,
    ticket_rows,
)
from clearhall.server.domain.signal_texts import (
    ABOVE_PERCENTILE,
    ID_MANY_DAYS,
    ID_PER_DAY,
    KIOSK_BURST,
    PHONE_MANY_IDS,
    PHONE_PER_DAY,
    REGISTERED_PROXY,
    SAME_STAFF,
)
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_signals import SignalsConf

MIN_SAMPLE: Final = 100  # number-days of history before the hall's percentile means anything
# The kinds of number, and what counts as one: a proxy's ticket (帮代办) counts for the
# proxy, who took it and stands at the window, and its applicant is named in its row.
NUMBERS: Final = {"id": "coalesce(t.proxy_id_hash, t.id_hash)", "phone": "t.phone_hash"}
PERSON: Final = NUMBERS["id"]


def per_day_sql(column: str) -> str:
    # -- tickets per number per hall-local day, on the days asked for, at or over the line
    return f"""
SELECT {column} AS subject, t.day, count(*) AS n, array_agg(t.id ORDER BY t.issued_at, t.id) AS tickets
FROM tickets t
WHERE t.hall_id = $1 AND t.day BETWEEN $2 AND $3 AND {column} IS NOT NULL
GROUP BY {column}, t.day
HAVING count(*) >= $4
ORDER BY t.day, n DESC, {column}
"""


def distribution_sql(column: str) -> str:
    # -- the hall's own tickets per number per day: how many such days, and the percentile asked for
    return f"""
SELECT count(*) AS sample, percentile_cont($4::float8) WITHIN GROUP (ORDER BY n) AS value
FROM (SELECT count(*) AS n FROM tickets t
      WHERE t.hall_id = $1 AND t.day BETWEEN $2 AND $3 AND {column} IS NOT NULL
      GROUP BY {column}, t.day) daily
"""


PER_DAY: Final = {kind: per_day_sql(column) for kind, column in NUMBERS.items()}
DISTRIBUTION: Final = {kind: distribution_sql(column) for kind, column in NUMBERS.items()}

# -- ID numbers with tickets on at least $4 different days, the last on or after $5
ID_DAYS = f"""
SELECT {PERSON} AS subject, array_agg(t.day ORDER BY t.day, t.issued_at, t.id) AS days,
       array_agg(t.day ORDER BY t.day, t.issued_at, t.id) AS keys,
       array_agg(t.id ORDER BY t.day, t.issued_at, t.id) AS tickets
FROM tickets t
WHERE t.hall_id = $1 AND t.day BETWEEN $2 AND $3 AND t.id_hash IS NOT NULL
GROUP BY {PERSON}
HAVING count(DISTINCT t.day) >= $4 AND max(t.day) >= $5
"""

# -- phone numbers given with at least $4 different ID numbers, the last on or after $5
PHONE_IDS = """
SELECT t.phone_hash AS subject, array_agg(t.day ORDER BY t.day, t.issued_at, t.id) AS days,
       array_agg(t.id_hash ORDER BY t.day, t.issued_at, t.id) AS keys,
       array_agg(t.id ORDER BY t.day, t.issued_at, t.id) AS tickets
FROM tickets t
WHERE t.hall_id = $1 AND t.day BETWEEN $2 AND $3 AND t.phone_hash IS NOT NULL AND t.id_hash IS NOT NULL
GROUP BY t.phone_hash
HAVING count(DISTINCT t.id_hash) >= $4 AND max(t.day) >= $5
"""

# -- per kiosk and hall-local day, its busiest run: the most tickets issued within $4
KIOSK_BURSTS = """
WITH issued AS (
    SELECT t.issued_by_device AS device, t.day, t.issued_at,
           count(*) OVER (PARTITION BY t.issued_by_device ORDER BY t.issued_at
                          RANGE BETWEEN $4::interval PRECEDING AND CURRENT ROW) AS n
    FROM tickets t
    WHERE t.hall_id = $1 AND t.day BETWEEN $2 AND $3 AND t.issued_by_device IS NOT NULL
)
SELECT DISTINCT ON (i.device, i.day) i.device, d.name, i.day, i.n, i.issued_at AS burst_end
FROM issued i JOIN devices d ON d.id = i.device
WHERE i.n >= $5
ORDER BY i.device, i.day, i.n DESC, i.issued_at
"""
BURST_TICKETS = """
SELECT array_agg(id ORDER BY issued_at, id) FROM tickets
WHERE hall_id = $1 AND issued_by_device = $2 AND issued_at BETWEEN $3::timestamptz - $4::interval AND $3
"""

# -- one person's tickets (the applicant's, or the proxy's who came for them) finished by
# -- one staff member, at least $4 of them, the last on or after $5
SAME_STAFF_VISITS = f"""
SELECT {PERSON} AS subject, t.staff_id, st.username, st.name,
       array_agg(t.day ORDER BY t.day, t.finished_at, t.id) AS days,
       array_agg(t.id ORDER BY t.day, t.finished_at, t.id) AS keys,
       array_agg(t.id ORDER BY t.day, t.finished_at, t.id) AS tickets,
       array_agg(DISTINCT t.service_id) AS services
FROM tickets t JOIN staff st ON st.id = t.staff_id
WHERE t.hall_id = $1 AND t.day BETWEEN $2 AND $3 AND t.id_hash IS NOT NULL AND t.status = 'done'
GROUP BY {PERSON}, t.staff_id, st.username, st.name
HAVING count(*) >= $4 AND max(t.day) >= $5
"""
# -- how many staff members finished tickets of these services on these days
SERVERS = """
SELECT count(DISTINCT staff_id) FROM tickets
WHERE hall_id = $1 AND day BETWEEN $2 AND $3 AND status = 'done' AND service_id = ANY($4::int[])
"""


async def registered_proxies(conn: Connection, hall_id: int, hashes: Sequence[bytes]) -> frozenset[bytes]:
    """The ID hashes among `hashes` that are registered proxies (帮代办, CONTRACT §12)."""
    return await proxies.registered(conn, hall_id, list(hashes))


async def scalping(conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date) -> list[Signal]:
    since = min(first, last - timedelta(days=th.days - 1))  # a span of `days` ending on a day asked for
    id_line = min(th.id_tickets_per_day, hall.daily_tickets_per_id)
    found = await per_day(conn, hall, th, first, last, "id", id_line)
    found += await per_day(conn, hall, th, first, last, "phone", th.phone_tickets_per_day)
    for row in await conn.fetch(ID_DAYS, hall.id, since, last, th.id_visit_days, first):
        found += await spread(conn, hall.id, th, first, row, "id_many_days")
    for row in await conn.fetch(PHONE_IDS, hall.id, since, last, th.ids_per_phone, first):
        found += await spread(conn, hall.id, th, first, row, "phone_many_ids")
    found += await kiosk_bursts(conn, hall, th, first, last)
    return found


async def per_day(
    conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date, kind: str, line: int
) -> list[Signal]:
    rows = await conn.fetch(PER_DAY[kind], hall.id, first, last, line)
    if not rows:
        return []
    usual = await hall_percentile(conn, hall.id, th, first, last, kind)
    registered = await registered_proxies(conn, hall.id, [r["subject"] for r in rows]) if kind == "id" else ()
    out = []
    for r in rows:
        if usual is not None and r["n"] <= usual["value"]:
            continue  # no more than this hall's own busiest numbers take
        subject = ref(r["subject"])
        text = ID_PER_DAY if kind == "id" else PHONE_PER_DAY
        why = text(ref=subject, day=r["day"].isoformat(), count=r["n"], limit=line)
        if usual is not None:
            shown = usual | {"pct": number(th.percentile), "value": number(usual["value"])}
            why = joined(why, ABOVE_PERCENTILE(**shown))
        proxy = r["subject"] in registered
        if proxy:
            why = joined(why, REGISTERED_PROXY)
        signal = Signal(
            kind="scalping",
            rule=f"{kind}_per_day",
            first=r["day"],
            last=r["day"],
            about={"kind": kind, "ref": subject} | ({"proxy": proxy} if kind == "id" else {}),
            figures={"tickets": r["n"], "hall_percentile": usual},
            thresholds={f"{kind}_tickets_per_day": line, "percentile": th.percentile},
            why=why,
            rows=await ticket_rows(conn, hall.id, r["tickets"]),
            rows_total=len(r["tickets"]),
        )
        out.append(signal)
    return out


async def hall_percentile(
    conn: Connection, hall_id: int, th: SignalsConf, first: date, last: date, kind: str
) -> dict[str, Any] | None:
    """The hall's own `percentile` of tickets per number per day over the last `days`
    (and the days asked for): None when it is off or has too little history."""
    if not th.percentile:
        return None
    since = min(first, last - timedelta(days=th.days - 1))
    d = await conn.fetchrow(DISTRIBUTION[kind], hall_id, since, last, th.percentile / 100)
    if d is None or d["sample"] < MIN_SAMPLE:  # an aggregate always has its row
        return None
    return {"value": round(d["value"], 2), "sample": d["sample"], "days": (last - since).days + 1}


SPREADS: Final = {  # rule: (what is counted, its threshold, the sentence, whose number)
    "id_many_days": ("days_with_tickets", "id_visit_days", ID_MANY_DAYS, "id"),
    "phone_many_ids": ("id_numbers", "ids_per_phone", PHONE_MANY_IDS, "phone"),
}


async def spread(
    conn: Connection, hall_id: int, th: SignalsConf, first: date, row: Any, rule: str
) -> list[Signal]:
    """A number's tickets counted over `days` in a row: distinct days, or distinct ID numbers."""
    counted, threshold, text, kind = SPREADS[rule]
    line = getattr(th, threshold)
    count, inside = busiest_span(
        list(zip(row["days"], row["keys"], row["tickets"], strict=True)), th.days, first
    )
    if count < line:
        return []
    start, end, subject = inside[0][0], inside[-1][0], ref(row["subject"])
    ids = [e[2] for e in inside]
    why = text(
        ref=subject, count=count, first=start.isoformat(), last=end.isoformat(), limit=line, days=th.days
    )
    return [
        Signal(
            kind="scalping",
            rule=rule,
            first=start,
            last=end,
            about={"kind": kind, "ref": subject},
            figures={counted: count, "tickets": len(ids)},
            thresholds={threshold: line, "days": th.days},
            why=why,
            rows=await ticket_rows(conn, hall_id, ids),
            rows_total=len(ids),
        )
    ]


async def kiosk_bursts(
    conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date
) -> list[Signal]:
    span, zone = timedelta(seconds=th.kiosk_burst_seconds), ZoneInfo(hall.timezone)
    out = []
    for r in await conn.fetch(KIOSK_BURSTS, hall.id, first, last, span, th.kiosk_burst_tickets):
        ids = await conn.fetchval(BURST_TICKETS, hall.id, r["device"], r["burst_end"], span)
        rows = await ticket_rows(conn, hall.id, ids)
        why = KIOSK_BURST(
            device=r["name"],
            count=r["n"],
            seconds=th.kiosk_burst_seconds,
            limit=th.kiosk_burst_tickets,
            start=f"{rows[0].issued_at.astimezone(zone):%H:%M:%S}",
            end=f"{r['burst_end'].astimezone(zone):%H:%M:%S}",
        )
        signal = Signal(
            kind="scalping",
            rule="kiosk_burst",
            first=r["day"],
            last=r["day"],
            about={"kind": "kiosk", "device": r["name"]},
            figures={"tickets": r["n"]},
            thresholds={
                "kiosk_burst_tickets": th.kiosk_burst_tickets,
                "kiosk_burst_seconds": th.kiosk_burst_seconds,
            },
            why=why,
            rows=rows,
            rows_total=len(ids),
        )
        out.append(signal)
    return out


async def collusion(conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date) -> list[Signal]:
    since = min(first, last - timedelta(days=th.days - 1))
    rows = await conn.fetch(SAME_STAFF_VISITS, hall.id, since, last, th.same_staff_visits, first)
    proxies = await registered_proxies(conn, hall.id, [r["subject"] for r in rows])
    out = []
    for r in rows:
        events = list(zip(r["days"], r["keys"], r["tickets"], strict=True))
        count, inside = busiest_span(events, th.days, first)
        if count < th.same_staff_visits:
            continue
        start, end = inside[0][0], inside[-1][0]
        servers = await conn.fetchval(SERVERS, hall.id, start, end, r["services"])
        subject, proxy = ref(r["subject"]), r["subject"] in proxies
        why = SAME_STAFF(
            ref=subject,
            staff=r["name"],
            count=count,
            first=start.isoformat(),
            last=end.isoformat(),
            limit=th.same_staff_visits,
            days=th.days,
            servers=servers,
        )
        ids = [e[2] for e in inside]
        signal = Signal(
            kind="collusion",
            rule="same_staff",
            first=start,
            last=end,
            about={
                "kind": "applicant_and_staff",
                "applicant": subject,
                "proxy": proxy,
                "staff": {"username": r["username"], "name": r["name"]},
            },
            figures={"visits": count, "staff_serving_these_services": servers},
            thresholds={"same_staff_visits": th.same_staff_visits, "days": th.days},
            why=joined(why, REGISTERED_PROXY) if proxy else why,
            rows=await ticket_rows(conn, hall.id, ids),
            rows_total=len(ids),
        )
        out.append(signal)
    return out
