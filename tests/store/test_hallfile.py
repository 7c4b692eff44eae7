"""The hall file: clear errors that name the key and line; loading is idempotent."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import pytest

from clearhall.server.store import db, hall_apply, hallfile
from tests.conftest import HALL_FILE

GOOD = HALL_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('code = "A"', 'code = "a1"'), 'services[1].code: "a1" must be 1–2 capital letters'),
        (('services = ["B"]', 'services = ["Q"]'), 'windows[3].services: unknown service "Q"'),
        (('role = "supervisor"', 'role = "boss"'), 'staff[5].role: "boss" is not one of'),
        (("daily_tickets_per_id = 3", "daily_tickets_per_id = 0"), "policy.daily_tickets_per_id: must be 1 or more"),
        (('timezone = "Asia/Shanghai"', 'timezone = "Mars/Base"'), 'hall.timezone: unknown time zone "Mars/Base"'),
        (("windows = [3]", "windows = [9]"), "staff[3].windows: unknown window 9"),
        (("party_member = true", 'party_member = "yes"'), "staff[1].party_member: expected true or false, got str"),
        (('kind = "kiosk"', 'kind = "kiosk"\ncolour = "red"'), 'devices[1].colour: unknown key "colour"'),
        (("number = 4", "number = 3"), "windows[4].number: 3 appears twice"),
    ],
)  # fmt: skip
def test_errors_name_the_key_and_line(change: tuple[str, str], expected: str) -> None:
    text = GOOD.replace(*change, 1)
    # The error points at the changed line (the last line of the replacement).
    changed_line = GOOD[: GOOD.index(change[0])].count("\n") + 1 + change[1].count("\n")
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    assert str(caught.value).startswith(f"hall.toml:{changed_line}: {expected}"), (changed_line, caught.value)


def test_syntax_errors_and_unknown_sections() -> None:
    with pytest.raises(hallfile.HallFileError, match=r"hall.toml: not valid TOML: .*line 2"):
        hallfile.parse(GOOD.replace("[hall]", "[hall", 1), "hall.toml")
    with pytest.raises(hallfile.HallFileError, match=r'hal: unknown section "hal"'):
        hallfile.parse(GOOD + "\n[hal]\nx = 1\n", "hall.toml")
    with pytest.raises(hallfile.HallFileError, match=r"missing the \[hall\] section"):
        hallfile.parse('[[services]]\ncode = "A"\nname = "x"\n', "hall.toml")


def test_the_demo_hall_is_realistic() -> None:
    demo = hallfile.load(hallfile.DEMO)
    assert len(demo.services) >= 8 and len(demo.windows) == 12
    assert {"企业开办", "不动产登记", "社保医保", "公积金", "户籍证件", "税务", "综合受理"} <= {
        s.name for s in demo.services
    }
    assert {d.kind for d in demo.devices} >= {"kiosk", "display", "rating"}
    assert any(s.role == "supervisor" for s in demo.staff)


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[dict[str, object]]]:
    out = {}
    for table in ("halls", "services", "windows", "window_services", "staff", "staff_windows", "devices"):
        out[table] = [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")]
    return out


async def test_loading_twice_changes_nothing(conn: asyncpg.Connection) -> None:
    before = await snapshot(conn)  # the template already loaded tests/hall.toml once
    await hall_apply.apply(conn, hallfile.load(HALL_FILE))
    assert await snapshot(conn) == before


async def test_a_changed_file_updates_rows_in_place(conn: asyncpg.Connection) -> None:
    ids = {r["code"]: r["id"] for r in await conn.fetch("SELECT code, id FROM services")}
    changed = (
        GOOD.replace('name = "企业开办"', 'name = "企业开办（一件事）"')
        .replace('[[services]]\ncode = "C"\nname = "社保医保"\n', "")
        .replace('services = ["A", "C"]', 'services = ["A"]')
        .replace('services = ["C"]', 'services = ["A"]')
    )
    await hall_apply.apply(conn, hallfile.parse(changed, "hall.toml"))
    rows = {r["code"]: r for r in await conn.fetch("SELECT code, id, name, active FROM services")}
    assert rows["A"]["id"] == ids["A"] and rows["A"]["name"] == "企业开办（一件事）"
    assert rows["C"]["active"] is False  # dropped from the file: no new tickets, history kept


async def test_passwords_are_stored_as_argon2_only(conn: asyncpg.Connection) -> None:
    hashes = [r["password_hash"] for r in await conn.fetch("SELECT password_hash FROM staff")]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any("password-" in h for h in hashes)


# ---------------------------------------------------------------- what check-config must catch


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_a_duplicate_device_token_is_named_by_device_never_shown() -> None:
    token = "test-display-token"
    text = GOOD.replace('token = "test-kiosk-token-1"', f'token = "{token}"', 1)
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    message = str(caught.value)
    assert token not in message
    line = line_of(GOOD, 'token = "test-display-token"')  # the second device, the one that repeats it
    assert message.startswith(f"hall.toml:{line}: devices[2].token: "), message
    assert '"kiosk-1"' in message and '"hall-screen"' in message


def test_check_config_prints_no_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from clearhall.server import cli

    token = "test-display-token"
    path = tmp_path / "hall.toml"
    path.write_text(GOOD.replace('token = "test-kiosk-token-1"', f'token = "{token}"', 1), encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["check-config", str(path)])
    said = capsys.readouterr()
    assert "devices[2].token" in str(stopped.value.code)
    assert token not in str(stopped.value.code) + said.out + said.err


@pytest.mark.parametrize("number", ["0", "-3", "1000000", "99999999999"])
def test_a_window_number_out_of_range_is_refused(number: str) -> None:
    text = GOOD.replace("number = 4", f"number = {number}", 1)
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    assert str(caught.value).startswith(
        f"hall.toml:{line_of(GOOD, 'number = 4')}: windows[4].number: must be "
    )


@pytest.mark.parametrize("minutes", ["0", "-30", "1441", "100000000000"])
def test_a_time_limit_out_of_range_is_refused(minutes: str) -> None:
    text = GOOD.replace('name = "社保医保"', f'name = "社保医保"\ntime_limit_minutes = {minutes}', 1)
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    line = line_of(GOOD, 'name = "社保医保"') + 1
    assert str(caught.value).startswith(f"hall.toml:{line}: services[3].time_limit_minutes: must be "), (
        caught.value
    )


@pytest.mark.parametrize(
    "value", ["[" * 5000 + "]" * 5000, "{a = " * 5000 + "1" + "}" * 5000, "[" * 200 + "1" + "]" * 200]
)
def test_deeply_nested_values_are_a_clear_error(value: str) -> None:
    text = GOOD.replace("[policy]\n", f"[policy]\nodd = {value}\n", 1)
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    line = line_of(GOOD, "[policy]") + 1
    assert str(caught.value).startswith(f"hall.toml:{line}: policy.odd: nested more than"), caught.value


def test_brackets_inside_strings_are_not_nesting() -> None:
    brackets = "[{" * 40
    text = GOOD.replace('name = "企业开办"', f'name = "企业开办 \\" {brackets}"', 1)
    text = text.replace('name = "社保医保"', f"name = '社保医保 {brackets}'  # {brackets}", 1)
    services = hallfile.parse(text).services
    assert services[0].name.endswith(brackets) and services[2].name.endswith(brackets)


@pytest.mark.parametrize(("opens", "closes"), [("18:00", "09:00"), ("09:00", "09:00")])
def test_opening_after_closing_is_refused(opens: str, closes: str) -> None:
    text = GOOD.replace('opens_at = "00:00"', f'opens_at = "{opens}"').replace(
        'closes_at = "23:59"', f'closes_at = "{closes}"'
    )
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    assert str(caught.value).startswith(
        f'hall.toml:{line_of(GOOD, "closes_at")}: hall.closes_at: must be later than opens_at ("{opens}")'
    ), caught.value


def test_opening_after_the_default_closing_names_opens_at() -> None:
    text = GOOD.replace('opens_at = "00:00"', 'opens_at = "18:00"').replace('closes_at = "23:59"\n', "")
    with pytest.raises(hallfile.HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    assert str(caught.value).startswith(
        f'hall.toml:{line_of(GOOD, "opens_at")}: hall.opens_at: must be earlier than closes_at ("17:30")'
    ), caught.value


def test_other_numbers_that_would_not_fit_the_database_are_refused() -> None:
    for change, key in (
        (
            ("max_consecutive_priority = 3", "max_consecutive_priority = 9999999999"),
            "policy.max_consecutive_priority",
        ),
        (("daily_tickets_per_id = 3", "daily_tickets_per_id = 9999999999"), "policy.daily_tickets_per_id"),
    ):
        with pytest.raises(hallfile.HallFileError, match=rf"hall.toml:\d+: {key}: must be at most"):
            hallfile.parse(GOOD.replace(*change, 1), "hall.toml")
    huge = GOOD.replace("daily_tickets_per_id = 3", "daily_tickets_per_id = 1" + "0" * 5000, 1)
    with pytest.raises(
        hallfile.HallFileError, match=r"hall.toml:\d+: not valid TOML: a number with too many"
    ):
        hallfile.parse(huge, "hall.toml")
    with pytest.raises(hallfile.HallFileError, match=r"hall.name: must not hold control characters"):
        hallfile.parse(GOOD.replace('name = "测试政务服务中心"', 'name = "测试\\u0000中心"', 1), "hall.toml")


# The test hall may set the kiosk limit itself; these tests set their own.
NO_KIOSK_LIMIT = re.sub(r"(?m)^kiosk_tickets_per_minute = .*\n", "", GOOD)


def with_kiosk_limit(value: str) -> str:
    return NO_KIOSK_LIMIT.replace("[policy]\n", f"[policy]\nkiosk_tickets_per_minute = {value}\n", 1)


def test_the_kiosk_ticket_limit() -> None:
    assert hallfile.parse(NO_KIOSK_LIMIT).kiosk_tickets_per_minute == 30  # the default (CONTRACT §3)
    assert hallfile.parse(with_kiosk_limit("12")).kiosk_tickets_per_minute == 12
    assert hallfile.parse(with_kiosk_limit("0")).kiosk_tickets_per_minute == 0  # no limit
    with pytest.raises(hallfile.HallFileError, match=r"policy.kiosk_tickets_per_minute: must be 0 or more"):
        hallfile.parse(with_kiosk_limit("-1"), "hall.toml")
    with pytest.raises(hallfile.HallFileError, match=r"policy.kiosk_tickets_per_minute: must be at most"):
        hallfile.parse(with_kiosk_limit("99999999999"), "hall.toml")


async def test_the_kiosk_limit_is_stored_on_the_hall_and_added_to_an_old_database(
    conn: asyncpg.Connection,
) -> None:
    await hall_apply.apply(conn, hallfile.parse(with_kiosk_limit("7")))
    assert await conn.fetchval("SELECT kiosk_tickets_per_minute FROM halls WHERE code = 'main'") == 7
    # A database made before the column (migration 0002) gets it, with the default.
    await conn.execute("ALTER TABLE halls DROP COLUMN kiosk_tickets_per_minute")
    await conn.execute("DELETE FROM schema_migrations")
    assert 2 in await db.apply_schema(conn)
    assert await conn.fetchval("SELECT kiosk_tickets_per_minute FROM halls WHERE code = 'main'") == 30


# ---------------------------------------------------------------- issue 9: 过号, unstaffed services, typical times


def with_policy(*lines: str) -> str:
    return GOOD.replace("[policy]\n", "[policy]\n" + "".join(f"{line}\n" for line in lines), 1)


def test_the_no_show_and_unstaffed_policy() -> None:
    defaults = hallfile.parse(GOOD)
    assert (defaults.no_show_after_s, defaults.no_show_comeback_behind, defaults.unstaffed_services) == (
        60, 0, "warn"
    )  # fmt: skip
    chosen = hallfile.parse(
        with_policy("no_show_after_s = 0", "no_show_comeback_behind = 3", 'unstaffed_services = "refuse"')
    )
    assert (chosen.no_show_after_s, chosen.no_show_comeback_behind, chosen.unstaffed_services) == (
        0, 3, "refuse"
    )  # fmt: skip
    for line, expected in (
        ("no_show_after_s = -1", "policy.no_show_after_s: must be 0 or more"),
        ("no_show_after_s = 86400", "policy.no_show_after_s: must be at most 3600"),
        ("no_show_comeback_behind = -2", "policy.no_show_comeback_behind: must be 0 or more"),
        ('unstaffed_services = "hide"', 'policy.unstaffed_services: "hide" is not one of: warn, refuse'),
        ("unstaffed_services = true", "policy.unstaffed_services: expected a string, got true/false"),
    ):
        with pytest.raises(hallfile.HallFileError) as caught:
            hallfile.parse(with_policy(line), "hall.toml")
        where = f"hall.toml:{line_of(GOOD, '[policy]') + 1}"
        assert str(caught.value).startswith(f"{where}: {expected}"), caught.value


def test_a_services_typical_minutes() -> None:
    text = GOOD.replace('name = "社保医保"\n', 'name = "社保医保"\ntypical_minutes = 12\n', 1)
    services = {s.code: s for s in hallfile.parse(text).services}
    assert services["C"].typical_minutes == 12 and services["A"].typical_minutes is None
    with pytest.raises(hallfile.HallFileError, match=r"services\[3\].typical_minutes: must be 1 or more"):
        hallfile.parse(text.replace("typical_minutes = 12", "typical_minutes = 0"), "hall.toml")
    with pytest.raises(hallfile.HallFileError, match=r"services\[3\].typical_minutes: must be at most 1440"):
        hallfile.parse(text.replace("typical_minutes = 12", "typical_minutes = 5000"), "hall.toml")


async def test_the_new_keys_are_stored_and_added_to_an_old_database(conn: asyncpg.Connection) -> None:
    text = with_policy("no_show_after_s = 30", "no_show_comeback_behind = 2", 'unstaffed_services = "refuse"')
    text = text.replace('name = "社保医保"\n', 'name = "社保医保"\ntypical_minutes = 12\n', 1)
    await hall_apply.apply(conn, hallfile.parse(text))
    hall = await conn.fetchrow(
        "SELECT no_show_after_s, no_show_comeback_behind, unstaffed_services FROM halls WHERE code = 'main'"
    )
    assert tuple(hall or ()) == (30, 2, "refuse")
    rows = await conn.fetch("SELECT code, typical_minutes FROM services")
    typical = {r["code"]: r["typical_minutes"] for r in rows}
    assert typical == {"A": None, "B": None, "C": 12}
    # Taken out of the file again: back to the defaults.
    await hall_apply.apply(conn, hallfile.parse(GOOD))
    assert await conn.fetchval("SELECT unstaffed_services FROM halls") == "warn"
    assert await conn.fetchval("SELECT typical_minutes FROM services WHERE code = 'C'") is None
    # A database made before the columns (migrations 0003 and 0004) gets them, with the defaults.
    await conn.execute(
        "ALTER TABLE halls DROP COLUMN no_show_after_s, DROP COLUMN no_show_comeback_behind,"
        " DROP COLUMN unstaffed_services"
    )
    await conn.execute("ALTER TABLE services DROP COLUMN typical_minutes")
    await conn.execute("DELETE FROM schema_migrations")
    assert {3, 4} <= set(await db.apply_schema(conn))
    hall = await conn.fetchrow(
        "SELECT no_show_after_s, no_show_comeback_behind, unstaffed_services FROM halls WHERE code = 'main'"
    )
    assert tuple(hall or ()) == (60, 0, "warn")
    assert await conn.fetchval("SELECT count(*) FROM services WHERE typical_minutes IS NULL") == 3


def test_a_services_materials_and_place() -> None:
    """一次性告知: the documents to bring and where it is handled, checked like every key."""
    text = GOOD.replace(
        'name = "社保医保"\n',
        'name = "社保医保"\nwhere = "C区 5号窗口"\nmaterials = ["身份证原件", "社保卡"]\n',
        1,
    )
    services = {s.code: s for s in hallfile.parse(text).services}
    assert services["C"].materials == ("身份证原件", "社保卡") and services["C"].where == "C区 5号窗口"
    assert services["B"].materials == () and services["B"].where is None
    for bad, expected in (
        ('materials = "身份证"', "services[3].materials: expected a list, got str"),
        ('materials = ["身份证", ""]', "services[3].materials: must be a list of documents"),
        ('materials = ["身份证", 3]', "services[3].materials: must be a list of documents"),
        (f'materials = ["{"长" * 81}"]', "services[3].materials: each document is one line of at most 80"),
        ("materials = [" + ", ".join(['"x"'] * 31) + "]", "services[3].materials: at most 30 documents"),
        (f'where = "{"楼" * 41}"', "services[3].where: at most 40 characters"),
        ('where = ""', "services[3].where: must not be empty"),
    ):
        broken = GOOD.replace('name = "社保医保"\n', f'name = "社保医保"\n{bad}\n', 1)
        with pytest.raises(hallfile.HallFileError) as caught:
            hallfile.parse(broken, "hall.toml")
        assert expected in str(caught.value), caught.value


async def test_materials_and_place_are_stored_and_cleared(conn: asyncpg.Connection) -> None:
    text = GOOD.replace(
        'name = "社保医保"\n', 'name = "社保医保"\nwhere = "C区"\nmaterials = ["身份证原件"]\n', 1
    )
    await hall_apply.apply(conn, hallfile.parse(text))
    row = await conn.fetchrow("SELECT materials, place FROM services WHERE code = 'C'")
    assert row is not None and (row["materials"], row["place"]) == (["身份证原件"], "C区")
    await hall_apply.apply(conn, hallfile.parse(GOOD))
    row = await conn.fetchrow("SELECT materials, place FROM services WHERE code = 'C'")
    assert row is not None and (row["materials"], row["place"]) == ([], None)
