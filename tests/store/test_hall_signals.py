"""The hall file's [signals]: the integrity signals' thresholds — their defaults, what
check-config refuses (with the line), where loading stores them, and migration 0011."""

from __future__ import annotations

import asyncpg
import pytest

from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.hall_reader import HallFileError
from clearhall.server.store.hall_signals import SignalsConf, from_stored, load_signals

BASE = """
[hall]
name = "测试大厅"

[[services]]
code = "A"
name = "企业开办"
"""

OWN = """
[signals]
id_tickets_per_day = 3
percentile = 95.5
kiosk_burst_seconds = 60
same_staff_visits = 6
days = 14
top_fast_share = 0.8
peer_factor = 2.5
peers = 4
"""


def test_defaults_when_the_file_says_nothing() -> None:
    conf = hallfile.parse(BASE, "hall.toml").signals
    assert conf == SignalsConf()
    assert (conf.id_tickets_per_day, conf.same_staff_visits, conf.days, conf.top_fast_ratings) == (
        4,
        4,
        30,
        20,
    )
    assert (conf.top_fast_share, conf.peer_factor, conf.percentile) == (0.9, 3, 99)


def test_the_halls_own_lines_are_read() -> None:
    conf = hallfile.parse(BASE + OWN, "hall.toml").signals
    assert (conf.id_tickets_per_day, conf.percentile, conf.kiosk_burst_seconds) == (3, 95.5, 60)
    assert (conf.same_staff_visits, conf.days, conf.top_fast_share, conf.peer_factor, conf.peers) == (
        6, 14, 0.8, 2.5, 4,
    )  # fmt: skip
    assert conf.suspensions_per_day == 5  # a key left out keeps its default


def test_the_demo_hall_spells_out_the_defaults() -> None:
    assert hallfile.load(hallfile.DEMO).signals == SignalsConf()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[signals]\nsame_staff_visits = 0\n", "signals.same_staff_visits: must be 1 or more"),
        ("[signals]\ndays = 400\n", "signals.days: must be at most 366"),
        ("[signals]\ntop_fast_share = 1.5\n", "signals.top_fast_share: must be a number from 0.5 to 1"),
        ("[signals]\npeer_factor = 0.5\n", "signals.peer_factor: must be a number from 1 to 100"),
        ("[signals]\npeer_factor = nan\n", "signals.peer_factor: must be a number"),
        ("[signals]\npercentile = 30\n", "signals.percentile: 0 (no comparison) or 50–99.9"),
        ("[signals]\npercentile = 100\n", "signals.percentile: must be a number from 0 to 99.9"),
        ('[signals]\npeers = "2"\n', "signals.peers: expected an integer, got str"),
        (
            "[signals]\ntop_fast_seconds = true\n",
            "signals.top_fast_seconds: expected an integer, got true/false",
        ),
        ("[signals]\nsuspensions = 3\n", 'unknown key "suspensions"'),
        ('signals = "on"\n', "[signals] must be a table"),
    ],
)
def test_mistakes_are_named_with_their_line(extra: str, message: str) -> None:
    text = extra + BASE if not extra.startswith("[") else BASE + "\n" + extra
    with pytest.raises(HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("hall.toml:")


async def test_loading_stores_them_where_the_signals_read_them(conn: asyncpg.Connection) -> None:
    await hall_apply.apply(conn, hallfile.parse(BASE + OWN, "hall.toml"))
    hall_id = await conn.fetchval("SELECT id FROM halls WHERE code = 'main'")
    stored = await load_signals(conn, hall_id)
    assert stored == hallfile.parse(BASE + OWN, "hall.toml").signals
    # Loading the file without them puts the defaults back: the file is the truth.
    await hall_apply.apply(conn, hallfile.parse(BASE, "hall.toml"))
    assert await load_signals(conn, hall_id) == SignalsConf()


def test_a_row_written_before_a_threshold_existed_reads_its_default() -> None:
    assert from_stored({}) == SignalsConf()
    assert from_stored({"days": 7, "retired_key": 1}) == SignalsConf(days=7)


async def test_migration_0011_brings_an_old_database_the_column(conn: asyncpg.Connection) -> None:
    await conn.execute("ALTER TABLE halls DROP COLUMN signal_thresholds")
    await conn.execute("DELETE FROM schema_migrations WHERE version = 11")
    assert 11 in await db.apply_schema(conn)
    hall_id = await conn.fetchval("SELECT id FROM halls WHERE code = 'main'")
    assert await load_signals(conn, hall_id) == SignalsConf()  # '{}': every default
