"""The hall file: clear errors that name the key and line; loading is idempotent."""

from __future__ import annotations

import asyncpg
import pytest

from clearhall.server.store import hall_apply, hallfile
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
