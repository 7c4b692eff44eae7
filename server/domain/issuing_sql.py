"""The statement that issues a ticket (`issuing.issue`): checks, count, number, ticket,
log row, event and place in line, in one round trip.

Whatever stands in the way of the ticket (the service unknown, the hours, an
unstaffed service the hall refuses, real name, an ID number's limits, the
kiosk's tickets a minute) makes it issue nothing, count nothing and take no
number: a refused ticket leaves no hole in the numbers and is not counted
against its kiosk, whether or not a transaction is around it. `issuing`
reads in the row which check failed.
"""

from __future__ import annotations

import functools
import re

from clearhall.server.domain import hours, throttle
from clearhall.server.domain.hall import SERVED_NOW
from clearhall.server.domain.tickets import AHEAD, SERVICE_LOAD, TICKET_COLUMNS
from clearhall.server.store.kinds import UNFINISHED


def for_ticket(query: str) -> str:
    """AHEAD or SERVICE_LOAD ($1 the hall, $2.. the ticket) of the ticket ISSUE just made."""
    of = {"2": "ticket.service_id", "3": "ticket.called_first", "4": "ticket.order_at", "5": "ticket.id"}
    return re.sub(r"\$(\d+)", lambda m: of.get(m[1], m[0]), query)


SERVICE_FOR_ISSUE = "SELECT id, appointments FROM services WHERE hall_id = $1 AND code = $2 AND active"

UNFINISHED_SQL = ", ".join(f"'{status}'" for status in UNFINISHED)

# -- a ticket in one statement. $1 the hall, $2 the issuing device (NULL: staff, $3);
# -- $4 the ticket's id, $5 its service's code, $6 the hall's time zone, $7–$15 as the
# -- tickets columns; $16 a kiosk's ticket while the hall is closed; $17 the hall
# -- refuses unstaffed services; $18–$20 the kiosk's count (subject, spacing, burst;
# -- NULL: not counted); $21 daily_tickets_per_id; $22–$25 the log's actor and details;
# -- $26, $27 the event's channel and envelope; $28 alone: the caller's {read} must find
# -- nothing (nothing is to follow the ticket). No ticket, nothing written or counted,
# -- when something stands in its way: the row then says what.
ISSUE = f"""
WITH svc AS (
    -- the service, and what may stand in the way: the hours (unless 延时服务 extends
    -- it), the ID number's unfinished ticket of it and its tickets today
    SELECT s.id, s.code, s.name, s.real_name_required, s.appointments, s.materials, s.place,
           {SERVED_NOW} AS served_now,
           $16::bool AND NOT {hours.EXTENDED.format(hall="$1", service="s.id")} AS closed,
           CASE WHEN $10::bytea IS NOT NULL THEN (
               SELECT h.id FROM tickets h WHERE h.service_id = s.id AND h.id_hash = $10
                 AND h.status IN ({UNFINISHED_SQL}) ORDER BY h.issued_at DESC LIMIT 1) END AS held,
           CASE WHEN $10::bytea IS NOT NULL THEN (
               SELECT count(*) FROM tickets d WHERE d.hall_id = $1 AND d.id_hash = $10
                 AND d.day = (now() AT TIME ZONE $6)::date) END AS taken
    FROM services s WHERE s.hall_id = $1 AND s.code = $5 AND s.active
), kiosk AS MATERIALIZED (
    {{read}}
), ok AS (
    SELECT svc.* FROM svc
    WHERE NOT svc.closed AND (svc.served_now OR NOT $17::bool)
      AND NOT (svc.real_name_required AND $10::bytea IS NULL)
      AND svc.held IS NULL AND coalesce(svc.taken < $21::int, true)
      AND NOT ($28::bool AND EXISTS (SELECT FROM kiosk))
), counted AS (
    -- the kiosk's ticket counted (throttle.HIT), only a ticket that may be issued
    {throttle.kiosk_count("ok WHERE $18::text IS NOT NULL", "$18", "$19", "$20")}
), may AS (
    SELECT ok.* FROM ok WHERE $18::text IS NULL OR EXISTS (SELECT FROM counted)
), counter AS (
    -- the next number of the service today (creating the day's counter)
    INSERT INTO ticket_counters (hall_id, service_id, day, last)
    SELECT $1, may.id, (now() AT TIME ZONE $6)::date, 1 FROM may
    ON CONFLICT (service_id, day) DO UPDATE SET last = ticket_counters.last + 1
    RETURNING day, last
), made AS (
    INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category,
                         priority, status, order_at, key_hash, id_hash, id_masked, phone_hash,
                         phone_masked, issued_by_device, issued_by_staff, proxy_id_hash, proxy_id_masked)
    SELECT $4, $1, may.id, may.id, counter.day, counter.last,
           may.code || CASE WHEN counter.last < 1000 THEN lpad(counter.last::text, 3, '0')
                            ELSE counter.last::text END,
           $7, $8, 'waiting', now(), $9, $10, $11, $12, $13, $2, $3, $14, $15
    FROM may, counter
    RETURNING *
), logged AS (
    INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, ticket_id, ticket_number,
                            action, details)
    SELECT $1, $22, $23, $24, made.id, made.number, 'issue', $25::jsonb FROM made
), told AS (
    -- ticket.issued (sent on commit), its envelope completed here
    SELECT pg_notify($26, ($27::jsonb || jsonb_build_object('ticket', jsonb_build_object(
               'number', made.number, 'service', may.code, 'category', made.category)))::text)
    FROM made, may
)
SELECT svc.id AS svc_id, svc.name AS svc_name, svc.real_name_required, svc.appointments, svc.materials,
       svc.place, svc.served_now, svc.closed, svc.held, svc.taken, (SELECT count(*) FROM told) AS told,
       (SELECT to_jsonb(k) FROM kiosk k) AS kiosk, ticket.*,
       ({for_ticket(AHEAD)}) AS ahead, load.id AS load_id, load.recent_finishes, load.recent_median_s,
       load.typical_s, load.open_windows, load.staffed_windows
FROM (SELECT) one LEFT JOIN svc ON true
LEFT JOIN (SELECT {TICKET_COLUMNS} FROM made t JOIN services s ON s.id = t.service_id) ticket ON true
LEFT JOIN LATERAL ({for_ticket(SERVICE_LOAD)}) load ON ticket.id IS NOT NULL
"""


@functools.cache
def issue_sql(read: str | None) -> str:
    """ISSUE with the caller's read (none: a read that finds nothing)."""
    return ISSUE.replace("{read}", read or "SELECT WHERE false")
