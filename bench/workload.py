"""The engine bench's workload: a generated hall and the waiting line it starts from.

Owns the hall file (50 windows of 1–3 of 8 services, one staff each, 16
kiosks; seeded, so every run generates the same hall), the staff passwords and
kiosk tokens the clients log in with, the mix of categories a ticket is drawn
from, loading the hall into a fresh database, and topping the waiting set back
up to 20,000 (then vacuuming) so that every phase starts from the same state.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import asyncpg

from bench.harness import BenchError
from clearhall.server.domain import attendance
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall, load_hall
from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.kinds import GREEN_CHANNEL, ActorKind

SERVICES = (
    ("A", "企业开办"), ("B", "不动产登记"), ("C", "社保医保"), ("D", "公积金"),
    ("E", "户籍证件"), ("F", "税务"), ("G", "综合受理"), ("H", "工程建设审批"),
)  # fmt: skip
WINDOWS = 50
KIOSKS = 16
WAITING = 20_000
GREEN_SHARE = 0.20
HALL_CODE = "bench"


def password(n: int) -> str:
    return f"bench-password-{n}"


def kiosk_token(i: int) -> str:
    return f"bench-kiosk-token-{i:02d}"


def hall_toml(seed: int = 20_250_601) -> str:
    """50 windows of 1–3 services each (every service served), one staff per window, 16 kiosks."""
    rng = random.Random(seed)
    codes = [code for code, _ in SERVICES]
    # open every minute of every day: a bench runs whenever it is run
    parts = [
        f'[hall]\ncode = "{HALL_CODE}"\nname = "压测大厅"\n'
        'opens_at = "00:00"\ncloses_at = "23:59"\nopen_days = "all"\n'
    ]
    parts.append("[policy]\nkiosk_tickets_per_minute = 0\n")  # measured here: issuing, not its limit
    parts += [f'[[services]]\ncode = "{code}"\nname = "{name}"\n' for code, name in SERVICES]
    for n in range(1, WINDOWS + 1):
        first = codes[(n - 1) % len(codes)]
        served = [first, *rng.sample([c for c in codes if c != first], rng.randint(0, 2))]
        parts.append(f"[[windows]]\nnumber = {n}\nservices = {json.dumps(served)}\n")
    for n in range(1, WINDOWS + 1):
        parts.append(
            f'[[staff]]\nusername = "w{n}"\nname = "窗口{n}"\npassword = "{password(n)}"\nwindows = [{n}]\n'
        )
    for i in range(1, KIOSKS + 1):
        parts.append(f'[[devices]]\nname = "kiosk-{i:02d}"\nkind = "kiosk"\ntoken = "{kiosk_token(i)}"\n')
    return "\n".join(parts)


def random_category(rng: random.Random) -> str:
    """~20% green channel (spread over its four kinds), ~10% enterprise, the rest normal."""
    r = rng.random()
    if r < GREEN_SHARE:
        return GREEN_CHANNEL[int(r / GREEN_SHARE * len(GREEN_CHANNEL))]
    return "enterprise" if r < GREEN_SHARE + 0.10 else "normal"


# -- take the numbers of many tickets at once, per service today in one counter
# -- bump each (as that many issues would, one by one), and insert them waiting,
# -- services interleaved in line as a morning's kiosks would interleave them
TOP_UP = """
WITH wanted AS (
    SELECT service_id, count(*)::int AS n FROM unnest($2::int[]) AS u(service_id) GROUP BY service_id
), counter AS (
    INSERT INTO ticket_counters (hall_id, service_id, day, last)
    SELECT $1, service_id, (now() AT TIME ZONE $3)::date, n FROM wanted
    ON CONFLICT (service_id, day) DO UPDATE SET last = ticket_counters.last + EXCLUDED.last
    RETURNING service_id, day, last
), queued AS (
    SELECT q.service_id, q.category, q.i,
           row_number() OVER (PARTITION BY q.service_id ORDER BY q.i) AS k
    FROM unnest($2::int[], $4::text[]) WITH ORDINALITY AS q(service_id, category, i)
)
INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category,
                     priority, status, order_at, key_hash)
SELECT gen_random_uuid()::text, $1, q.service_id, q.service_id, c.day, x.seq,
       s.code || CASE WHEN x.seq < 1000 THEN lpad(x.seq::text, 3, '0') ELSE x.seq::text END,
       q.category, q.category = ANY($5::text[]), 'waiting', now() + q.i * interval '1 microsecond',
       sha256(convert_to(gen_random_uuid()::text, 'UTF8'))
FROM queued q
JOIN counter c USING (service_id)
JOIN wanted w USING (service_id)
JOIN services s ON s.id = q.service_id,
LATERAL (SELECT (c.last - w.n + q.k)::int AS seq) x
"""

WAITING_NOW = "SELECT count(*) FROM tickets WHERE hall_id = $1 AND status = 'waiting'"


async def top_up(conn: asyncpg.Connection, hall: Hall, rng: random.Random) -> tuple[int, int]:
    """Bring the waiting set back to WAITING, then vacuum. Returns (waiting before, added)."""
    before: int = await conn.fetchval(WAITING_NOW, hall.id)
    services = [r["id"] for r in await conn.fetch("SELECT id FROM services WHERE hall_id = $1", hall.id)]
    added = max(0, WAITING - before)
    chosen = [rng.choice(services) for _ in range(added)]
    categories = [random_category(rng) for _ in range(added)]
    if added:
        await conn.execute(TOP_UP, hall.id, chosen, hall.timezone, categories, list(GREEN_CHANNEL))
    # Every phase starts from the same state, not with the last phase's dead rows.
    await conn.execute("VACUUM (ANALYZE) tickets, windows, ticket_counters, sessions")
    return before, added


# ---------------------------------------------------------------- in the database


async def prepare(url: str, config: Path) -> Hall:
    conn = await asyncpg.connect(url)
    try:
        await db.init_connection(conn)
        await db.apply_schema(conn)
        await db.installation_secret(conn)
        await hall_apply.apply(conn, hallfile.load(config))
        hall = await load_hall(conn, HALL_CODE)
        if hall is None:
            raise BenchError("the generated hall did not load")
        return hall
    finally:
        await conn.close()


async def sign_in_all(conn: asyncpg.Connection, hall: Hall) -> dict[int, Principal]:
    staff: dict[int, Principal] = {}
    for row in await conn.fetch("SELECT id, username, name FROM staff WHERE hall_id = $1", hall.id):
        n = int(row["username"][1:])
        staff[n] = Principal(ActorKind.STAFF, row["id"], row["name"], f"bench:{row['id']}", role="staff")
        async with conn.transaction():
            await attendance.sign_in(conn, hall, n, staff[n])
    return staff
