"""The yellow-card rules that a single act breaks (红黄牌, CONTRACT §11): an
out-of-order call, a second suspension of one ticket, a 差评 that stands. Each
is found in the action log or the ratings' cases from LOOKBACK before `now`
up to `now`; the readings are in `card_rules`' docstring and
docs/supervision.md. The rules that run on minutes are `card_rules`'.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from clearhall.server.domain import messages
from clearhall.server.domain.card_rules import (
    BAD_RATING,
    LOOKBACK,
    OUT_OF_ORDER,
    SUSPENDED_TWICE,
    Occurrence,
    clock,
    evidence,
    moments,
    not_carded,
)
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.text import Text
from clearhall.server.domain.tickets import local_iso
from clearhall.server.store.db import Connection

MOST_NAMED = 5  # documents named in a sentence; the evidence lists them all

LOGGED = """a.id AS entry, a.at, a.actor_kind, a.actor_id, a.window_number AS window, w.id AS window_id,
       a.ticket_id, a.ticket_number, a.reason"""

# -- calls out of order ($3 on): the ticket called is not the one the rule chose
OUT_OF_ORDER_SQL = f"""
SELECT {LOGGED}, a.rule_ticket_number
FROM action_log a LEFT JOIN windows w ON w.hall_id = a.hall_id AND w.number = a.window_number
WHERE a.hall_id = $1 AND a.action = 'call' AND a.at >= $3 AND a.at <= $2
  AND a.rule_ticket_id IS DISTINCT FROM a.ticket_id
  AND {not_carded(OUT_OF_ORDER, "'entry:' || a.id")}
ORDER BY a.id
"""


def staff_of(r: asyncpg.Record) -> int | None:
    return r["actor_id"] if r["actor_kind"] == "staff" else None


async def out_of_order(conn: Connection, hall: Hall, now: datetime) -> list[Occurrence]:
    tz, found = hall.timezone, []
    for r in await conn.fetch(OUT_OF_ORDER_SQL, hall.id, now, now - LOOKBACK):
        rule_ticket = r["rule_ticket_number"] or "—"
        why = messages.CARD_OUT_OF_ORDER(
            window=r["window"], since=clock(r["at"], tz), ticket=r["ticket_number"], rule_ticket=rule_ticket,
            reason=r["reason"] or "—",
        )  # fmt: skip
        tickets = [
            {"number": r["ticket_number"], "called": True},
            {"number": r["rule_ticket_number"], "rule": True},
        ]
        found.append(Occurrence(
            OUT_OF_ORDER, f"entry:{r['entry']}", r["at"], staff_of(r), r["window_id"], r["ticket_id"],
            r["ticket_number"],
            evidence(OUT_OF_ORDER, {}, {"at": local_iso(r["at"], tz)}, tickets, [r["entry"]], why,
                     reason=r["reason"]),
        ))  # fmt: skip
    return found


# -- suspensions ($3 on) of a ticket suspended before, with those earlier ones
SUSPENDED_SQL = f"""
SELECT {LOGGED}, coalesce(a.details->'missing', '[]'::jsonb) AS missing,
       before.entries, before.ats, before.named
FROM action_log a
LEFT JOIN windows w ON w.hall_id = a.hall_id AND w.number = a.window_number
JOIN LATERAL (
    SELECT array_agg(e.id ORDER BY e.id) AS entries, array_agg(e.at ORDER BY e.id) AS ats,
           jsonb_agg(coalesce(e.details->'missing', '[]'::jsonb) ORDER BY e.id) AS named
    FROM action_log e WHERE e.ticket_id = a.ticket_id AND e.action = 'suspend' AND e.id < a.id
) before ON before.entries IS NOT NULL
WHERE a.hall_id = $1 AND a.action = 'suspend' AND a.at >= $3 AND a.at <= $2
  AND {not_carded(SUSPENDED_TWICE, "'entry:' || a.id")}
ORDER BY a.id
"""


async def suspended_twice(conn: Connection, hall: Hall, now: datetime) -> list[Occurrence]:
    tz, found = hall.timezone, []
    for r in await conn.fetch(SUSPENDED_SQL, hall.id, now, now - LOOKBACK):
        missing = [str(m) for m in r["missing"]]
        named_before = {str(m) for items in r["named"] for m in items}
        if missing and set(missing) <= named_before:
            continue  # the same documents again: the citizen was told once
        times = {"at": local_iso(r["at"], tz), "before": [local_iso(a, tz) for a in r["ats"]]}
        named: Text | str = messages.CARD_NOTHING_NAMED
        if missing:
            named = "、".join(missing[:MOST_NAMED]) + ("…" if len(missing) > MOST_NAMED else "")
        why = messages.CARD_SUSPENDED_TWICE(
            ticket=r["ticket_number"], window=r["window"], times=len(r["entries"]) + 1, missing=named
        )
        found.append(Occurrence(
            SUSPENDED_TWICE, f"entry:{r['entry']}", r["at"], staff_of(r), r["window_id"], r["ticket_id"],
            r["ticket_number"],
            evidence(SUSPENDED_TWICE, {"suspensions": 2}, times, [{"number": r["ticket_number"]}],
                     [*r["entries"], r["entry"]], why, missing=missing, named_before=sorted(named_before),
                     new_items=sorted(set(missing) - named_before), reason=r["reason"]),
        ))  # fmt: skip
    return found


# -- 差评 whose case closed ($3 on) and that no upheld appeal took out
BAD_RATING_SQL = f"""
SELECT r.id, r.score, r.reasons, r.created_at AS rated_at, r.staff_id, r.window_id, w.number AS window,
       t.id AS ticket_id, t.number, f.id AS follow_up, f.created_at AS opened_at, f.closed_at AS at,
       EXISTS (SELECT 1 FROM follow_up_steps s WHERE s.follow_up_id = f.id AND s.kind = 'appeal') AS appealed
FROM follow_ups f
JOIN ratings r ON r.id = f.rating_id
JOIN tickets t ON t.id = r.ticket_id
LEFT JOIN windows w ON w.id = r.window_id
WHERE f.hall_id = $1 AND f.kind = 'rating' AND f.status = 'closed' AND f.closed_at >= $3 AND f.closed_at <= $2
  AND r.score <= 2 AND NOT r.excluded
  AND {not_carded(BAD_RATING, "'rating:' || r.id")}
ORDER BY f.closed_at, r.id
"""


async def bad_rating(conn: Connection, hall: Hall, now: datetime) -> list[Occurrence]:
    tz, found = hall.timezone, []
    for r in await conn.fetch(BAD_RATING_SQL, hall.id, now, now - LOOKBACK):
        appeal = messages.CARD_APPEAL_REJECTED if r["appealed"] else messages.CARD_NOT_APPEALED
        why = messages.CARD_BAD_RATING(
            ticket=r["number"], score=r["score"], since=clock(r["at"], tz), appeal=appeal
        )
        times = moments(tz, rated_at=r["rated_at"], opened_at=r["opened_at"], closed_at=r["at"])
        found.append(Occurrence(
            BAD_RATING, f"rating:{r['id']}", r["at"], r["staff_id"], r["window_id"], r["ticket_id"],
            r["number"],
            evidence(BAD_RATING, {"score_at_most": 2}, times, [{"number": r["number"]}], [], why,
                     score=r["score"], reasons=list(r["reasons"]), follow_up=r["follow_up"],
                     appeal="rejected" if r["appealed"] else "none"),
        ))  # fmt: skip
    return found
