"""Taking numbers (CONTRACT §4): numbering, categories, ID checks, limits, keys."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from clearhall.server.domain import action_log as audit
from clearhall.server.domain.hall import load_hall
from clearhall.server.domain.issuing import Order, issue
from clearhall.server.store import db
from tests.conftest import DISPLAY, KIOSK, Api
from tests.helpers import valid_id


async def test_numbers_are_per_service_daily_and_padded(api: Api) -> None:
    numbers = [(await api.issue("A"))["number"] for _ in range(3)]
    numbers += [(await api.issue("C"))["number"]]
    assert numbers == ["A001", "A002", "A003", "C001"]


async def test_concurrent_issues_are_gapless_and_unique(api: Api) -> None:
    tickets = await asyncio.gather(*(api.issue("A") for _ in range(60)))
    assert sorted(t["number"] for t in tickets) == [f"A{i:03d}" for i in range(1, 61)]
    assert len({t["id"] for t in tickets}) == 60


async def test_rolled_back_issue_leaves_no_hole(conn: asyncpg.Connection) -> None:
    hall = await load_hall(conn, "main")
    assert hall is not None
    secret = await db.installation_secret(conn)
    actor = audit.Actor("system", None, "test")
    first = await issue(conn, hall, secret, actor, Order("A"), "http://test")

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with conn.transaction():
            taken = await issue(conn, hall, secret, actor, Order("A"), "http://test")
            assert taken.ticket.number == "A002"
            raise Abort
    after = await issue(conn, hall, secret, actor, Order("A"), "http://test")
    assert (first.ticket.number, after.ticket.number) == ("A001", "A002")


async def test_numbers_restart_each_hall_day(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")
    await api.issue("A")
    # Move everything issued so far to yesterday: today starts again at 001.
    await conn.execute("UPDATE ticket_counters SET day = day - 1")
    await conn.execute("UPDATE tickets SET day = day - 1")
    assert (await api.issue("A"))["number"] == "A001"


async def test_the_day_is_the_halls_local_day(conn: asyncpg.Connection) -> None:
    # UTC+14 and UTC-11 never share a date, so this fails if UTC or the wrong zone is used.
    secret = await db.installation_secret(conn)
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        await conn.execute("UPDATE halls SET timezone = $1", zone)
        hall = await load_hall(conn, "main")
        assert hall is not None
        t = await issue(conn, hall, secret, audit.Actor("system", None, "t"), Order("A"), "http://test")
        day = await conn.fetchval("SELECT day FROM tickets WHERE id = $1", t.ticket.id)
        assert day == datetime.now(ZoneInfo(zone)).date()
        assert t.ticket.issued_at.utcoffset() is not None


async def test_issued_ticket_has_contract_fields(api: Api) -> None:
    t = await api.issue("A", "elderly")
    for field in ("id", "number", "service", "category", "status", "issued_at", "ahead",
                  "estimated_wait_s", "key", "url"):  # fmt: skip
        assert field in t
    assert t["status"] == "waiting" and t["category"] == "elderly" and t["green_channel"] is True
    assert datetime.fromisoformat(t["issued_at"]).utcoffset() == timedelta(hours=8)
    assert t["url"] == f"https://hall.example.cn/t/{t['id']}?key={t['key']}"
    assert len(t["id"]) >= 20 and len(t["key"]) >= 30


async def test_key_and_url_only_in_the_issue_reply(api: Api, conn: asyncpg.Connection) -> None:
    t = await api.issue("A")
    seen = [
        await api.get(f"/api/tickets/{t['id']}?key={t['key']}"),
        await api.get(f"/api/tickets/{t['id']}", token=await api.login("s1")),
        await api.get("/api/queue"),
        await api.get("/api/windows/1/waiting", token=await api.login("s1")),
    ]
    await api.sign_in("s1", 1)
    seen.append(await api.window("s1", 1, "call-next"))
    for reply in seen:
        assert reply.status == 200, reply.body
        assert t["key"] not in str(reply.body) and "/t/" not in str(reply.body)
        assert "key" not in str(reply.body.get("ticket", {}))
    stored = cast(asyncpg.Record, await conn.fetchrow("SELECT * FROM tickets WHERE id = $1", t["id"]))
    assert t["key"] not in str(dict(stored))


async def test_citizen_reads_own_ticket_with_key_only(api: Api) -> None:
    t = await api.issue("A")
    mine = await api.get(f"/api/tickets/{t['id']}?key={t['key']}")
    assert mine.status == 200 and mine.body["ticket"]["number"] == t["number"]
    wrong = await api.get(f"/api/tickets/{t['id']}?key=not-the-key")
    assert wrong.status == 401 and wrong.body["error"]["code"] == "unauthorized"
    nobody = await api.get(f"/api/tickets/{t['id']}")
    assert nobody.status == 401
    missing = await api.get("/api/tickets/nope?key=x")
    assert missing.status == 404 and missing.body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"service": "Z"}, "service"),
        ({"service": "A", "category": "vip"}, "category"),
        ({"service": "A", "id_number": "430681198001011234"}, "id_number"),  # wrong check digit
        ({"service": "A", "id_number": "12345"}, "id_number"),
        ({"service": "A", "phone": "2345678901"}, "phone"),
        ({"service": "B"}, "id_number"),  # real name required
    ],
)
async def test_bad_ticket_input_is_400_naming_the_field(api: Api, body: dict[str, str], field: str) -> None:
    r = await api.post("/api/tickets", body, token=KIOSK)
    assert r.status == 400, r.body
    assert r.body["ok"] is False and r.body["error"]["code"] == "invalid_input"
    assert r.body["error"]["field"] == field


async def test_id_number_is_never_returned_and_stored_only_hashed(api: Api, conn: asyncpg.Connection) -> None:
    id_number = valid_id(7)
    t = await api.issue("B", id_number=id_number, phone="13812345678")
    row = cast(asyncpg.Record, await conn.fetchrow("SELECT * FROM tickets WHERE id = $1", t["id"]))
    assert id_number not in str(dict(row)) and "13812345678" not in str(dict(row))
    assert row["id_masked"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert len(row["id_hash"]) == 32
    assert id_number not in str(t)
    log = await conn.fetch("SELECT * FROM action_log")
    assert id_number not in str([dict(r) for r in log])
    # Only the staff member who has called it sees the masked form.
    before = await api.get(f"/api/tickets/{t['id']}", token=await api.login("s3"))
    assert "id_masked" not in before.body["ticket"]
    await api.sign_in("s3", 3)
    called = await api.window("s3", 3, "call-next")
    assert called.body["ticket"]["id_masked"] == row["id_masked"]
    assert id_number not in str(called.body)
    other = await api.get(f"/api/tickets/{t['id']}", token=await api.login("s1"))
    assert "id_masked" not in other.body["ticket"]


async def test_one_unfinished_ticket_per_id_per_service(api: Api) -> None:
    id_number = valid_id(3)
    await api.issue("B", id_number=id_number)
    again = await api.post("/api/tickets", {"service": "B", "id_number": id_number}, token=KIOSK)
    assert again.status == 409 and again.body["error"]["code"] == "limit_exceeded"
    # Another service is fine.
    await api.issue("A", id_number=id_number)


async def test_daily_cap_per_id_holds_under_concurrency(api: Api) -> None:
    id_number = valid_id(11)
    replies = await asyncio.gather(
        *(api.post("/api/tickets", {"service": s, "id_number": id_number}, token=KIOSK) for s in "ABCABC")
    )
    statuses = sorted(r.status for r in replies)
    # Three services, one open ticket each, and a cap of 3 a day: exactly 3 succeed.
    assert statuses == [201, 201, 201, 409, 409, 409]


async def test_ahead_counts_green_channel_first(api: Api) -> None:
    a = await api.issue("A")
    b = await api.issue("A")
    g = await api.issue("A", "pregnant")
    assert (a["ahead"], b["ahead"], g["ahead"]) == (0, 1, 0)
    later = await api.get(f"/api/tickets/{b['id']}?key={b['key']}")
    assert later.body["ticket"]["ahead"] == 2


async def test_only_kiosks_and_staff_issue(api: Api) -> None:
    r = await api.post("/api/tickets", {"service": "A"}, token=DISPLAY)
    assert r.status == 403 and r.body["error"]["code"] == "forbidden"
    r = await api.post("/api/tickets", {"service": "A"})
    assert r.status == 401
    r = await api.post("/api/tickets", {"service": "A"}, token=await api.login("s1"))
    assert r.status == 201


async def test_a_retried_issue_returns_the_same_ticket(api: Api, conn: asyncpg.Connection) -> None:
    retry = {"Idempotency-Key": "kiosk-1-attempt-42"}
    first, second = await asyncio.gather(
        api.post("/api/tickets", {"service": "A"}, token=KIOSK, headers=retry),
        api.post("/api/tickets", {"service": "A"}, token=KIOSK, headers=retry),
    )
    assert first.status == second.status == 201
    assert first.body["ticket"]["id"] == second.body["ticket"]["id"]
    assert first.body["ticket"]["key"] == second.body["ticket"]["key"]
    assert await conn.fetchval("SELECT count(*) FROM tickets") == 1
    other = await api.post(
        "/api/tickets", {"service": "A"}, token=KIOSK, headers={"Idempotency-Key": "another"}
    )
    assert other.body["ticket"]["number"] == "A002"
    # The stored answer (it holds the citizen's key) is gone after 24 hours.
    from clearhall.server.domain import idempotency

    await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    await idempotency.purge(conn)
    assert await conn.fetchval("SELECT count(*) FROM idempotency_keys") == 0


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def test_one_id_in_any_form_counts_against_the_same_limits(api: Api) -> None:
    """NFKC first (CONTRACT §4): a full-width digit is the same digit, spaces and a
    lower-case x change nothing; other scripts' digits are not digits of an ID."""
    person = valid_id(4242)
    forms = [
        person,
        person[:5] + person[5].translate(FULL_WIDTH) + person[6:],
        person.translate(FULL_WIDTH),
        " ".join([person[:6], person[6:14], person[14:]]).lower(),
    ]
    first = await api.post("/api/tickets", {"service": "A", "id_number": forms[0]}, token=KIOSK)
    assert first.status == 201, first.body
    for form in forms[1:]:
        again = await api.post("/api/tickets", {"service": "A", "id_number": form}, token=KIOSK)
        assert again.status == 409 and again.body["error"]["code"] == "limit_exceeded", (form, again.body)
    # The daily cap (3 in tests/hall.toml) counts every form as one person.
    for service, form in (("B", forms[2]), ("C", forms[3])):
        r = await api.post("/api/tickets", {"service": service, "id_number": form}, token=KIOSK)
        assert r.status == 201, r.body
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")  # A is no longer open: only the cap can refuse now
    capped = await api.post(
        "/api/tickets",
        {"service": "A", "id_number": forms[1]},
        token=KIOSK,
        headers={"Accept-Language": "en"},
    )
    assert capped.status == 409 and "daily limit of 3" in capped.body["error"]["message"], capped.body
    # Arabic-Indic digits pass a \d check but are not an ID number.
    foreign = await api.post(
        "/api/tickets", {"service": "A", "id_number": person.translate(ARABIC_INDIC)}, token=KIOSK
    )
    assert foreign.status == 400 and foreign.body["error"]["field"] == "id_number", foreign.body


DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


def other_digits_inside(number: str, digits: dict[int, int]) -> str:
    """An ID number with another script's digits in positions 2–17 and its own ASCII
    first and check characters: Python reads those digits (`int("٤") == 4`), so the
    check character still matches, and only the ASCII-digit rule refuses it."""
    return number[0] + number[1:17].translate(digits) + number[17]


async def test_other_scripts_digits_are_refused_even_with_a_matching_check_character(
    api: Api, conn: asyncpg.Connection
) -> None:
    """NFKC leaves ٤ and ४ as they are (they are no compatibility form of 4): such an
    ID number is refused, not hashed as another person past the caps (CONTRACT §4)."""
    person, x_person = valid_id(4242), valid_id(4244)
    assert x_person.endswith("X") and not person.endswith("X")
    await api.issue("A", id_number=person)
    await api.issue("A", id_number=x_person)
    foreign = [
        other_digits_inside(person, ARABIC_INDIC),
        other_digits_inside(person, DEVANAGARI),
        other_digits_inside(x_person, ARABIC_INDIC),
        other_digits_inside(x_person, ARABIC_INDIC)[:-1] + "x",
    ]
    for form in foreign:
        r = await api.post("/api/tickets", {"service": "A", "id_number": form}, token=KIOSK)
        assert r.status == 400 and r.body["error"]["field"] == "id_number", (form, r.body)
        r = await api.post(
            "/api/tickets",
            {"service": "C", "id_number": valid_id(4243), "proxy_id_number": form},
            token=KIOSK,
        )
        assert r.status == 400 and r.body["error"]["field"] == "proxy_id_number", (form, r.body)
    # A full-width Ｘ (or ｘ) is the letter X: the same person, held by the same open ticket.
    for form in (x_person.translate(FULL_WIDTH), x_person[:-1] + "ｘ"):
        again = await api.post("/api/tickets", {"service": "A", "id_number": form}, token=KIOSK)
        assert again.status == 409 and again.body["error"]["code"] == "limit_exceeded", (form, again.body)
    assert await conn.fetchval("SELECT count(*) FROM tickets") == 2


async def test_a_phone_number_in_any_form_is_one_number(api: Api, conn: asyncpg.Connection) -> None:
    for form in ("13812345678", "１３８１２３４５６７８", "138-1234-5678", "138 1234 5678"):
        r = await api.post("/api/tickets", {"service": "A", "phone": form}, token=KIOSK)
        assert r.status == 201, (form, r.body)
    hashes = await conn.fetch(
        "SELECT DISTINCT phone_hash, phone_masked FROM tickets WHERE phone_hash IS NOT NULL"
    )
    assert len(hashes) == 1 and hashes[0]["phone_masked"] == "138****5678"
    # NFKC leaves other scripts' digits as they are: after an ASCII 138 they are still
    # not ASCII digits, so the number is refused, not kept as another phone's hash.
    for bad in ("١٣٨١٢٣٤٥٦٧٨", "138١٢٣٤٥٦٧٨", "138१२३४५६७८", "1381234567", "23812345678"):
        r = await api.post("/api/tickets", {"service": "A", "phone": bad}, token=KIOSK)
        assert r.status == 400 and r.body["error"]["field"] == "phone", (bad, r.body)
    assert await conn.fetchval("SELECT count(*) FROM tickets") == 4
