"""Rate limits (CONTRACT §3): failed log-ins by username and by address, and
tickets per kiosk device. Both live in the database, so they hold across
server processes; a refusal is `429 rate_limited` with Retry-After."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

import asyncpg
import pytest

from clearhall.server.app import create_app
from clearhall.server.domain import throttle
from clearhall.server.store.credentials import token_hash
from tests.conftest import KIOSK, PASSWORDS, Api, Reply, app_client, settings_for

WRONG = "not-the-password"


async def log_in(api: Api, username: str, password: str) -> Reply:
    return await api.post("/api/login", {"username": username, "password": password})


def retry_after(reply: Reply) -> int:
    assert reply.status == 429, reply.body
    assert reply.body["error"]["code"] == "rate_limited"
    seconds = int(reply.headers["Retry-After"])
    assert seconds >= 1
    return seconds


async def test_a_username_is_throttled_after_a_few_mistakes(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The default rule, with its spacing shortened so the test can wait it out.
    short = throttle.Rule(
        throttle.LOGIN_BY_USERNAME.scope, throttle.LOGIN_BY_USERNAME.burst, timedelta(seconds=2)
    )
    monkeypatch.setattr(throttle, "LOGIN_BY_USERNAME", short)
    caplog.set_level(logging.WARNING)
    for _ in range(short.burst):  # a person mistyping
        assert (await log_in(api, "s1", WRONG)).status == 401
    refused = await log_in(api, "s1", WRONG)
    wait = retry_after(refused)
    # While it lasts, even the right password is refused (else the lock would tell a guess).
    retry_after(await log_in(api, "s1", PASSWORDS["s1"]))
    # Other people's log-ins are not affected.
    assert (await log_in(api, "s2", PASSWORDS["s2"])).status == 200

    await asyncio.sleep(wait)
    assert (await log_in(api, "s1", PASSWORDS["s1"])).status == 200
    # A successful log-in forgets the mistakes: a person gets their few tries again.
    for _ in range(short.burst):
        assert (await log_in(api, "s1", WRONG)).status == 401

    failures = [r for r in caplog.records if r.levelno == logging.WARNING and "log-in" in r.getMessage()]
    assert failures and all("s1" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in failures)
    assert not any(WRONG in r.getMessage() or PASSWORDS["s1"] in r.getMessage() for r in caplog.records)


async def test_guesses_sent_at_once_are_counted_all_the_same(api: Api) -> None:
    """The count is taken before the password is checked, in one statement per attempt."""
    replies = await asyncio.gather(*(log_in(api, "s2", WRONG) for _ in range(30)))
    statuses = sorted(r.status for r in replies)
    assert statuses.count(401) == throttle.LOGIN_BY_USERNAME.burst
    assert set(statuses) == {401, 429}


async def test_guesses_at_many_accounts_sent_at_once_learn_nothing_past_the_limit(api: Api) -> None:
    """The address counts failures after the password is checked: those that raced past
    its check are answered 429 once it is full, and so is a right password then."""
    burst = throttle.LOGIN_BY_ADDRESS.burst
    replies = await asyncio.gather(*(log_in(api, f"nobody-{i}", WRONG) for i in range(burst + 10)))
    statuses = [r.status for r in replies]
    assert statuses.count(401) == burst and statuses.count(429) == 10, statuses
    retry_after(await log_in(api, "s1", PASSWORDS["s1"]))


async def test_many_right_passwords_at_once_from_one_address_all_get_in(api: Api) -> None:
    users = ["s1", "s2", "s3", "s4", "boss"] * throttle.LOGIN_BY_USERNAME.burst
    replies = await asyncio.gather(*(log_in(api, u, PASSWORDS[u]) for u in users))
    assert [r.status for r in replies] == [200] * len(users)


async def test_one_address_trying_many_usernames_is_throttled(api: Api) -> None:
    rule = throttle.LOGIN_BY_ADDRESS
    for i in range(rule.burst):
        assert (await log_in(api, f"nobody-{i}", WRONG)).status == 401
    retry_after(await log_in(api, "nobody-else", WRONG))
    retry_after(await log_in(api, "s1", PASSWORDS["s1"]))  # the address waits, whoever it is


async def test_a_right_password_that_raced_past_the_address_check_is_still_refused(
    api: Api, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Log-ins sent at once may all pass the address check before the first failure is
    counted. A right password among them is answered 429 too, once the address is
    over its limit, and gets no session: the answer tells no right guess from a wrong one."""
    for i in range(throttle.LOGIN_BY_ADDRESS.burst):
        assert (await log_in(api, f"nobody-{i}", WRONG)).status == 401
    retry_after(await log_in(api, "s1", PASSWORDS["s1"]))  # the check before the password

    async def raced_past(conn: object, hall_id: int, username: str, address: str) -> None:
        """As if the attempt had passed `before_log_in` before the address filled up."""

    monkeypatch.setattr(throttle, "before_log_in", raced_past)
    retry_after(await log_in(api, "s1", PASSWORDS["s1"]))
    retry_after(await log_in(api, "s2", WRONG))
    assert await conn.fetchval("SELECT count(*) FROM sessions") == 0


@asynccontextmanager
async def fresh_server(db_url: str) -> AsyncIterator[Api]:
    """A server started now, so it reads the hall row as the test left it."""
    async with app_client(create_app(settings_for(db_url))) as (_, api):
        yield api


async def test_a_kiosk_past_its_limit_is_refused_and_others_are_not(
    db_url: str, conn: asyncpg.Connection
) -> None:
    await conn.execute("UPDATE halls SET kiosk_tickets_per_minute = 3 WHERE code = 'main'")
    other = "test-kiosk-token-2-other"
    await conn.execute(
        "INSERT INTO devices (hall_id, name, kind, token_hash)"
        " SELECT id, 'kiosk-2', 'kiosk', $1 FROM halls WHERE code = 'main'",
        token_hash(other),
    )
    async with fresh_server(db_url) as api:
        for _ in range(3):
            await api.issue("A")
        refused = await api.post("/api/tickets", {"service": "A", "category": "elderly"}, token=KIOSK)
        assert 1 <= retry_after(refused) <= 60
        # Another kiosk has its own allowance; staff at the counter are not limited by it.
        assert (await api.post("/api/tickets", {"service": "A"}, token=other)).status == 201
        staff = await api.login("s1")
        for _ in range(5):
            assert (await api.post("/api/tickets", {"service": "C"}, token=staff)).status == 201
    # Nothing was issued by the refused request.
    assert await conn.fetchval("SELECT count(*) FROM tickets WHERE issued_by_device IS NOT NULL") == 4


@asynccontextmanager
async def two_processes(db_url: str) -> AsyncIterator[tuple[Api, Api]]:
    """Two apps on one database, sharing nothing else: two server processes."""
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(fresh_server(db_url))
        b = await stack.enter_async_context(fresh_server(db_url))
        yield a, b


async def test_log_in_limits_hold_across_processes(db_url: str) -> None:
    """Wrong passwords sent to two processes by turns meet one limit, per username
    and per address: the count is the database's, not a process's."""
    async with two_processes(db_url) as (a, b):
        by_username = throttle.LOGIN_BY_USERNAME.burst
        for i in range(by_username):
            assert (await log_in((a, b)[i % 2], "s1", WRONG)).status == 401
        retry_after(await log_in(a, "s1", WRONG))
        retry_after(await log_in(b, "s1", WRONG))
        # Those failures counted against the address too; the rest of its allowance
        # is spent on other names by turns, and then both processes refuse it.
        for i in range(throttle.LOGIN_BY_ADDRESS.burst - by_username):
            assert (await log_in((a, b)[i % 2], f"nobody-{i}", WRONG)).status == 401
        retry_after(await log_in(a, "nobody-else", WRONG))
        retry_after(await log_in(b, "s2", PASSWORDS["s2"]))


async def test_a_kiosks_limit_holds_across_processes(db_url: str, conn: asyncpg.Connection) -> None:
    await conn.execute("UPDATE halls SET kiosk_tickets_per_minute = 3 WHERE code = 'main'")
    async with two_processes(db_url) as (a, b):
        for i in range(3):
            await (a, b)[i % 2].issue("A")
        retry_after(await a.post("/api/tickets", {"service": "A"}, token=KIOSK))
        retry_after(await b.post("/api/tickets", {"service": "A"}, token=KIOSK))
    assert await conn.fetchval("SELECT count(*) FROM tickets") == 3
