"""帮代办 (CONTRACT §12): registered proxies and the tickets a proxy takes.

A proxy ticket records both ID numbers (as keyed hashes); the caps count the
applicant; the register is the hall file's `[[proxies]]` plus those a
supervisor adds, and shows ID numbers only masked."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from clearhall.server.app import StartupError, create_app
from clearhall.server.store import hallfile
from tests.conftest import HALL_FILE, KIOSK, Api, app_client, settings_for
from tests.helpers import valid_id


def full_width(number: str) -> str:
    return number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


async def test_supervisors_keep_the_register(api: Api) -> None:
    boss, number = await api.login("boss"), valid_id(900)
    added = await api.post(
        "/api/proxies", {"name": "帮办员 周", "id_number": number, "note": "帮办窗口"}, token=boss
    )
    assert added.status == 201, added.body
    proxy = added.body["proxy"]
    assert proxy["id_number"] == number[:4] + "*" * 10 + number[-4:] and proxy["source"] == "supervisor"
    assert proxy["added_by"] == "郭主任"
    again = await api.post("/api/proxies", {"name": "又一次", "id_number": full_width(number)}, token=boss)
    assert again.status == 409  # the same number, however it is typed
    listed = (await api.get("/api/proxies", token=boss)).body["proxies"]
    assert [p["name"] for p in listed] == ["帮办员 周"] and number not in str(listed)
    staff = await api.login("s1")
    assert (await api.get("/api/proxies", token=staff)).status == 403
    assert (await api.post("/api/proxies", {"name": "x", "id_number": number}, token=staff)).status == 403
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")  # its check character broken
    bad = await api.post("/api/proxies", {"name": "x", "id_number": wrong}, token=boss)
    assert bad.status == 400 and bad.body["error"]["field"] == "id_number"
    removed = await api.request("DELETE", f"/api/proxies/{proxy['id']}", token=boss)
    assert removed.status == 200
    assert (await api.get("/api/proxies", token=boss)).body["proxies"] == []
    assert (await api.request("DELETE", f"/api/proxies/{proxy['id']}", token=boss)).status == 404
    back = await api.post("/api/proxies", {"name": "帮办员 周", "id_number": number}, token=boss)
    assert back.status == 201  # a removed proxy may be registered again


async def test_a_proxy_ticket_records_both_and_caps_count_the_applicant(
    api: Api, conn: asyncpg.Connection
) -> None:
    applicant, proxy = valid_id(910), valid_id(911)
    t = await api.issue("A", id_number=applicant, proxy_id_number=full_width(proxy))
    assert t["proxy"] is True
    row = await conn.fetchrow(
        "SELECT id_hash, proxy_id_hash, proxy_id_masked FROM tickets WHERE id = $1", t["id"]
    )
    assert row is not None
    assert (
        row["id_hash"] != row["proxy_id_hash"] and row["proxy_id_masked"] == proxy[:4] + "*" * 10 + proxy[-4:]
    )
    plain = await api.issue("C", id_number=proxy)  # the proxy's own number holds nothing of the applicant's
    same_hash = await conn.fetchval("SELECT id_hash FROM tickets WHERE id = $1", plain["id"])
    assert same_hash == row["proxy_id_hash"]  # full-width digits hash as the same number
    # The applicant holds an unfinished A ticket: not a second, whoever asks for it.
    second = await api.post("/api/tickets", {"service": "A", "id_number": applicant}, token=KIOSK)
    assert second.status == 409 and second.body["error"]["code"] == "limit_exceeded"
    # The daily cap (3 in the test hall) counts the applicant's tickets, proxy or not.
    await api.issue("B", id_number=applicant, proxy_id_number=valid_id(912))
    await api.issue("C", id_number=applicant)
    over = await api.post(
        "/api/tickets", {"service": "C", "id_number": applicant, "proxy_id_number": proxy}, token=KIOSK
    )
    assert over.status == 409 and over.body["error"]["code"] == "limit_exceeded"
    # … and the proxy, acting for others, is not capped by them.
    for n in range(4):
        await api.issue("A", id_number=valid_id(920 + n), proxy_id_number=proxy)
    logged = await conn.fetchval("SELECT details FROM action_log WHERE ticket_id = $1", t["id"])
    assert logged["proxy"] == proxy[:4] + "*" * 10 + proxy[-4:]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"service": "A", "proxy_id_number": valid_id(930)}, "id_number"),
     ({"service": "A", "id_number": valid_id(931), "proxy_id_number": valid_id(931)}, "proxy_id_number"),
     ({"service": "A", "id_number": valid_id(932), "proxy_id_number": "4306811980"}, "proxy_id_number")],
)  # fmt: skip
async def test_a_proxy_ticket_needs_two_people(api: Api, body: dict[str, str], field: str) -> None:
    r = await api.post("/api/tickets", body, token=KIOSK)
    assert r.status == 400 and r.body["error"]["field"] == field


async def test_the_hall_files_proxies_are_registered_at_start(db_url: str, tmp_path: Path) -> None:
    number = valid_id(940)
    hall = tmp_path / "hall.toml"
    text = HALL_FILE.read_text(encoding="utf-8")
    hall.write_text(text + f'\n[[proxies]]\nname = "帮办员 钱"\nid_number = "{number}"\nnote = "帮办窗口"\n')
    async with app_client(create_app(settings_for(db_url, config=hall))) as (_, api):
        [listed] = (await api.get("/api/proxies", token=await api.login("boss"))).body["proxies"]
        assert (listed["name"], listed["source"], listed["note"]) == ("帮办员 钱", "file", "帮办窗口")
        boss = await api.login("boss")
        kept = await api.request("DELETE", f"/api/proxies/{listed['id']}", token=boss)
        assert kept.status == 409  # the file decides: removed there, not on the dashboard
    hall.write_text(text)  # dropped from the file: no longer registered at the next start
    async with app_client(create_app(settings_for(db_url, config=hall))) as (_, api):
        assert (await api.get("/api/proxies", token=await api.login("boss"))).body["proxies"] == []


async def test_a_bad_number_in_the_file_is_named_not_shown(db_url: str, tmp_path: Path) -> None:
    number = valid_id(941)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    hall = tmp_path / "hall.toml"
    hall.write_text(
        HALL_FILE.read_text(encoding="utf-8") + f'\n[[proxies]]\nname = "x"\nid_number = "{wrong}"\n'
    )
    with pytest.raises(StartupError) as caught:
        async with app_client(create_app(settings_for(db_url, config=hall))):
            pass
    assert "proxies[1].id_number" in str(caught.value) and wrong not in str(caught.value)
    with pytest.raises(hallfile.HallFileError, match=r"proxies\[1\]\.id_number"):
        hallfile.parse(
            HALL_FILE.read_text(encoding="utf-8") + '\n[[proxies]]\nname = "x"\nid_number = "12"\n'
        )
