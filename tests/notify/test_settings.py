"""Where alerts are set up: the hall file's `[policy] alert_ahead` (default 3, 0 =
off) and `[notify] notifier` ("none" by default, "log" in the demo), stored and
published at /api/policy; and migration 0005, which gives an older database the
column, the outbox and its trigger."""

from __future__ import annotations

import asyncpg
import pytest

from clearhall.server.domain import views
from clearhall.server.domain.hall import load_hall
from clearhall.server.notify import notifiers
from clearhall.server.store import db, hall_apply, hallfile
from tests.conftest import HALL_FILE, Api

GOOD = HALL_FILE.read_text(encoding="utf-8")


def with_policy(line: str) -> str:
    return GOOD.replace("[policy]\n", f"[policy]\n{line}\n", 1)


def line_of(text: str, start: str) -> int:
    return text[: text.index(start)].count("\n") + 1


def test_the_alert_settings_and_their_defaults() -> None:
    plain = hallfile.parse(GOOD)
    assert (plain.alert_ahead, plain.notifier) == (3, "none")
    chosen = hallfile.parse(with_policy("alert_ahead = 5") + '\n[notify]\nnotifier = "log"\n')
    assert (chosen.alert_ahead, chosen.notifier) == (5, "log")
    assert hallfile.parse(with_policy("alert_ahead = 0")).alert_ahead == 0  # off
    assert hallfile.load(hallfile.DEMO).notifier == "log"
    # every name the file may give is a notifier, or "none"
    assert set(hallfile.NOTIFIERS) == {"none", *notifiers.BY_NAME}


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        (with_policy("alert_ahead = -1"), "alert_ahead", "policy.alert_ahead: must be 0 or more"),
        (with_policy("alert_ahead = 5000"), "alert_ahead", "policy.alert_ahead: must be at most 100"),
        (with_policy('alert_ahead = "3"'), "alert_ahead", "policy.alert_ahead: expected an integer, got str"),
        (GOOD + '\n[notify]\nnotifier = "sms"\n', "notifier", 'notify.notifier: "sms" is not one of: none, log'),
        (GOOD + '\n[notify]\nnotifier = "log"\ngateway = "x"\n', "gateway", 'notify.gateway: unknown key "gateway"'),
    ],
)  # fmt: skip
def test_bad_alert_settings_name_the_key_and_line(text: str, key: str, expected: str) -> None:
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    at = text.rindex(f"{key} =")
    assert str(caught.value) == f"hall.toml:{line_of(text, text[at:])}: {expected}"


async def test_alert_ahead_is_stored_and_published(conn: asyncpg.Connection, api: Api) -> None:
    assert (await api.get("/api/policy")).body["policy"]["alert_ahead"] == 3
    await hall_apply.apply(conn, hallfile.parse(with_policy("alert_ahead = 6")))
    hall = await load_hall(conn, "main")
    assert hall is not None and views.policy(hall)["alert_ahead"] == 6
    await hall_apply.apply(conn, hallfile.parse(GOOD))  # taken out of the file: the default again
    assert await conn.fetchval("SELECT alert_ahead FROM halls") == 3


async def test_migration_0005_brings_an_older_database_up(conn: asyncpg.Connection) -> None:
    await conn.execute("DROP TRIGGER notify_after_call ON tickets")
    await conn.execute("DROP FUNCTION notify_after_call()")
    await conn.execute("DROP TABLE notify_outbox, notify_contacts")
    await conn.execute("ALTER TABLE halls DROP COLUMN alert_ahead")
    await conn.execute("DELETE FROM schema_migrations WHERE version = 5")
    assert 5 in await db.apply_schema(conn)
    assert await conn.fetchval("SELECT alert_ahead FROM halls WHERE code = 'main'") == 3
    assert await conn.fetchval("SELECT to_regclass('notify_outbox')") is not None
    assert await conn.fetchval("SELECT count(*) FROM pg_trigger WHERE tgname = 'notify_after_call'") == 1
    assert await db.apply_schema(conn) == []  # and a second start changes nothing
