"""A staff socket lives no longer than its log-in (CONTRACT §6): log-out closes
it in every server process, and an expired session or a deactivated staff
member is noticed by the hub's periodic check. Closed with 4401 and a reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer

from clearhall.server.app import create_app
from clearhall.server.keys import HUB
from clearhall.server.store.credentials import token_hash
from tests.conftest import DISPLAY, Api, app_client, settings_for
from tests.helpers import connect, next_event
from tests.live.helpers import closed, still_open

SESSION_ENDED = 4401  # the close code: the log-in behind this socket has ended


@pytest.fixture
async def second(db_url: str) -> AsyncIterator[Api]:
    """Another server process on the same database (an app of its own, sharing nothing else)."""
    async with app_client(create_app(settings_for(db_url))) as (_, api):
        yield api


async def test_log_out_closes_the_sockets_of_that_log_in_in_every_process(api: Api, second: Api) -> None:
    token = await api.login("s1")
    other = await api.login("s2")
    here = await connect(api, f"token={token}")
    there = await connect(second, f"token={token}")  # the same log-in, on another process
    bystander = await connect(second, f"token={other}")
    for ws in (here, there, bystander):
        await next_event(ws, "snapshot")
    await api.issue("A")
    for ws in (here, there, bystander):
        await next_event(ws, "ticket.issued")  # they do receive events

    assert (await api.post("/api/logout", token=token)).status == 200
    for ws in (here, there):
        end = await closed(ws)
        assert end.type == WSMsgType.CLOSE and end.data == SESSION_ENDED, end
        assert end.extra
    await still_open(bystander, second)  # someone else's log-in is untouched
    await bystander.close()


async def test_an_expired_session_or_a_deactivated_account_is_noticed(
    api: Api, server: TestServer, conn: asyncpg.Connection
) -> None:
    expiring = await api.login("s1")
    disabled = await api.login("s2")
    supervisor = await api.login("boss")
    sockets = {
        name: await connect(api, f"token={token}")
        for name, token in (("expiring", expiring), ("disabled", disabled), ("boss", supervisor))
    }
    sockets["screen"] = await connect(api, f"token={DISPLAY}")
    for ws in sockets.values():
        await next_event(ws, "snapshot")

    await conn.execute("UPDATE sessions SET expires_at = now() WHERE token_hash = $1", token_hash(expiring))
    await conn.execute("UPDATE staff SET active = false WHERE username = 's2'")
    await server.app[HUB].check_sessions()  # what the hub does every ~30 s

    for name in ("expiring", "disabled"):
        end = await closed(sockets[name])
        assert end.type == WSMsgType.CLOSE and end.data == SESSION_ENDED, (name, end)
    for name in ("boss", "screen"):
        await still_open(sockets[name], api)
        await sockets[name].close()
