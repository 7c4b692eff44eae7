"""The hall file's `[retention]`: its default, what check-config refuses (with the
line: a span shorter than what still reads the personal columns), and where
loading stores it, keeping how far the purge has come."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import asyncpg
import pytest

from clearhall.server.store import hall_apply, hallfile
from clearhall.server.store.hall_reader import HallFileError
from clearhall.server.store.hall_retention import RetentionConf, load_retention
from tests.conftest import HALL_FILE

BASE = HALL_FILE.read_text(encoding="utf-8")


def test_the_default_keeps_personal_data_180_days() -> None:
    assert "[retention]" not in BASE
    assert hallfile.parse(BASE, "hall.toml").retention == RetentionConf(180)
    assert hallfile.load(hallfile.DEMO).retention.personal_days >= 30
    assert hallfile.parse(BASE + "\n[retention]\npersonal_days = 400\n").retention == RetentionConf(400)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[retention]\npersonal_days = 0", "retention.personal_days: must be 1 or more"),
        ("[retention]\npersonal_days = 3651", "retention.personal_days: must be at most 3650"),
        ("[retention]\npersonal_days = '180'", "retention.personal_days: expected an integer, got str"),
        ("[retention]\nphones_days = 30", 'retention.phones_days: unknown key "phones_days"'),
        (
            "[retention]\npersonal_days = 20",
            "retention.personal_days: 20 is shorter than [signals] days (30): keep personal data at least that long",
        ),
    ],
)
def test_check_config_refuses(extra: str, message: str) -> None:
    with pytest.raises(HallFileError) as caught:
        hallfile.parse(BASE + "\n" + extra + "\n", "hall.toml")
    assert str(caught.value).endswith(message), caught.value
    assert str(caught.value).startswith(f"hall.toml:{BASE.count(chr(10)) + 3}:"), caught.value


def test_a_longer_span_elsewhere_needs_a_longer_retention() -> None:
    """The default 180 is refused when the signals look back a whole year, and the
    message says it was the default."""
    text = BASE.replace("[signals]\n", "[signals]\ndays = 366\n")
    with pytest.raises(
        HallFileError, match=r"personal_days: 180 \(the default\) is shorter than \[signals\] days"
    ):
        hallfile.parse(text, "hall.toml")
    ratings = BASE + "\n[ratings]\nrate_within_days = 200\n"
    with pytest.raises(HallFileError, match=r"shorter than \[ratings\] rate_within_days \(200\)"):
        hallfile.parse(ratings, "hall.toml")
    assert hallfile.parse(text + "\n[retention]\npersonal_days = 366\n").retention.personal_days == 366


async def test_loading_stores_it_and_keeps_the_purges_progress(conn: asyncpg.Connection) -> None:
    conf = hallfile.load(HALL_FILE)
    hall_id = await hall_apply.apply(conn, conf)
    assert await load_retention(conn, hall_id) == RetentionConf(180)
    await conn.execute("UPDATE retention_rules SET purged_before = '2026-01-01' WHERE hall_id = $1", hall_id)
    await hall_apply.apply(conn, replace(conf, retention=RetentionConf(365)))
    row = await conn.fetchrow("SELECT * FROM retention_rules WHERE hall_id = $1", hall_id)
    assert row is not None
    assert (row["personal_days"], row["purged_before"]) == (365, date(2026, 1, 1))
    await conn.execute("DELETE FROM retention_rules")
    assert await load_retention(conn, hall_id) == RetentionConf(180)  # no row: the default
