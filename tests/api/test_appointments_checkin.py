"""预约 check-in end to end (CONTRACT §12): booked on the public API, checked in
at the kiosk by the booking's code (typed, or its QR as a scanner types it) or
by the ID number, called before the walk-ins; early and late arrivals told
their window; a walk-in number instead when the citizen wants one.

The booking is made for tomorrow, then its slot is moved through `conn` to
where the test needs it relative to now (the database's clock).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.conftest import KIOSK, SECRETS, Api
from tests.helpers import valid_id

ZONE = ZoneInfo("Asia/Shanghai")  # tests/hall.toml's


def tomorrow_at(hhmm: str) -> str:
    day: date = datetime.now(ZONE).date() + timedelta(days=1)
    return f"{day.isoformat()}T{hhmm}:00+08:00"


async def booked(api: Api, service: str, id_number: str, hhmm: str = "09:00") -> dict[str, Any]:
    body = {"service": service, "slot": tomorrow_at(hhmm), "id_number": id_number, "phone": "13712345678"}
    r = await api.post("/api/appointments", body)
    assert r.status == 201, r.body
    SECRETS.add(r.body["appointment"]["code"])
    return dict(r.body["appointment"])


async def move(conn: asyncpg.Connection, a: dict[str, Any], from_now: timedelta) -> datetime:
    """Put the booking's slot `from_now` away from now (its day following it); the new slot."""
    slot: datetime = await conn.fetchval(
        """UPDATE appointments SET slot = date_trunc('minute', now()) + $2::interval,
                  slot_end = date_trunc('minute', now()) + $2::interval + interval '20 minutes',
                  day = ((date_trunc('minute', now()) + $2::interval) AT TIME ZONE 'Asia/Shanghai')::date
           WHERE id = $1 RETURNING slot""",
        a["id"], from_now,
    )  # fmt: skip
    return slot


def within_today() -> timedelta:
    """A slot inside its check-in window that is still today in hall time: the ID number
    finds today's booking (a few minutes ago, or just after midnight a few minutes ahead)."""
    now = datetime.now(ZONE)
    return timedelta(minutes=-5 if now.hour or now.minute >= 10 else 5)


async def check_in(api: Api, **fields: Any) -> Any:
    return await api.post("/api/tickets", fields, token=KIOSK)


async def test_a_booking_checked_in_by_its_code_is_called_before_the_walk_ins(
    api: Api, conn: asyncpg.Connection
) -> None:
    walk_ins = [await api.issue("C") for _ in range(2)]
    person = valid_id(9001)
    a = await booked(api, "C", person)
    await move(conn, a, timedelta(minutes=10))
    r = await check_in(api, appointment=a["code"])
    assert r.status == 201, r.body
    ticket = r.body["ticket"]
    assert (ticket["service"], ticket["category"], ticket["number"]) == ("C", "appointment", "C003")
    view = (await api.get(f"/api/appointments/{a['id']}?code={a['code']}")).body["appointment"]
    assert view["status"] == "checked_in" and view["ticket"] == "C003" and view["cancellable"] is False
    log = await conn.fetchval(
        "SELECT details FROM action_log WHERE action = 'issue' AND ticket_number = 'C003'"
    )
    assert log["appointment"] == a["id"] and log["category"] == "appointment"

    again = await check_in(api, appointment=a["code"])
    assert again.status == 409 and again.body["error"]["message"] == "此预约已签到"

    await api.sign_in("s4", 4)  # window 4 serves C only
    first = (await api.window("s4", 4, "call-next")).body["ticket"]
    assert first["number"] == "C003" and first["category"] == "appointment"
    assert first["id_masked"] == person[:4] + "*" * 10 + person[-4:]  # the booking's person, to the caller
    assert (await api.window("s4", 4, "finish")).status == 200
    assert (await api.window("s4", 4, "call-next")).body["ticket"]["number"] == walk_ins[0]["number"]
    policy = (await api.get("/api/policy")).body["policy"]
    assert "appointment" in policy["called_first"] and "预约号" in policy["text_zh"]


async def test_the_scanned_qr_and_a_code_typed_loosely_both_check_in(
    api: Api, conn: asyncpg.Connection
) -> None:
    scanned, typed = await booked(api, "C", valid_id(9010)), await booked(api, "A", valid_id(9011))
    await move(conn, scanned, timedelta(minutes=5))
    await move(conn, typed, timedelta(minutes=-5))
    # a USB scanner reading the QR types the booking page's whole address
    r = await check_in(api, appointment=scanned["url"])
    assert r.status == 201 and r.body["ticket"]["category"] == "appointment", r.body
    wrong_service = await check_in(api, service="C", appointment=typed["code"])
    assert (
        wrong_service.status == 409 and wrong_service.body["error"]["message"] == "此预约是“企业开办”业务的"
    )
    loose = f" {typed['code'][:4].lower()}-{typed['code'][4:].lower()} "
    r = await check_in(api, service="A", appointment=loose)
    assert r.status == 201 and (r.body["ticket"]["service"], r.body["ticket"]["category"]) == (
        "A",
        "appointment",
    )
    unknown = await check_in(api, appointment="ZZZZ-ZZZZ")
    assert unknown.status == 404 and unknown.body["error"]["message"] == "没有这个预约码，请核对后重试"


async def test_early_and_late_arrivals_are_told_when_they_may_check_in(
    api: Api, conn: asyncpg.Connection
) -> None:
    person = valid_id(9020)
    a = await booked(api, "C", person)
    slot = await move(conn, a, timedelta(hours=2))
    early = await check_in(api, appointment=a["code"])
    assert early.status == 409 and early.body["error"]["code"] == "conflict", early.body
    window = early.body["error"]["appointment"]
    assert window["arrival"] == "early"
    assert datetime.fromisoformat(window["slot"]) == slot
    assert datetime.fromisoformat(window["checkin_from"]) == slot - timedelta(minutes=30)
    assert datetime.fromisoformat(window["checkin_until"]) == slot + timedelta(minutes=15)
    opens = (slot - timedelta(minutes=30)).astimezone(ZONE)
    assert f"请于 {opens:%H:%M} 起签到" in early.body["error"]["message"]

    slot = await move(conn, a, timedelta(minutes=-20))
    late = await check_in(api, appointment=a["code"])
    assert late.status == 409 and late.body["error"]["appointment"]["arrival"] == "late"
    closes = (slot + timedelta(minutes=15)).astimezone(ZONE)
    assert f"签到已于 {closes:%H:%M} 截止" in late.body["error"]["message"]

    # the citizen takes an ordinary number instead: they came, so it is no no-show
    walk_in = await check_in(api, service="C", id_number=person, walk_in=True)
    assert walk_in.status == 201 and walk_in.body["ticket"]["category"] == "normal"
    row = await conn.fetchrow("SELECT status, ticket_id FROM appointments WHERE id = $1", a["id"])
    assert row is not None and tuple(row) == ("checked_in", walk_in.body["ticket"]["id"])


async def test_walk_in_with_the_code_takes_an_ordinary_ticket_for_the_booker(
    api: Api, conn: asyncpg.Connection
) -> None:
    """The kiosk's 取普通号 after an early arrival re-sends the scanned code with walk_in:
    an ordinary ticket of the booking's service, for its person, the booking arrived."""
    person = valid_id(9025)
    a = await booked(api, "C", person)
    await move(conn, a, timedelta(hours=2))
    early = await check_in(api, appointment=a["code"])
    assert early.status == 409 and early.body["error"]["appointment"]["service"] == "C"
    r = await check_in(api, appointment=a["code"], walk_in=True)
    assert r.status == 201, r.body
    assert (r.body["ticket"]["service"], r.body["ticket"]["category"]) == ("C", "normal")
    held = await conn.fetchval("SELECT id_hash FROM tickets WHERE id = $1", r.body["ticket"]["id"])
    assert held == await conn.fetchval("SELECT id_hash FROM appointments WHERE id = $1", a["id"])
    assert await conn.fetchval("SELECT status FROM appointments WHERE id = $1", a["id"]) == "checked_in"


async def test_the_id_number_finds_a_booking_whose_window_crosses_midnight(
    api: Api, conn: asyncpg.Connection
) -> None:
    """A slot at 00:10 checked in at 23:50 the day before: the booking is tomorrow's, its
    window holds now. (The slot is put 10 minutes ahead and its day one day on.)"""
    person = valid_id(9027)
    a = await booked(api, "C", person)
    await move(conn, a, timedelta(minutes=10))
    await conn.execute("UPDATE appointments SET day = day + 1 WHERE id = $1", a["id"])
    r = await check_in(api, service="C", id_number=person)
    assert r.status == 201 and r.body["ticket"]["category"] == "appointment", r.body


async def test_the_id_number_finds_todays_booking_for_the_service(api: Api, conn: asyncpg.Connection) -> None:
    person = valid_id(9030)
    for service in ("C", "A"):
        await move(conn, await booked(api, service, person), within_today())
    r = await check_in(api, service="C", id_number=person)
    assert r.status == 201 and r.body["ticket"]["category"] == "appointment", r.body
    wide = "".join(chr(ord(c) + 0xFEE0) for c in person)  # full-width digits: the same person
    r = await check_in(api, service="A", id_number=wide)
    assert r.status == 201 and r.body["ticket"]["category"] == "appointment", r.body
    assert await conn.fetchval("SELECT count(*) FROM appointments WHERE status = 'checked_in'") == 2
    # B has no booking of this person: an ordinary ticket
    r = await check_in(api, service="B", id_number=person)
    assert r.status == 201 and r.body["ticket"]["category"] == "normal"


async def test_codes_tried_at_a_kiosk_are_counted_even_when_unknown(
    api: Api, conn: asyncpg.Connection
) -> None:
    """An unknown code is a 404 whose transaction rolls back, but the try still counts:
    after a burst of guesses the kiosk is answered 429, the right code included."""
    a = await booked(api, "C", valid_id(9040))
    await move(conn, a, timedelta(minutes=5))
    for n in range(10):
        wrong = await check_in(api, appointment=f"ZZZZ{n:04d}")
        assert wrong.status == 404, wrong.body
    refused = await check_in(api, appointment=a["code"])
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    assert await conn.fetchval("SELECT status FROM appointments WHERE id = $1", a["id"]) == "booked"
