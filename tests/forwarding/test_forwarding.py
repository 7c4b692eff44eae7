"""Forwarding to the provincial 好差评 platform (CONTRACT §7; issue 10, item 6):
every rating reaches a fake platform on a loopback port at least once on the
wire and exactly once in effect (one Idempotency-Key), through failures,
timeouts, a dead sender's claim and two senders racing. Real PostgreSQL, real
HTTP both ways."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import web

from clearhall.server.app import create_app
from clearhall.server.domain.hall import load_hall
from clearhall.server.forwarding import outbox
from clearhall.server.forwarding.payload import Target, target_of
from clearhall.server.forwarding.sender import FORWARD_CONF, ForwardConf, Forwarder
from clearhall.server.store import db
from tests.conftest import SECRETS, Api, app_client, settings_for
from tests.helpers import eventually, free_port

FAST = ForwardConf(poll_s=0.05, timeout_s=0.5, retry_base_s=0.05, retry_max_s=0.2, lease_s=30.0)
TOKEN = "province-token-Zq81x7"  # a secret: never in the log
SECRETS.add(TOKEN)


@dataclass
class Platform:
    """The provincial endpoint: answers `fail` times with 500, then `slow` times too
    late, then 200; remembers every POST it was sent."""

    url: str = ""
    fail: int = 0
    slow: int = 0
    received: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(
            (request.headers["Idempotency-Key"], request.headers.get("Authorization", ""), body)
        )
        if self.fail > 0:
            self.fail -= 1
            return web.json_response({"error": "busy"}, status=500)
        if self.slow > 0:
            self.slow -= 1
            await asyncio.sleep(FAST.timeout_s * 3)
        return web.json_response({"code": "0", "msg": "ok"})

    def keys(self) -> list[str]:
        return [key for key, _, _ in self.received]


@asynccontextmanager
async def platform(fail: int = 0, slow: int = 0, port: int | None = None) -> AsyncIterator[Platform]:
    fake = Platform(fail=fail, slow=slow)
    app = web.Application()
    app.router.add_post("/haochaping", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = port or free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}/haochaping"
    try:
        yield fake
    finally:
        await runner.cleanup()


@asynccontextmanager
async def forwarder(db_url: str, url: str, conf: ForwardConf = FAST) -> AsyncIterator[Forwarder]:
    pool = await db.create_pool(db_url, 4)
    try:
        async with pool.acquire() as conn:
            hall = await load_hall(conn, "main")
        assert hall is not None
        target = Target(
            url=url, token=TOKEN, region_code="430681", dept_code="D01", dept_name="汨罗市行政审批服务局"
        )
        sender = Forwarder(pool, hall, target, conf)
        sender.start()
        try:
            yield sender
        finally:
            await sender.stop()
    finally:
        await pool.close()


async def rated(api: Api, conn: asyncpg.Connection, score: int = 5) -> int:
    """A finished ticket rated by its citizen, in a hall that forwards; its rating id."""
    await conn.execute("UPDATE halls SET forward_url = 'http://platform.invalid/' WHERE code = 'main'")
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    body: dict[str, Any] = {"ticket": t["id"], "key": t["key"], "score": score}
    if score <= 2:
        body["reasons"] = ["办事拖拉"]
    r = await api.post("/api/ratings", body)
    assert r.status == 201, r.body
    return int(r.body["rating"]["id"])


async def states(conn: asyncpg.Connection) -> list[str]:
    return [r["status"] for r in await conn.fetch("SELECT status FROM forward_outbox ORDER BY id")]


async def test_a_rating_is_forwarded_with_the_provincial_fields(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    rating_id = await rated(api, conn)
    async with platform() as fake, forwarder(db_url, fake.url):
        await eventually(lambda: _all_sent(conn))
    [(key, auth, body)] = fake.received
    assert key == str(rating_id) and auth == f"Bearer {TOKEN}"
    assert body["id"] == str(rating_id) and body["score"] == 5 and body["level"] == "非常满意"
    assert body["serviceCode"] == "A" and body["serviceName"] == "企业开办"
    assert body["regionCode"] == "430681" and body["deptCode"] == "D01" and body["deptName"]
    assert body["evaluatedPersonInfo"]["login"] == "s1" and body["evaluateChannel"] == "EWM"
    assert body["transactionTime"] and body["evaluateTime"] and body["handleState"] == "done"


async def _all_sent(conn: asyncpg.Connection) -> bool:
    found = await states(conn)
    return bool(found) and set(found) == {"sent"}


async def test_failures_and_timeouts_are_retried_with_the_same_key_until_taken(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    rating_id = await rated(api, conn, score=1)
    async with platform(fail=2, slow=1) as fake, forwarder(db_url, fake.url):
        await eventually(lambda: _all_sent(conn))
    assert fake.keys() == [str(rating_id)] * 4  # 500, 500, too late, then taken
    row = await conn.fetchrow("SELECT attempts, last_error, sent_at FROM forward_outbox")
    assert row is not None and row["attempts"] == 4 and row["last_error"] is None and row["sent_at"]


async def test_a_platform_that_is_down_keeps_the_item_pending_with_its_error(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    await rated(api, conn)
    nobody = f"http://127.0.0.1:{free_port()}/haochaping"  # nothing listens there
    async with forwarder(db_url, nobody):

        async def failed_twice() -> bool:
            return bool(await conn.fetchval("SELECT attempts >= 2 FROM forward_outbox"))

        await eventually(failed_twice)
    hall_id = await conn.fetchval("SELECT id FROM halls WHERE code = 'main'")
    seen = await outbox.state(conn, hall_id)
    assert seen["counts"]["sent"] == 0 and seen["counts"]["pending"] + seen["counts"]["sending"] == 1
    assert seen["oldest_pending"]["last_error"] == "ClientConnectorError"
    # … and when the platform comes back, it goes.
    async with platform() as fake, forwarder(db_url, fake.url, FAST):
        await conn.execute("UPDATE forward_outbox SET next_attempt_at = now(), status = 'pending'")
        await eventually(lambda: _all_sent(conn))
    assert len(fake.received) == 1


async def test_a_dead_senders_claim_is_taken_over_after_its_lease(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    rating_id = await rated(api, conn)
    hall_id = await conn.fetchval("SELECT id FROM halls WHERE code = 'main'")
    [claimed] = await outbox.claim(conn, hall_id, 10, lease_s=30)  # "another process", then it died
    assert claimed.ref_id == rating_id
    async with platform() as fake, forwarder(db_url, fake.url):
        await asyncio.sleep(0.3)
        assert fake.received == []  # its lease still runs: nobody else sends it
        await conn.execute("UPDATE forward_outbox SET lease_until = now() - interval '1 second'")
        await eventually(lambda: _all_sent(conn))
    assert fake.keys() == [str(rating_id)]


async def test_two_senders_never_send_one_item_at_once(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    ids = [await rated(api, conn, score=4) for _ in range(12)]
    async with platform() as fake, forwarder(db_url, fake.url), forwarder(db_url, fake.url):
        await eventually(lambda: _all_sent(conn))
    assert sorted(fake.keys(), key=int) == [str(i) for i in ids]


async def test_the_outbox_fills_only_when_the_hall_forwards_and_closed_cases_go_too(
    api: Api, conn: asyncpg.Connection, monkeypatch: Any
) -> None:
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    assert (await api.post("/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 4})).status == 201
    assert await conn.fetchval("SELECT count(*) FROM forward_outbox") == 0  # no [ratings.forward] url
    bad = await rated(api, conn, score=1)
    assert await states(conn) == ["pending"]
    case = await conn.fetchval("SELECT id FROM follow_ups WHERE rating_id = $1", bad)
    await conn.execute("UPDATE follow_ups SET status = 'closed', closed_at = now() WHERE id = $1", case)
    keys = [
        r["idempotency_key"]
        for r in await conn.fetch("SELECT idempotency_key FROM forward_outbox ORDER BY id")
    ]
    assert keys == [str(bad), f"follow-up-{case}"]
    # The target: the hall's row, and the token from the environment variable it names.
    monkeypatch.setenv("CLEARHALL_TEST_PLATFORM_TOKEN", TOKEN)
    await conn.execute(
        "UPDATE halls SET forward_token_env = 'CLEARHALL_TEST_PLATFORM_TOKEN', region_code = '430681' WHERE code = 'main'"
    )
    target = await target_of(conn, await conn.fetchval("SELECT id FROM halls WHERE code = 'main'"))
    assert target is not None and target.token == TOKEN and target.region_code == "430681"


async def test_the_supervisor_sees_whether_the_hall_forwards(api: Api, conn: asyncpg.Connection) -> None:
    boss = await api.login("boss")
    off = (await api.get("/api/ratings/forwarding", token=boss)).body
    assert off["configured"] is False and off["counts"]["pending"] == 0 and off["oldest_pending"] is None
    await rated(api, conn, score=2)
    on = (await api.get("/api/ratings/forwarding", token=boss)).body
    assert on["configured"] is True and on["counts"]["pending"] == 1
    assert on["oldest_pending"]["kind"] == "rating" and on["oldest_pending"]["attempts"] == 0
    assert (await api.get("/api/ratings/forwarding", token=await api.login("s1"))).status == 403


async def test_a_rating_made_while_the_platform_is_down_goes_after_a_restart(
    db_url: str, conn: asyncpg.Connection
) -> None:
    """The server that took the rating stops before the platform answers; the next
    one (a restart) sends it, once, with its key."""
    port = free_port()
    await conn.execute(
        "UPDATE halls SET forward_url = $1 WHERE code = 'main'", f"http://127.0.0.1:{port}/haochaping"
    )
    first = create_app(settings_for(db_url))
    first[FORWARD_CONF] = FAST
    async with app_client(first) as (_, api):
        t = await api.issue("A")
        await api.sign_in("s1", 1)
        await api.window("s1", 1, "call-next")
        await api.window("s1", 1, "finish")
        rating = (await api.post("/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 5})).body[
            "rating"
        ]

        async def tried() -> bool:
            return bool(
                await conn.fetchval("SELECT attempts >= 1 AND status = 'pending' FROM forward_outbox")
            )

        await eventually(tried)
    async with platform(port=port) as fake:
        second = create_app(settings_for(db_url))
        second[FORWARD_CONF] = FAST
        async with app_client(second):
            await conn.execute("UPDATE forward_outbox SET next_attempt_at = now()")  # not the backoff's wait
            await eventually(lambda: _all_sent(conn))
    assert fake.keys() == [str(rating["id"])]
