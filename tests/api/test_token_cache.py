"""Tokens remembered in each process (server/domain/token_cache.py) never outlive what
the database says: a log-out, a sign-in or sign-out in another process, a stopped
listener. Two apps on one database stand for two server processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from aiohttp import web

from clearhall.server.app import create_app
from clearhall.server.domain.token_cache import TokenCache
from clearhall.server.keys import TOKENS
from tests.conftest import Api, app_client, settings_for


@pytest.fixture
async def two(db_url: str) -> AsyncIterator[tuple[Api, Api, list[web.Application]]]:
    apps = [create_app(settings_for(db_url)) for _ in range(2)]
    async with AsyncExitStack() as stack:
        a = (await stack.enter_async_context(app_client(apps[0])))[1]
        b = (await stack.enter_async_context(app_client(apps[1])))[1]
        for app in apps:
            await until(lambda app=app: app[TOKENS].enabled)  # each hub is listening
        yield a, b, apps


async def until(check: object, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "not within the time"
        await asyncio.sleep(0.02)


async def eventually_status(api: Api, path: str, token: str, status: int, seconds: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while (r := await api.get(path, token=token)).status != status:
        assert asyncio.get_running_loop().time() < deadline, (r.status, r.body)
        await asyncio.sleep(0.02)


async def test_a_log_out_is_refused_at_once_here_and_soon_everywhere(
    two: tuple[Api, Api, list[web.Application]],
) -> None:
    a, b, apps = two
    token = await a.login("s1")
    assert (await a.get("/api/me", token=token)).status == 200
    assert (await b.get("/api/me", token=token)).status == 200
    assert apps[0][TOKENS].entries and apps[1][TOKENS].entries  # both remember it now
    assert (await a.post("/api/logout", token=token)).status == 200
    assert (await a.get("/api/me", token=token)).status == 401  # this process: at once
    await eventually_status(b, "/api/me", token, 401)  # the other: when the notification comes


async def test_a_sign_in_elsewhere_is_believed_and_a_sign_out_elsewhere_refuses(
    two: tuple[Api, Api, list[web.Application]],
) -> None:
    a, b, apps = two
    token = await a.login("s1")
    assert (await b.get("/api/me", token=token)).status == 200  # b remembers: not signed in
    # Told to forget, b would look again anyway; hold its notifications back to show
    # that even a stale "not signed in here" is never believed.
    apps[1][TOKENS].forget = lambda: None  # type: ignore[method-assign]
    await a.issue("A")
    assert (await a.post("/api/windows/1/sign-in", token=token)).status == 200
    r = await b.post("/api/windows/1/call-next", token=token)
    assert r.status == 200 and r.body["ticket"] is not None, r.body
    assert (await b.post("/api/windows/1/finish", token=token)).status == 200
    assert (await a.post("/api/windows/1/sign-out", token=token)).status == 200
    # b still believes she is at window 1; the call checks under the window's lock
    r = await b.post("/api/windows/1/call-next", token=token)
    assert r.status == 403 and r.body["error"]["code"] == "forbidden", r.body


async def test_a_sign_out_elsewhere_is_forgotten_by_every_process(
    two: tuple[Api, Api, list[web.Application]],
) -> None:
    a, b, apps = two
    token = await a.login("s1")
    assert (await a.post("/api/windows/1/sign-in", token=token)).status == 200
    assert (await b.get("/api/me", token=token)).status == 200
    assert apps[1][TOKENS].entries
    assert (await a.post("/api/windows/1/sign-out", token=token)).status == 200
    await until(lambda: not apps[1][TOKENS].entries)


def test_off_while_not_listening() -> None:
    cache: TokenCache[str] = TokenCache()
    cache.put(b"x", "someone", None)
    assert cache.get(b"x") is None  # never on before the hub listens
    cache.listening(True)
    cache.put(b"x", "someone", None)
    assert cache.get(b"x") == "someone"
    cache.put(b"y", "expiring", 0.0)
    assert cache.get(b"y") is None  # not past its session's end
    cache.listening(False)
    assert cache.get(b"x") is None and not cache.entries
