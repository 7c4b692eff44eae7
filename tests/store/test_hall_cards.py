"""The hall file's `[cards]` (红黄牌): its defaults, what check-config refuses
(with the line), where loading stores it, and migration 0010 bringing the
cards' tables to a database made before them."""

from __future__ import annotations

import re

import asyncpg
import pytest

from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.hall_cards import CardsConf, load_cards
from clearhall.server.store.hall_reader import HallFileError
from tests.conftest import HALL_FILE

# tests/hall.toml without its own [cards] table
BASE = re.sub(r"\[cards\]\n(?:[a-z_]+ = .*\n)+", "", HALL_FILE.read_text(encoding="utf-8"))
OWN = """
[cards]
time_limit = false
wait_minutes = 45
idle_minutes = 0
absent_minutes = 20
out_of_order_calls = false
suspended_twice = true
bad_ratings = false
red_after_yellows = 5
red_period_days = 90
"""


def test_defaults_when_the_file_says_nothing() -> None:
    assert "[cards]" not in BASE
    assert hallfile.parse(BASE, "hall.toml").cards == CardsConf()
    d = CardsConf()
    assert (d.wait_minutes, d.idle_minutes, d.absent_minutes, d.red_after_yellows, d.red_period_days) == (
        30,
        10,
        15,
        3,
        30,
    )
    assert d.time_limit and d.out_of_order_calls and d.suspended_twice and d.bad_ratings
    assert hallfile.load(HALL_FILE).cards == CardsConf()  # the test hall writes the defaults out
    assert hallfile.load(hallfile.DEMO).cards == CardsConf()  # and so does the demo


def test_the_halls_own_rules_are_read() -> None:
    conf = hallfile.parse(BASE + OWN, "hall.toml").cards
    assert conf == CardsConf(False, 45, 0, 20, False, True, False, 5, 90)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("wait_minutes = -1", "cards.wait_minutes: must be 0 or more"),
        ("idle_minutes = 1441", "cards.idle_minutes: must be at most 1440"),
        ("absent_minutes = 1.5", "cards.absent_minutes: expected an integer"),
        ("time_limit = 1", "cards.time_limit: expected true or false"),
        ("red_after_yellows = 21", "cards.red_after_yellows: must be at most 20"),
        ("red_period_days = 0", "cards.red_period_days: must be 1 or more"),
        ("absence_minutes = 15", 'unknown key "absence_minutes"'),
    ],
)
def test_mistakes_are_named_with_their_line(extra: str, message: str) -> None:
    with pytest.raises(HallFileError) as caught:
        hallfile.parse(BASE + "\n[cards]\n" + extra + "\n", "hall.toml")
    assert message in str(caught.value)
    line = len(BASE.splitlines()) + 3
    assert str(caught.value).startswith(f"hall.toml:{line}:")


async def test_loading_stores_the_rules_and_a_reload_puts_back_the_defaults(conn: asyncpg.Connection) -> None:
    hall_id = await hall_apply.apply(conn, hallfile.parse(BASE + OWN, "hall.toml"))
    assert await load_cards(conn, hall_id) == CardsConf(False, 45, 0, 20, False, True, False, 5, 90)
    await hall_apply.apply(conn, hallfile.parse(BASE, "hall.toml"))
    assert await load_cards(conn, hall_id) == CardsConf()


async def test_migration_0010_adds_the_cards_to_an_old_database(conn: asyncpg.Connection) -> None:
    await conn.execute("DROP TABLE card_notes, cards, card_rules")
    await conn.execute("DROP INDEX attendance_window")
    [(_, _, path)] = [m for m in db.migrations() if m[0] == 10]
    await conn.execute(path.read_text(encoding="utf-8"))  # on its own: schema.sql would make them too
    hall_id = await conn.fetchval("SELECT id FROM halls")
    assert await load_cards(conn, hall_id) == CardsConf()  # no row yet: the defaults
    assert await conn.fetchval("SELECT to_regclass('attendance_window') IS NOT NULL")
    for table in ("cards", "card_notes"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"TRUNCATE {table} CASCADE")
    await conn.execute("DELETE FROM schema_migrations WHERE version = 10")
    assert await db.apply_schema(conn) == [10]  # and again, over what is there: nothing changes
