"""The yellow-card rules (红黄牌, CONTRACT §11): what each finds in the hall's data
at a moment `now`, as occurrences; the readings below are explained to
supervisors in docs/supervision.md, "Red and yellow cards".

Every rule reads only what the database holds (tickets, the action log,
attendance, ratings and their cases) and takes `now` as an argument: the same
data at the same moment gives the same occurrences, so evaluating again, in
another process or after a restart finds nothing new, and a test evaluates at
the moment it chooses. Each occurrence has a `subject`, what makes it one
occurrence of its rule (a ticket and its call, a log entry, a window and the
action that left it free, a sign-out, a rating): the cards table holds one card
per rule and subject. `at` is when the rule was broken (the threshold reached),
never when someone looked. This module has the rules that run on minutes;
those one act breaks are `card_acts`'; issuing cards, once each, and red cards
are `cards`'.

- `time_limit` (限时办结): a ticket at a window longer than its service's
  `time_limit_minutes`, counted from its call (start is optional at the
  console, so the call is when the window has the citizen); found while it is
  there or once it is finished late.
- `long_wait`: a ticket waiting `wait_minutes` without a call, counted from
  when it joined the line (issued, transferred, put back after 挂起 or 过号).
  About the hall, not a person: no staff member is named.
- `idle_window`: a window staffed, not paused and with no ticket, whose
  services have tickets waiting, for `idle_minutes` — counted from the later
  of the window's last call action and the moment its first waiting ticket
  joined the line; one card per idle stretch (until the window acts again).
- `absent` (空岗): a window left empty for `absent_minutes` of opening hours
  after someone signed out there (so it was staffed that day), with nobody
  signing in meanwhile; hours are the hall's opens_at–closes_at of that day.
- `out_of_order_call` (指呼): a `call` whose ticket is not the rule's choice.
- `suspended_twice` (一次性告知): a ticket suspended again, unless this
  suspension names only documents an earlier one of it already named (the
  citizen came back still without them: the hall told them once).
- `bad_rating`: a 差评 that stands: its case closed and no upheld appeal took
  it out (an upheld appeal marks the rating excluded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from clearhall.server.domain import messages
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.text import Text
from clearhall.server.domain.tickets import local_iso
from clearhall.server.store.db import Connection

TIME_LIMIT: Final = "time_limit"
LONG_WAIT: Final = "long_wait"
IDLE_WINDOW: Final = "idle_window"
ABSENT: Final = "absent"
OUT_OF_ORDER: Final = "out_of_order_call"
SUSPENDED_TWICE: Final = "suspended_twice"
BAD_RATING: Final = "bad_rating"
YELLOW_RULES: Final = (TIME_LIMIT, LONG_WAIT, IDLE_WINDOW, ABSENT, OUT_OF_ORDER, SUSPENDED_TWICE, BAD_RATING)
# How far back an evaluation looks for what ended or happened at once (a late
# finish, a log entry, a sign-out, a closed case): a stopped evaluator catches
# up on this much when it runs again.
LOOKBACK: Final = timedelta(days=2)
# The window's own acts: after the last of them it stands free (idle_window).
WINDOW_ACTS: Final = [
    "sign_in", "resume", "call_next", "call", "recall", "start", "finish", "no_show", "transfer",
    "suspend", "undo", "requeue", "comeback",
]  # fmt: skip
JOINS_LINE: Final = "('issue', 'transfer', 'requeue', 'comeback')"  # a ticket starts waiting
MOST_LISTED = 10  # tickets listed in one card's evidence
# Each rule in a word, for sentences (a red card names the rules of its yellows).
RULE_WORDS: Final = {
    TIME_LIMIT: messages.RULE_TIME_LIMIT,
    LONG_WAIT: messages.RULE_LONG_WAIT,
    IDLE_WINDOW: messages.RULE_IDLE_WINDOW,
    ABSENT: messages.RULE_ABSENT,
    OUT_OF_ORDER: messages.RULE_OUT_OF_ORDER,
    SUSPENDED_TWICE: messages.RULE_SUSPENDED_TWICE,
    BAD_RATING: messages.RULE_BAD_RATING,
}


@dataclass(frozen=True)
class Occurrence:
    rule: str
    subject: str
    at: datetime
    staff_id: int | None
    window_id: int | None
    ticket_id: str | None
    ticket_number: str | None
    evidence: dict[str, Any]
    color: str = "yellow"
    yellows: tuple[int, ...] = ()  # a red card's yellow cards


def not_carded(rule: str, subject_sql: str) -> str:
    return f"""NOT EXISTS (SELECT 1 FROM cards k WHERE k.hall_id = $1 AND k.rule = '{rule}'
                  AND k.subject = {subject_sql})"""


def evidence(
    rule: str,
    threshold: dict[str, int],
    times: dict[str, Any],
    tickets: list[dict[str, Any]],
    entries: list[int],
    why: Text,
    **extra: Any,
) -> dict[str, Any]:
    """A card's evidence: the rule and its threshold, the moments that count, the tickets,
    the action-log entries it rests on, and the sentence saying why (zh, en)."""
    return {
        "rule": rule, "threshold": threshold, "times": times, "tickets": tickets, "entries": entries,
        "sentence": {"zh": why.zh, "en": why.en}, **extra,
    }  # fmt: skip


def moments(tz: str, **values: datetime | None) -> dict[str, str | None]:
    """Named moments in the hall's local time, as the API shows times."""
    return {name: local_iso(value, tz) for name, value in values.items()}


def clock(value: datetime | None, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%H:%M") if value else "—"


# -- tickets at a window (called, serving) or finished, whose time from the call
# -- reached their service's limit by $2; one card per ticket and call
TIME_LIMIT_SQL = f"""
SELECT t.id, t.number, t.status, t.staff_id, t.window_id, w.number AS window, s.code AS service,
       s.time_limit_minutes AS minutes, t.called_at, t.started_at, t.finished_at,
       t.called_at + make_interval(mins => s.time_limit_minutes) AS at,
       t.id || '@' || (extract(epoch FROM t.called_at) * 1000000)::bigint AS subject
FROM tickets t JOIN services s ON s.id = t.service_id LEFT JOIN windows w ON w.id = t.window_id
WHERE t.hall_id = $1 AND t.day >= $3 AND t.called_at IS NOT NULL
  AND t.status IN ('called', 'serving', 'done')
  AND t.called_at + make_interval(mins => s.time_limit_minutes) <= $2
  AND (t.status <> 'done' OR t.finished_at >= t.called_at + make_interval(mins => s.time_limit_minutes))
  AND {not_carded(TIME_LIMIT, "t.id || '@' || (extract(epoch FROM t.called_at) * 1000000)::bigint")}
ORDER BY at, t.id
"""


async def time_limit(conn: Connection, hall: Hall, now: datetime, since_day: date) -> list[Occurrence]:
    tz, found = hall.timezone, []
    for r in await conn.fetch(TIME_LIMIT_SQL, hall.id, now, since_day):
        served = {k: local_iso(r[k], tz) for k in ("called_at", "started_at", "finished_at")}
        ticket = {"number": r["number"], "service": r["service"], **served}
        times = moments(tz, since=r["called_at"], at=r["at"], finished_at=r["finished_at"])
        why = messages.CARD_TIME_LIMIT(
            ticket=r["number"], service=r["service"], since=clock(r["called_at"], tz), window=r["window"],
            minutes=r["minutes"],
        )  # fmt: skip
        found.append(Occurrence(
            TIME_LIMIT, r["subject"], r["at"], r["staff_id"], r["window_id"], r["id"], r["number"],
            evidence(TIME_LIMIT, {"minutes": r["minutes"]}, times, [ticket], [], why),
        ))  # fmt: skip
    return found


# -- each time a ticket joined the line ($3 on), not called within $4 minutes of it
LONG_WAIT_SQL = f"""
SELECT a.id AS entry, a.action AS joined_by, a.at AS since, a.ticket_id, t.number,
       CASE a.action WHEN 'issue' THEN fs.code
            WHEN 'transfer' THEN coalesce(a.details->>'to_service', s.code) ELSE s.code END AS service,
       a.at + make_interval(mins => $4) AS at, called.id AS called_entry, called.at AS called_at
FROM action_log a
JOIN tickets t ON t.id = a.ticket_id
JOIN services s ON s.id = t.service_id
JOIN services fs ON fs.id = t.first_service_id
LEFT JOIN LATERAL (
    -- its next call after joining: the end of this wait
    SELECT c.id, c.at FROM action_log c
    WHERE c.ticket_id = a.ticket_id AND c.action IN ('call_next', 'call') AND c.id > a.id
    ORDER BY c.id LIMIT 1
) called ON true
WHERE a.hall_id = $1 AND a.action IN {JOINS_LINE} AND a.at >= $3
  AND a.at + make_interval(mins => $4) <= $2
  AND (called.at IS NULL OR called.at >= a.at + make_interval(mins => $4))
  AND {not_carded(LONG_WAIT, "'entry:' || a.id")}
ORDER BY a.at, a.id
"""


async def long_wait(conn: Connection, hall: Hall, now: datetime, minutes: int) -> list[Occurrence]:
    tz, found = hall.timezone, []
    for r in await conn.fetch(LONG_WAIT_SQL, hall.id, now, now - LOOKBACK, minutes):
        times = moments(tz, since=r["since"], at=r["at"], called_at=r["called_at"])
        ticket = {"number": r["number"], "service": r["service"], "joined_by": r["joined_by"]}
        why = messages.CARD_LONG_WAIT(
            ticket=r["number"], service=r["service"], since=clock(r["since"], tz), minutes=minutes
        )
        entries = [r["entry"]] + ([r["called_entry"]] if r["called_entry"] else [])
        found.append(Occurrence(
            LONG_WAIT, f"entry:{r['entry']}", r["at"], None, None, r["ticket_id"], r["number"],
            evidence(LONG_WAIT, {"minutes": minutes}, times, [ticket], entries, why),
        ))  # fmt: skip
    return found


# -- open windows with nothing called, free for `$4` minutes at least: since their last
# -- own act after the sign-in; and the tickets of their services waiting now, each since it joined the
# -- line (read once per ticket, not once per window). A window that acted within the
# -- last $4 minutes cannot be idle yet, so a busy hall reads no line at all: this runs
# -- every few seconds, and a long statement here holds back the cleaning of the queue's
# -- dead rows for every call (session 6: 14 s with 20,000 waiting and a year of history).
IDLE_SQL = f"""
WITH open_windows AS MATERIALIZED (
    SELECT w.id, w.number, w.staff_id, last.id AS entry, last.at AS free_since, last.action AS freed_by,
           array(SELECT ws.service_id FROM window_services ws WHERE ws.window_id = w.id) AS services
    FROM windows w
    JOIN LATERAL (
        -- since its staff member signed in there (that is one of its acts): today's rows
        SELECT a.id, a.at, a.action FROM action_log a
        WHERE a.hall_id = $1 AND a.window_number = w.number AND a.action = ANY($3::text[])
          AND a.at >= (SELECT max(att.signed_in_at) FROM attendance att
                       WHERE att.window_id = w.id AND att.staff_id = w.staff_id AND att.signed_out_at IS NULL)
        ORDER BY a.at DESC, a.id DESC LIMIT 1
    ) last ON true
    WHERE w.hall_id = $1 AND w.active AND w.staff_id IS NOT NULL AND NOT w.paused
      AND w.current_ticket_id IS NULL AND last.at + make_interval(mins => $4) <= $2
), line AS MATERIALIZED (
    SELECT t.id, t.number, t.service_id,
           coalesce((SELECT max(a.at) FROM action_log a
                     WHERE a.ticket_id = t.id AND a.action IN {JOINS_LINE}), t.issued_at) AS since
    FROM tickets t
    WHERE t.hall_id = $1 AND t.status = 'waiting'
      AND t.service_id = ANY(ARRAY(SELECT DISTINCT unnest(o.services) FROM open_windows o))
), waiting AS (
    SELECT o.id AS window_id, l.id, l.number, l.since
    FROM open_windows o JOIN line l ON l.service_id = ANY(o.services)
)
SELECT o.id, o.number, o.staff_id, o.entry, o.free_since, o.freed_by, line.since AS waiting_since,
       line.waiting_count, line.numbers, line.first_id,
       greatest(o.free_since, line.since) + make_interval(mins => $4) AS at
FROM open_windows o
JOIN LATERAL (
    SELECT min(q.since) AS since, count(*) AS waiting_count,
           (array_agg(q.number ORDER BY q.since, q.id))[1:{MOST_LISTED}] AS numbers,
           (array_agg(q.id ORDER BY q.since, q.id))[1] AS first_id
    FROM waiting q WHERE q.window_id = o.id
) line ON line.waiting_count > 0
WHERE greatest(o.free_since, line.since) + make_interval(mins => $4) <= $2
  AND {not_carded(IDLE_WINDOW, "'window:' || o.id || '@' || o.entry")}
ORDER BY o.number
"""


async def idle_window(conn: Connection, hall: Hall, now: datetime, minutes: int) -> list[Occurrence]:
    tz, found = hall.timezone, []
    for r in await conn.fetch(IDLE_SQL, hall.id, now, WINDOW_ACTS, minutes):
        since = max(r["free_since"], r["waiting_since"])
        times = moments(
            tz, free_since=r["free_since"], waiting_since=r["waiting_since"], since=since, at=r["at"]
        )
        tickets = [{"number": n} for n in r["numbers"]]
        why = messages.CARD_IDLE_WINDOW(
            window=r["number"], since=clock(since, tz), minutes=minutes, ticket=r["numbers"][0]
        )
        found.append(Occurrence(
            IDLE_WINDOW, f"window:{r['id']}@{r['entry']}", r["at"], r["staff_id"], r["id"], r["first_id"],
            r["numbers"][0],
            evidence(IDLE_WINDOW, {"minutes": minutes}, times, tickets, [r["entry"]], why,
                     freed_by=r["freed_by"], waiting=r["waiting_count"]),
        ))  # fmt: skip
    return found


# -- sign-outs ($3 on) and when someone next signed in at that window
ABSENT_SQL = f"""
SELECT r.id, r.window_id, w.number AS window, r.staff_id, st.name AS staff_name, r.signed_in_at,
       r.signed_out_at,
       (SELECT min(n.signed_in_at) FROM attendance n
        WHERE n.window_id = r.window_id AND n.signed_in_at >= r.signed_out_at) AS back_at
FROM attendance r JOIN windows w ON w.id = r.window_id JOIN staff st ON st.id = r.staff_id
WHERE r.hall_id = $1 AND w.active AND r.signed_out_at >= $3 AND r.signed_out_at <= $2
  AND {not_carded(ABSENT, "'attendance:' || r.id")}
ORDER BY r.signed_out_at, r.id
"""


def opening_hours(hall: Hall, moment: datetime) -> tuple[datetime, datetime]:
    """The hall's hours on the local day of `moment`: from opens_at through the last minute of closes_at."""
    zone = ZoneInfo(hall.timezone)
    day = moment.astimezone(zone).date()
    opens = datetime.combine(day, hall.opens_at, tzinfo=zone)
    return opens, datetime.combine(day, hall.closes_at, tzinfo=zone) + timedelta(minutes=1)


async def absent(conn: Connection, hall: Hall, now: datetime, minutes: int) -> list[Occurrence]:
    tz, found = hall.timezone, []
    for r in await conn.fetch(ABSENT_SQL, hall.id, now, now - LOOKBACK):
        opens, closes = opening_hours(hall, r["signed_out_at"])
        since = max(r["signed_out_at"], opens)
        at = since + timedelta(minutes=minutes)
        if at > now or at >= closes or (r["back_at"] is not None and r["back_at"] < at):
            continue  # not yet, past closing, or someone came back in time
        times = moments(
            tz, signed_in_at=r["signed_in_at"], signed_out_at=r["signed_out_at"], since=since, at=at,
            opens_at=opens, closes_at=closes,
        )  # fmt: skip
        why = messages.CARD_ABSENT(
            window=r["window"], name=r["staff_name"], since=clock(r["signed_out_at"], tz), minutes=minutes
        )
        found.append(Occurrence(
            ABSENT, f"attendance:{r['id']}", at, r["staff_id"], r["window_id"], None, None,
            evidence(ABSENT, {"minutes": minutes}, times, [], [], why),
        ))  # fmt: skip
    return found
