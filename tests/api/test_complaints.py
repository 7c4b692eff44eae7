"""投诉 (CONTRACT §10): no log-in, limited per address (in the database), the text
tidied and bounded, a ticket only with its key; a complaint opens a case, and
its citizen rates the handling with the ticket's key or the complaint's own."""

from __future__ import annotations

from typing import Any

import aiohttp
import asyncpg

from clearhall.server.domain.workdays import Calendar, add_working_days
from tests.conftest import KIOSK, Api

URL = "/api/complaints"


async def finished(api: Api, window: int = 2, user: str = "s2") -> dict[str, Any]:
    t = await api.issue("A")
    await api.sign_in(user, window)
    assert (await api.window(user, window, "call-next")).body["ticket"]["id"] == t["id"]
    assert (await api.window(user, window, "finish")).status == 200
    return t


async def test_a_complaint_without_a_ticket_opens_a_case_and_gets_its_own_key(
    api: Api, conn: asyncpg.Connection
) -> None:
    r = await api.post(URL, {"text": "  取号机 \n\n 坏了，\u200b没人管  ", "contact": "0731-5222 1234"})
    assert r.status == 201, r.body
    c = r.body["complaint"]
    assert set(c) == {"id", "due_at", "follow_up", "key"}
    opened = await conn.fetchval("SELECT created_at FROM follow_ups WHERE id = $1", c["follow_up"])
    assert c["due_at"] == add_working_days(opened, 5, Calendar(), "Asia/Shanghai").isoformat()
    row = await conn.fetchrow("SELECT * FROM complaints")
    assert row is not None and row["text"] == "取号机\n坏了，没人管" and row["ticket_id"] is None
    assert row["key_hash"] is not None and c["key"].encode() not in row["key_hash"]

    boss = await api.login("boss")
    case = (await api.get(f"/api/follow-ups/{c['follow_up']}", token=boss)).body["follow_up"]
    assert case["kind"] == "complaint" and case["rating"] is None and case["staff"] is None
    assert case["complaint"]["text"] == "取号机\n坏了，没人管" and case["contact"] == "073152221234"

    for kind in ("callback", "explain"):
        assert (await api.post(f"/api/follow-ups/{case['id']}/steps", {"kind": kind, "text": "已修复"},
                               token=boss)).status == 201  # fmt: skip
    path = f"/api/follow-ups/{case['id']}/satisfaction"
    assert (await api.post(path, {"key": "not-its-key", "result": "satisfied"})).status == 401
    assert (await api.post(path, {"key": c["key"], "result": "satisfied"})).status == 201
    assert await conn.fetchval("SELECT satisfaction FROM follow_ups") == "satisfied"


async def test_a_complaint_about_a_visit_needs_its_key(api: Api, conn: asyncpg.Connection) -> None:
    t = await finished(api)
    no_key = await api.post(URL, {"text": "态度不好", "ticket": t["id"]})
    assert no_key.status == 400 and no_key.body["error"]["field"] == "key"
    stray_key = await api.post(URL, {"text": "态度不好", "key": t["key"]})
    assert stray_key.status == 400 and stray_key.body["error"]["field"] == "key"
    wrong = await api.post(URL, {"text": "态度不好", "ticket": t["id"], "key": "guess-guess"})
    assert wrong.status == 401
    unencodable = await api.post(URL, {"text": "态度不好", "ticket": t["id"], "key": "\ud800-not-a-key"})
    assert unencodable.status == 401  # a lone surrogate is no key, not a 500
    unknown = await api.post(URL, {"text": "态度不好", "ticket": "nonesuch", "key": "guess-guess"})
    assert unknown.status == 404
    assert await conn.fetchval("SELECT count(*) FROM complaints") == 0

    r = await api.post(URL, {"text": "态度不好", "ticket": t["id"], "key": t["key"]})
    assert r.status == 201 and "key" not in r.body["complaint"]  # the ticket's key does
    case = (await api.get(f"/api/follow-ups/{r.body['complaint']['follow_up']}",
                          token=await api.login("boss"))).body["follow_up"]  # fmt: skip
    assert case["staff"] == {"username": "s2", "name": "王强"} and case["window"] == 2
    assert case["complaint"]["ticket"] == t["number"]

    # About another window than the one that served it: that window, nobody named.
    other = await api.post(
        URL, {"text": "4号窗口长时间无人", "ticket": t["id"], "key": t["key"], "window": 4}
    )
    case = (await api.get(f"/api/follow-ups/{other.body['complaint']['follow_up']}",
                          token=await api.login("boss"))).body["follow_up"]  # fmt: skip
    assert case["window"] == 4 and case["staff"] is None
    assert (await api.post(URL, {"text": "x", "window": 77})).body["error"]["field"] == "window"


async def test_the_text_is_tidied_and_bounded(api: Api, conn: asyncpg.Connection) -> None:
    for empty in ("", "   ", "\u200b\u200b", "\n\n"):
        r = await api.post(URL, {"text": empty})
        assert r.status == 400 and r.body["error"]["field"] == "text", (empty, r.body)
    long = await api.post(URL, {"text": "很" * 501})
    assert long.status == 400 and long.body["error"]["field"] == "text"
    control = await api.post(URL, {"text": "a\x00b"})
    assert control.status == 400
    # Full-width letters and digits (NFKC), direction marks gone, 500 characters fit.
    assert (await api.post(URL, {"text": "ＡＢＣ１２３\u202e反转\ud800"})).status == 201
    assert (await api.post(URL, {"text": "很" * 500})).status == 201
    texts = [r["text"] for r in await conn.fetch("SELECT text FROM complaints ORDER BY id")]
    assert texts == ["ABC123反转", "很" * 500]
    bad_contact = await api.post(URL, {"text": "有事", "contact": "call me"})
    assert bad_contact.status == 400 and bad_contact.body["error"]["field"] == "contact"


async def test_complaints_are_limited_per_address(api: Api, conn: asyncpg.Connection) -> None:
    for n in range(5):
        assert (await api.post(URL, {"text": f"第{n}条"})).status == 201
    r = await api.post(URL, {"text": "又一条"})
    assert r.status == 429 and r.body["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 120
    assert await conn.fetchval("SELECT count(*) FROM complaints") == 5
    assert await conn.fetchval("SELECT count(*) FROM throttles WHERE scope = 'complaints_address'") == 1
    # Another address is not held back by this one.
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        elsewhere = Api(api.base, session)
        assert (await elsewhere.post(URL, {"text": "另一处"})).status == 201
    # Once the allowance has come back, complaints are taken again.
    await conn.execute("UPDATE throttles SET full_at = now() WHERE scope = 'complaints_address'")
    assert (await api.post(URL, {"text": "过了一会儿"})).status == 201


async def test_a_kiosk_is_limited_as_a_device_not_as_the_halls_one_address(
    api: Api, conn: asyncpg.Connection
) -> None:
    """Everyone at a kiosk shares its address: with its token it gets a device's allowance."""
    for n in range(5):
        assert (await api.post(URL, {"text": f"第{n}条"})).status == 201
    assert (await api.post(URL, {"text": "又一条"})).status == 429  # the address is used up …
    for n in range(15):  # … the kiosk at that same address is not
        r = await api.post(URL, {"text": f"自助机第{n}条"}, token=KIOSK)
        assert r.status == 201, r.body
    assert await conn.fetchval("SELECT count(*) FROM throttles WHERE scope = 'complaints_kiosk'") == 1
    assert (await api.post(URL, {"text": "坏令牌"}, token="not-a-device")).status == 401
