"""The integrity log (CONTRACT §11; issue 11, item 1): every action chained by
SHA-256 in a gapless seq; an entry changed, removed or slipped in by hand with
SQL as a database superuser, triggers switched off, is named by verify."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from clearhall.server.domain import integrity
from clearhall.server.store import db
from tests.conftest import Api

TAMPER = "SET session_replication_role = replica"  # a superuser switching the triggers off


async def actions(api: Api, n: int = 3) -> None:
    await api.sign_in("s1", 1)
    for _ in range(n):
        await api.issue("A")
        await api.window("s1", 1, "call-next")
        await api.window("s1", 1, "finish")


async def hall_id(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT id FROM halls WHERE code = 'main'"))


async def sealed(conn: asyncpg.Connection) -> dict[str, Any]:
    hall = await hall_id(conn)
    while await integrity.seal(conn, hall):
        pass
    return (await integrity.verify(conn, hall)).json()


async def entry_at(conn: asyncpg.Connection, seq: int) -> int:
    return int(await conn.fetchval("SELECT entry_id FROM action_log_chain WHERE seq = $1", seq))


async def test_every_action_is_chained_in_a_gapless_seq(api: Api, conn: asyncpg.Connection) -> None:
    await db.init_connection(conn)
    await actions(api)
    verdict = await sealed(conn)
    total = await conn.fetchval("SELECT count(*) FROM action_log")
    assert verdict["ok"] is True and verdict["entries"] == total >= 7 and verdict["pending"] == 0
    seqs = [r["seq"] for r in await conn.fetch("SELECT seq FROM action_log_chain ORDER BY seq")]
    assert seqs == list(range(1, total + 1))
    head = await conn.fetchval("SELECT hash FROM action_log_chain ORDER BY seq DESC LIMIT 1")
    assert verdict["head"] == head and len(head) == 64
    # More actions extend the chain; the old part is untouched.
    await actions(api, 1)
    again = await sealed(conn)
    assert again["ok"] and again["entries"] > total
    assert await conn.fetchval("SELECT hash FROM action_log_chain WHERE seq = $1", total) == head


async def test_an_entry_changed_by_a_superuser_is_named(api: Api, conn: asyncpg.Connection) -> None:
    await db.init_connection(conn)
    await actions(api)
    await sealed(conn)
    await conn.execute(TAMPER)
    await conn.execute(
        "UPDATE action_log SET reason = 'nothing happened' WHERE id = $1", await entry_at(conn, 4)
    )
    verdict = await sealed(conn)
    assert verdict["ok"] is False and verdict["first_bad"]["seq"] == 4
    assert verdict["first_bad"]["problem"] == "changed" and verdict["entries"] == 3


async def test_a_deleted_entry_or_chain_row_is_missing(api: Api, conn: asyncpg.Connection) -> None:
    await db.init_connection(conn)
    await actions(api)
    await sealed(conn)
    await conn.execute(TAMPER)
    await conn.execute("DELETE FROM action_log WHERE id = $1", await entry_at(conn, 5))
    verdict = await sealed(conn)
    assert verdict["first_bad"] == {"seq": 5, "problem": "missing", "entry": await entry_at(conn, 5)}
    await conn.execute("DELETE FROM action_log_chain WHERE seq = 2")
    verdict = await sealed(conn)
    assert verdict["first_bad"]["seq"] == 2 and verdict["first_bad"]["problem"] == "missing"


async def test_a_rewritten_chain_is_found_by_its_links(api: Api, conn: asyncpg.Connection) -> None:
    await db.init_connection(conn)
    await actions(api)
    await sealed(conn)
    await conn.execute(TAMPER)
    await conn.execute("UPDATE action_log_chain SET hash = repeat('a', 64) WHERE seq = 3")
    verdict = await sealed(conn)
    assert verdict["first_bad"]["seq"] == 3 and verdict["first_bad"]["problem"] == "changed"


async def log_row(conn: asyncpg.Connection, name: str, **fields: Any) -> int:
    columns = ", ".join(["hall_id", "actor_kind", "actor_name", "action", *fields])
    values = ", ".join(f"${i}" for i in range(1, 5 + len(fields)))
    return int(
        await conn.fetchval(
            f"INSERT INTO action_log ({columns}) VALUES ({values}) RETURNING id",
            await hall_id(conn),
            "staff",
            name,
            "call-next",
            *fields.values(),
        )
    )


async def test_an_entry_slipped_in_among_chained_ones_is_inserted(api: Api, conn: asyncpg.Connection) -> None:
    await db.init_connection(conn)
    await actions(api, 1)
    tr = conn.transaction()
    await tr.start()
    gap = await log_row(conn, "rolled back")  # its id is used up: a gap in the ids
    await tr.rollback()
    await actions(api, 2)
    assert (await sealed(conn))["ok"]
    # By hand: a back-dated row in the gap, among chained entries.
    await log_row(conn, "张三", id=gap, at=datetime.now(UTC) - timedelta(hours=2))
    verdict = await sealed(conn)
    assert verdict["ok"] is False and verdict["first_bad"]["problem"] == "inserted"
    assert verdict["first_bad"]["entry"] == gap
    assert verdict["first_bad"]["seq"] == await conn.fetchval(
        "SELECT min(seq) FROM action_log_chain WHERE entry_id > $1", gap
    )


async def test_a_late_commit_is_chained_not_taken_for_inserted(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    """An action whose transaction commits after a later one's: chained when it
    lands, at the next seq, and the chain verifies."""
    await db.init_connection(conn)
    await actions(api, 1)
    slow = await asyncpg.connect(db_url)
    try:
        tr = slow.transaction()
        await tr.start()
        early = await log_row(slow, "slow")  # the lower id, not yet committed
        await actions(api, 1)
        assert (await sealed(conn))["ok"]
        await tr.commit()
    finally:
        await slow.close()
    verdict = await sealed(conn)
    assert verdict["ok"] is True and verdict["pending"] == 0
    last = await conn.fetchval("SELECT entry_id FROM action_log_chain ORDER BY seq DESC LIMIT 1")
    assert last == early


async def test_two_sealers_at_once_never_fork_the_chain(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    await actions(api, 4)
    pool = await db.create_pool(db_url, 4)
    try:
        hall = await hall_id(conn)

        async def one() -> int:
            async with pool.acquire() as c:
                return await integrity.seal(c, hall)

        counts = await asyncio.gather(*(one() for _ in range(4)))
        async with pool.acquire() as c:
            while await integrity.seal(c, hall):
                pass
            verdict = await integrity.verify(c, hall)
    finally:
        await pool.close()
    total = await conn.fetchval("SELECT count(*) FROM action_log")
    assert verdict.ok and verdict.entries == total and sum(counts) <= total


async def test_a_sealer_finds_a_late_commit_by_the_id_it_saw_missing(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    """The running sealer's way (server/sealing.py): no scan of the log each round; the ids
    it saw missing are looked up by key, and another sealer chaining in between makes it
    start again."""
    await db.init_connection(conn)
    hall = await hall_id(conn)
    await actions(api, 1)
    gaps = integrity.Gaps()
    await integrity.seal(conn, hall, gaps=gaps)  # the first round scans, and knows from then on
    assert gaps.known
    slow = await asyncpg.connect(db_url)
    try:
        tr = slow.transaction()
        await tr.start()
        early = await log_row(slow, "slow")  # open: its id is missing below what comes next
        await actions(api, 1)
        await integrity.seal(conn, hall, late=False, gaps=gaps)
        assert early in gaps.ids
        await tr.commit()
    finally:
        await slow.close()
    assert await integrity.seal(conn, hall, late=False, gaps=gaps) == 1  # by its id, no scan
    assert early not in gaps.ids
    verdict = await integrity.verify(conn, hall)
    assert verdict.ok and verdict.pending == 0
    # Another sealer chains something: this one no longer knows what is missing …
    await actions(api, 1)
    await integrity.seal(conn, hall)
    await actions(api, 1)
    await integrity.seal(conn, hall, late=False, gaps=gaps)
    assert not gaps.known
    await integrity.seal(conn, hall, late=True, gaps=gaps)  # … until its next scan
    assert gaps.known and (await integrity.verify(conn, hall)).ok
