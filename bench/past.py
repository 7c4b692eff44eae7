"""Past days in a hall's database, fast: finished tickets and action-log entries
made with generate_series in PostgreSQL, for bench/history.py (a million
tickets, five million entries) and tests/store/test_plans.py (thousands).

The tickets are spread over the `days` days before today (hall time), 8:30
onwards, over every service, window and staff member of the hall: one in 20
missed (no_show), the rest done, one in 5 green channel. The entries are
issue / call / finish / transfer / suspend on the same days, naming those
tickets. They are inserted directly, as the table owner: the action log's
triggers refuse only UPDATE, DELETE and TRUNCATE. They are NOT chained
(action_log_chain): a server with its sealer on would start chaining all of
them, so the benches run the server under test with CLEARHALL_SEALER_OFF=1.

The days past the hall's `[retention] personal_days` are then purged as the
server's housekeeping would have purged them, a day at a time, long ago: a
server started on unpurged past days would spend its first minutes erasing
keys from hundreds of thousands of rows, which is not what a hall with a year
of history does all day (that first purge is docs/operating.md's concern).
"""

from __future__ import annotations

import asyncpg

from clearhall.server.domain import retention

# -- $2 tickets numbered from $5, on the $4 days before today in zone $3, each finished or missed
PAST_TICKETS = """
WITH s AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(code ORDER BY id) AS codes
           FROM services WHERE hall_id = $1),
     w AS (SELECT array_agg(id ORDER BY id) AS ids FROM windows WHERE hall_id = $1),
     st AS (SELECT array_agg(id ORDER BY id) AS ids FROM staff WHERE hall_id = $1),
     g AS (
    SELECT n, ((now() AT TIME ZONE $3)::date - 1 - (n % $4)::int
               + time '08:30' + (n % 28000) * interval '1 second') AT TIME ZONE $3 AS at
    FROM generate_series($5::bigint, $5::bigint + $2 - 1) AS n
)
INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category, priority,
                     status, issued_at, order_at, key_hash, window_id, staff_id, called_at, started_at,
                     finished_at)
SELECT 'past-' || g.n, $1, s.ids[1 + g.n % cardinality(s.ids)], s.ids[1 + g.n % cardinality(s.ids)],
       (g.at AT TIME ZONE $3)::date, g.n::int, s.codes[1 + g.n % cardinality(s.ids)] || g.n,
       CASE WHEN g.n % 5 = 0 THEN 'elderly' ELSE 'normal' END, g.n % 5 = 0,
       CASE WHEN g.n % 20 = 0 THEN 'no_show' ELSE 'done' END,
       g.at, g.at, '\\x00'::bytea, w.ids[1 + g.n % cardinality(w.ids)], st.ids[1 + g.n % cardinality(st.ids)],
       g.at + interval '12 minutes', g.at + interval '13 minutes', g.at + interval '21 minutes'
FROM g, s, w, st
"""

# -- $2 entries numbered from $5 about the tickets above, on the same $4 days before today
PAST_ENTRIES = """
WITH st AS (SELECT array_agg(id ORDER BY id) AS ids FROM staff WHERE hall_id = $1)
INSERT INTO action_log (hall_id, at, actor_kind, actor_id, actor_name, window_number, ticket_id,
                        ticket_number, action, details)
SELECT $1,
       ((now() AT TIME ZONE $3)::date - 1 - (n / 5 % $4)::int + time '08:30'
        + (n / 5 % 28000) * interval '1 second' + (n % 5) * interval '5 minutes') AT TIME ZONE $3,
       'staff', st.ids[1 + n % cardinality(st.ids)], 'past', 1 + n % 30, 'past-' || (n / 5), 'P' || (n / 5),
       CASE n % 50 WHEN 0 THEN 'transfer' WHEN 1 THEN 'suspend'
                   ELSE (ARRAY['issue', 'call_next', 'finish'])[1 + n % 3] END,
       '{}'::jsonb
FROM generate_series($5::bigint, $5::bigint + $2 - 1) AS n, st
"""

CHUNK = 500_000


async def fill(
    conn: asyncpg.Connection,
    hall_id: int,
    timezone: str,
    tickets: int,
    entries: int,
    days: int = 365,
    progress: bool = False,
) -> None:
    """Add `tickets` past tickets and `entries` past log entries, in chunks, purge what the
    hall's retention has erased by now, then VACUUM (ANALYZE)."""
    for query, total, what in ((PAST_TICKETS, tickets, "tickets"), (PAST_ENTRIES, entries, "log entries")):
        for first in range(1, total + 1, CHUNK):
            count = min(CHUNK, total - first + 1)
            await conn.execute(query, hall_id, count, timezone, days, first)
            if progress:
                print(f"  past {what}: {first + count - 1:,} of {total:,}", flush=True)
    purged = await retention.purge(conn, hall_id, timezone)
    if progress:
        print(f"  purged as retention would have: {purged.tickets:,} tickets", flush=True)
    await conn.execute("VACUUM (ANALYZE) tickets, action_log")
