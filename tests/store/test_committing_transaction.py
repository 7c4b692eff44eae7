"""A transaction whose notifications go with its COMMIT (store/db.py): delivered
when and only if it commits, in order, whatever the payload holds."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearhall.server.store import db

CHANNEL = "test_channel"


async def heard(conn: asyncpg.Connection, listener: asyncpg.Connection, work: object) -> list[str]:
    got: list[str] = []
    listener_cb = lambda _c, _pid, _ch, payload: got.append(payload)  # noqa: E731
    await listener.add_listener(CHANNEL, listener_cb)
    try:
        await work  # type: ignore[misc]
        await listener.execute("SELECT 1")  # notifications arrive before the answer to a later query
        await asyncio.sleep(0.05)
    finally:
        await listener.remove_listener(CHANNEL, listener_cb)
    return got


async def test_sent_with_the_commit_in_order(conn: asyncpg.Connection, db_url: str) -> None:
    listener = await asyncpg.connect(db_url)
    payloads = ["first", 'it\'s \\ "quoted"', "$n$ dollars $$", "最后"]

    async def commits() -> None:
        async with db.committing_transaction(conn):
            assert db.notify_on_commit(conn, CHANNEL, payloads[:2])
            assert conn.is_in_transaction()
            assert db.notify_on_commit(conn, CHANNEL, payloads[2:])
        assert not conn.is_in_transaction()

    try:
        assert await heard(conn, listener, commits()) == payloads
    finally:
        await listener.close()


async def test_nothing_is_sent_when_it_rolls_back(conn: asyncpg.Connection, db_url: str) -> None:
    listener = await asyncpg.connect(db_url)

    async def fails() -> None:
        with pytest.raises(RuntimeError):
            async with db.committing_transaction(conn):
                await conn.execute("CREATE TEMP TABLE made_here (x int)")
                db.notify_on_commit(conn, CHANNEL, ["never"])
                raise RuntimeError("the use case refused")
        assert not conn.is_in_transaction()
        # rolled back: the table is gone too
        assert await conn.fetchval("SELECT to_regclass('made_here')") is None

    try:
        assert await heard(conn, listener, fails()) == []
    finally:
        await listener.close()


async def test_outside_one_the_caller_sends_itself(conn: asyncpg.Connection) -> None:
    assert db.notify_on_commit(conn, CHANNEL, ["x"]) is False


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")))
def test_a_literal_reads_back_as_the_same_text(text: str) -> None:
    quoted = db.literal(text)
    tag = quoted[: quoted.index("$", 1) + 1]
    assert quoted.startswith(tag) and quoted.endswith(tag)
    # the closing tag is the first one after the opening: nothing in the text ends it early
    assert quoted.index(tag, len(tag)) == len(quoted) - len(tag)


async def test_literals_read_back_in_postgresql(conn: asyncpg.Connection) -> None:
    for text in ["", "$", "$$", "a$", "'; DROP TABLE tickets; --", "\\x00\\", '{"a":"$n1$"}', "日本$语"]:
        assert await conn.fetchval(f"SELECT {db.literal(text)}") == text
