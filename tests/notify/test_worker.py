"""The notification worker (server/notify/worker.py) on a real database: two
senders racing never send one message twice; a claim whose sender died runs
out and the message goes again (at least once); a failing notifier is retried
with backoff, then given up with its error recorded; a message too late to
help is given up; no log line ever holds a whole phone number."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from clearhall.server.domain import messages
from clearhall.server.domain.hall import Hall, load_hall
from clearhall.server.notify import outbox
from clearhall.server.notify.notifiers import LoggingNotifier, Message
from clearhall.server.notify.worker import Notifying
from clearhall.server.store import db
from tests.conftest import SECRETS, Api
from tests.helpers import eventually
from tests.notify.fake_notifier import FAST, FakeNotifier, notifying_server

PHONES = [f"139{n:08d}" for n in range(40)]
SECRETS.update([*PHONES, "13812345678"])


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await db.create_pool(db_url, 4)
    yield p
    await p.close()


async def one_row(conn: asyncpg.Connection, sql: str, *args: object) -> asyncpg.Record:
    row = await conn.fetchrow(sql, *args)
    assert row is not None
    return row


async def queue_messages(api: Api, conn: asyncpg.Connection, n: int) -> tuple[Hall, list[int]]:
    """n tickets with a kept phone number and a queued early warning each."""
    hall = await load_hall(conn, "main")
    assert hall is not None
    for phone in PHONES[:n]:
        t = await api.issue("C")
        await outbox.keep_contact(conn, hall.id, t["id"], "sms", phone)
        await conn.execute(
            "INSERT INTO notify_outbox (hall_id, ticket_id, kind, ticket_number, ahead)"
            " VALUES ($1, $2, 'near', $3, 2)",
            hall.id, t["id"], t["number"],
        )  # fmt: skip
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM notify_outbox ORDER BY id")]
    return hall, ids


class Rendezvous(FakeNotifier):
    """Holds its first message until every sender has one in hand: both have claimed."""

    def __init__(self, mine: asyncio.Event, everyone: list[asyncio.Event]) -> None:
        super().__init__()
        self.mine, self.everyone = mine, everyone

    async def send(self, message: Message) -> None:
        self.mine.set()
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in self.everyone)), 10)
        await super().send(message)


async def test_two_senders_racing_never_send_one_message_twice(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    hall, ids = await queue_messages(api, conn, 40)  # two claims' worth (CLAIM_BATCH = 20)
    pools = [await db.create_pool(db_url, 3) for _ in range(2)]  # two processes, as far as the database sees
    started = [asyncio.Event(), asyncio.Event()]
    fakes = [Rendezvous(started[0], started), Rendezvous(started[1], started)]
    senders = [Notifying(p, hall, f, FAST) for p, f in zip(pools, fakes, strict=True)]
    try:

        async def drain(sender: Notifying) -> None:
            while await sender.work_once():
                pass

        await asyncio.gather(*(drain(s) for s in senders))
    finally:
        for p in pools:
            await p.close()
    sent = [m.id for f in fakes for m in f.got]
    assert sorted(sent) == ids  # each exactly once
    assert all(f.got for f in fakes), "both senders took a share"
    statuses = await conn.fetch("SELECT DISTINCT status, attempts FROM notify_outbox")
    assert [(r["status"], r["attempts"]) for r in statuses] == [("sent", 1)]


async def test_a_dead_senders_claim_runs_out_and_the_message_goes_again(
    api: Api, conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    hall, [only] = await queue_messages(api, conn, 1)
    conf = replace(FAST, lease_s=0.2)
    [taken] = await outbox.claim(conn, hall.id, "notify:dead", conf.lease_s, 10)  # and never finished
    fake = FakeNotifier()
    alive = Notifying(pool, hall, fake, conf)
    assert await alive.work_once() == 0  # the claim holds while its lease runs
    await eventually(alive.work_once)
    assert [m.id for m in fake.got] == [taken.id] == [only]
    row = await one_row(conn, "SELECT status, attempts FROM notify_outbox")
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_a_failing_notifier_is_retried_then_given_up_and_recorded(
    api: Api, conn: asyncpg.Connection, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    hall, [only] = await queue_messages(api, conn, 1)
    fake = FakeNotifier(failures=100)
    sender = Notifying(pool, hall, fake, FAST)  # 3 attempts
    with caplog.at_level(logging.INFO, logger="clearhall.server.notify"):

        async def given_up() -> bool:
            await sender.work_once()
            return await conn.fetchval("SELECT status FROM notify_outbox") == "failed"

        await eventually(given_up)
    row = await one_row(conn, "SELECT * FROM notify_outbox WHERE id = $1", only)
    assert (row["attempts"], row["next_attempt_at"], row["sent_at"]) == (3, None, None)
    assert fake.tries == 3 and not fake.got
    # the provider echoed the number: it is stored and logged masked
    assert row["last_error"] == "ConnectionError: gateway refused 139****0000"
    assert "given up after 3 attempt(s)" in caplog.text and "retrying" in caplog.text
    assert PHONES[0] not in caplog.text and "139****0000" in caplog.text


async def test_a_notifier_that_fails_once_is_retried_and_the_message_sent(
    api: Api, conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    hall, _ = await queue_messages(api, conn, 1)
    fake = FakeNotifier(failures=1)
    sender = Notifying(pool, hall, fake, FAST)

    async def sent() -> bool:
        await sender.work_once()
        return bool(fake.got)

    await eventually(sent)
    row = await one_row(conn, "SELECT status, attempts, last_error FROM notify_outbox")
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert row["last_error"].startswith("ConnectionError")  # the failure stays on record


async def test_a_message_too_late_to_help_is_given_up(
    api: Api, conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    hall, _ = await queue_messages(api, conn, 1)
    await conn.execute("UPDATE notify_outbox SET created_at = now() - interval '1 hour'")
    fake = FakeNotifier()
    assert await Notifying(pool, hall, fake, FAST).work_once() == 0
    row = await one_row(conn, "SELECT status, last_error FROM notify_outbox")
    assert (row["status"], row["last_error"]) == ("failed", "too late to send")
    assert not fake.got


async def test_a_message_whose_phone_number_is_gone_is_given_up_at_once(
    api: Api, conn: asyncpg.Connection, pool: asyncpg.Pool
) -> None:
    hall, _ = await queue_messages(api, conn, 1)
    await conn.execute("DELETE FROM notify_contacts")
    fake = FakeNotifier()
    await Notifying(pool, hall, fake, FAST).work_once()
    row = await one_row(conn, "SELECT status, attempts FROM notify_outbox")
    assert (row["status"], row["attempts"], fake.tries) == ("failed", 1, 0)


async def test_the_demo_notifier_logs_the_message_with_the_number_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = Message(
        id=1, kind="called", channel="sms", address="13812345678", ticket_number="C007",
        hall="测试大厅", text=messages.NOTIFY_CALLED(hall="测试大厅", number="C007", window=5), window=5,
    )  # fmt: skip
    assert "13812345678" not in repr(message)
    with caplog.at_level(logging.INFO):
        await LoggingNotifier().send(message)
    assert "sms called C007 to 138****5678" in caplog.text
    assert "13812345678" not in caplog.text


async def test_the_demo_notifier_end_to_end_never_logs_the_number(
    db_url: str, conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        async with notifying_server(db_url, LoggingNotifier()) as (_, api):
            await api.sign_in("s4", 4)
            await api.issue("C", phone="13700001234")
            assert (await api.window("s4", 4, "call-next")).status == 200

            async def logged() -> bool:
                return "137****1234" in caplog.text

            await eventually(logged)
    assert "13700001234" not in caplog.text
