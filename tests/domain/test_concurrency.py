"""Exactly once: 40 windows on two server processes' worth of apps, sharing one
database, call back to back against 1,000 waiting tickets."""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import create_app
from clearhall.server.domain import action_log as audit
from clearhall.server.domain.hall import load_hall
from clearhall.server.domain.issuing import Order, issue
from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.kinds import Category
from tests.conftest import Api, settings_for

WINDOWS = 40
TICKETS = 1000


def big_hall() -> hallfile.HallConf:
    lines = ['[hall]\ncode = "big"\nname = "并发测试大厅"\n', '[[services]]\ncode = "A"\nname = "企业开办"\n',
             '[[services]]\ncode = "B"\nname = "税务"\n']  # fmt: skip
    for n in range(1, WINDOWS + 1):
        services = '["A", "B"]' if n % 2 else '["A"]'
        lines.append(f"[[windows]]\nnumber = {n}\nservices = {services}\n")
        lines.append(
            f'[[staff]]\nusername = "w{n}"\nname = "窗口{n}"\npassword = "password-{n}"\nwindows = [{n}]\n'
        )
    return hallfile.parse("\n".join(lines), "big-hall")


async def test_every_ticket_is_called_exactly_once(db_url: str, conn: asyncpg.Connection) -> None:
    # A second hall in the same database: the test hall's rows must not interfere.
    await hall_apply.apply(conn, big_hall())
    hall = await load_hall(conn, "big")
    assert hall is not None
    secret = await db.installation_secret(conn)
    actor = audit.Actor("system", None, "test")
    for i in range(TICKETS):
        category = list(Category)[i % len(Category)] if i % 3 == 0 else "normal"
        await issue(conn, hall, secret, actor, Order("AB"[i % 4 == 0], category), "http://test")

    other = await load_hall(conn, "main")
    assert other is not None
    await issue(conn, other, secret, actor, Order("A"), "http://test")  # the other hall's
    settings = settings_for(db_url, hall="big")
    # Two apps, as two processes would be: they share nothing but the database.
    servers = [TestServer(create_app(settings), host="127.0.0.1") for _ in range(2)]
    called: list[tuple[int, str]] = []

    async def window(n: int, session: ClientSession, base: str) -> None:
        api = Api(base, session)
        r = await api.post("/api/login", {"username": f"w{n}", "password": f"password-{n}"})
        assert r.status == 200, r.body
        api.tokens[f"w{n}"] = r.body["token"]
        await api.sign_in(f"w{n}", n)
        while True:
            r = await api.window(f"w{n}", n, "call-next")
            assert r.status == 200, r.body
            if r.body["ticket"] is None:
                return
            called.append((n, r.body["ticket"]["id"]))
            assert (await api.window(f"w{n}", n, "finish")).status == 200

    for s in servers:
        await s.start_server(access_log_class=AccessLogger)
    try:
        async with ClientSession() as session:
            bases = [str(s.make_url("")).rstrip("/") for s in servers]
            await asyncio.gather(*(window(n, session, bases[n % 2]) for n in range(1, WINDOWS + 1)))
    finally:
        for s in servers:
            await s.close()

    ids = [ticket_id for _, ticket_id in called]
    assert len(ids) == TICKETS and len(set(ids)) == TICKETS
    assert await conn.fetchval("SELECT count(*) FROM tickets WHERE status = 'done'") == TICKETS
    assert await conn.fetchval("SELECT count(*) FROM tickets WHERE status = 'waiting'") == 1  # other hall
    logged = Counter(
        r["ticket_id"]
        for r in await conn.fetch("SELECT ticket_id FROM action_log WHERE action = 'call_next'")
    )
    assert len(logged) == TICKETS and set(logged.values()) == {1}
    per_window = Counter(n for n, _ in called)
    assert len(per_window) > WINDOWS // 2  # the work really was spread over many windows
