"""One person far above their peers: the integrity signals about window calls (kind `peer_outlier`).

Counted per staff member per hall-local day from the action log:

- `suspensions`: tickets suspended (挂起);
- `out_of_order_calls`: tickets called by number (指呼 / 特呼) when the rule
  would have called another.

A person is shown when their count is at least the line
(`suspensions_per_day`, `out_of_order_per_day`) and more than `peer_factor`
times the median of the others who worked that day (a call or a suspension
in the log), of whom there must be at least `peers`: with fewer there is no
one to compare with.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from clearhall.server.domain.figures import day_bounds
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.signal_rows import MOST_ROWS, Signal, log_row, number
from clearhall.server.domain.signal_texts import OUT_OF_ORDER, SUSPENSIONS
from clearhall.server.domain.text import Text
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_signals import SignalsConf

SUSPENSION: Final = "a.action = 'suspend'"
OUT_OF_ORDER_CALL: Final = "a.action = 'call' AND a.rule_ticket_id IS DISTINCT FROM a.ticket_id"

# -- per staff member and hall-local day: calls, suspensions and out-of-order calls
DAILY_COUNTS: Final = f"""
SELECT st.id AS staff_id, st.username, st.name, (a.at AT TIME ZONE $4)::date AS day,
       count(*) FILTER (WHERE a.action IN ('call_next', 'call')) AS calls,
       count(*) FILTER (WHERE {SUSPENSION}) AS suspensions,
       count(*) FILTER (WHERE {OUT_OF_ORDER_CALL}) AS out_of_order_calls
FROM action_log a JOIN staff st ON st.id = a.actor_id
WHERE a.hall_id = $1 AND a.at >= $2 AND a.at < $3 AND a.actor_kind = 'staff'
  AND a.action IN ('call_next', 'call', 'suspend')
GROUP BY st.id, st.username, st.name, (a.at AT TIME ZONE $4)::date
ORDER BY day, st.username
"""


def entries_sql(condition: str) -> str:
    # -- one person's log entries of one kind in [$3, $4), in order
    return f"""
SELECT a.id, a.at, a.action, a.window_number AS window, a.ticket_number AS ticket, a.reason,
       a.rule_ticket_number AS rule_ticket
FROM action_log a
WHERE a.hall_id = $1 AND a.actor_kind = 'staff' AND a.actor_id = $2 AND a.at >= $3 AND a.at < $4
  AND {condition}
ORDER BY a.id
LIMIT {MOST_ROWS}
"""


# rule (also the column of DAILY_COUNTS): its entries in the log, its threshold, its sentence
RULES: Final[dict[str, tuple[str, str, Text]]] = {
    "suspensions": (SUSPENSION, "suspensions_per_day", SUSPENSIONS),
    "out_of_order_calls": (OUT_OF_ORDER_CALL, "out_of_order_per_day", OUT_OF_ORDER),
}
ENTRIES: Final = {rule: entries_sql(condition) for rule, (condition, _, _) in RULES.items()}


@dataclass(frozen=True)
class Peers:
    """How the others who worked that day did: how many they were, and their median."""

    count: int
    median: float


async def peer_outliers(
    conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date
) -> list[Signal]:
    start, end = day_bounds(first, last, hall.timezone)
    by_day: dict[date, list[Any]] = defaultdict(list)
    for r in await conn.fetch(DAILY_COUNTS, hall.id, start, end, hall.timezone):
        by_day[r["day"]].append(r)
    out = []
    for rule, (_, threshold, _) in RULES.items():
        line = getattr(th, threshold)
        for day, people in sorted(by_day.items()):
            for person in people:
                others = [p[rule] for p in people if p is not person]
                if person[rule] < line or len(others) < th.peers:
                    continue
                peers = Peers(len(others), statistics.median(others))
                if person[rule] > th.peer_factor * peers.median:
                    out.append(await outlier(conn, hall, th, rule, day, person, peers))
    return out


async def outlier(
    conn: Connection, hall: Hall, th: SignalsConf, rule: str, day: date, person: Any, peers: Peers
) -> Signal:
    _, threshold, text = RULES[rule]
    line = getattr(th, threshold)
    since, until = day_bounds(day, day, hall.timezone)
    rows = await conn.fetch(ENTRIES[rule], hall.id, person["staff_id"], since, until)
    why = text(
        staff=person["name"],
        day=day.isoformat(),
        count=person[rule],
        peers=peers.count,
        median=number(peers.median),
        least=line,
        factor=number(th.peer_factor),
    )
    return Signal(
        kind="peer_outlier",
        rule=rule,
        first=day,
        last=day,
        about={"kind": "staff", "staff": {"username": person["username"], "name": person["name"]}},
        figures={
            rule: person[rule],
            "calls": person["calls"],
            "peers": peers.count,
            "peer_median": peers.median,
        },
        thresholds={threshold: line, "peer_factor": th.peer_factor, "peers": th.peers},
        why=why,
        rows=[log_row(r) for r in rows],
        rows_total=person[rule],
    )
