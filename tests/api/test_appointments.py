"""预约 over HTTP (CONTRACT §12): the services and slots offered, booking, the
booking's holder view and QR, cancelling, and the supervisors' day summary.

The test hall (tests/hall.toml) is open 00:00–23:59 every day in Asia/Shanghai;
A has half-hour slots for two, C 20-minute slots for one, B takes no bookings.
Bookings are made for tomorrow (every slot of it is ahead, at any hour the
tests run); the past is made by moving rows through `conn`.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearhall.server.api.appointments import qr_svg
from clearhall.server.domain.checkin import CODE_ALPHABET
from tests.conftest import SECRETS, Api
from tests.helpers import valid_id

ZONE = ZoneInfo("Asia/Shanghai")


def hall_day(offset: int = 0) -> date:
    return datetime.now(ZONE).date() + timedelta(days=offset)


def at(day: date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}:00+08:00"


async def book(
    api: Api, service: str, slot: str, id_number: str, phone: str = "13812345678", **kw: Any
) -> Any:
    r = await api.post(
        "/api/appointments", {"service": service, "slot": slot, "id_number": id_number, "phone": phone}, **kw
    )
    if r.status == 201:
        SECRETS.add(r.body["appointment"]["code"])
    return r


async def booked(api: Api, service: str, slot: str, id_number: str) -> dict[str, Any]:
    r = await book(api, service, slot, id_number)
    assert r.status == 201, r.body
    return dict(r.body["appointment"])


def proof(a: dict[str, Any]) -> str:
    return f"/api/appointments/{a['id']}?code={a['code']}"


async def test_the_services_that_take_bookings_and_their_days(api: Api) -> None:
    r = await api.get("/api/appointments/services")
    assert r.status == 200, r.body
    assert [s["code"] for s in r.body["services"]] == ["A", "C"]  # B takes no bookings
    a = r.body["services"][0]
    assert (a["name"], a["slot_minutes"], a["slot_capacity"]) == ("企业开办", 30, 2)
    assert (
        a["materials"] == ["法定代表人身份证原件", "公司章程（全体股东签字）"] and a["where"] == "A区 1号窗口"
    )
    days = [d["day"] for d in a["days"]]
    assert days[-7:] == [hall_day(n).isoformat() for n in range(1, 8)]  # through days_ahead (7)
    assert len(days) in (7, 8)  # today too, while a slot of it is still ahead
    tomorrow = a["days"][-7]
    assert tomorrow == {
        "day": hall_day(1).isoformat(),
        "weekday": hall_day(1).isoweekday(),
        "slots": 48,
        "left": 96,
    }
    assert r.body["rules"] == {"cancel_before_minutes": 60, "checkin_early_minutes": 30, "checkin_late_minutes": 15,
                               "days_ahead": 7}  # fmt: skip
    assert r.body["timezone"] == "Asia/Shanghai" and r.body["now"].endswith("+08:00")


async def test_a_days_slots_run_from_opening_to_the_last_minute(api: Api) -> None:
    tomorrow = hall_day(1)
    r = await api.get(f"/api/appointments/slots?service=A&day={tomorrow}")
    assert r.status == 200, r.body
    slots = r.body["slots"]
    assert len(slots) == 48 and {s["left"] for s in slots} == {2}
    assert slots[0] == {"start": at(tomorrow, "00:00"), "end": at(tomorrow, "00:30"), "left": 2}
    assert slots[-1] == {"start": at(tomorrow, "23:30"), "end": at(hall_day(2), "00:00"), "left": 2}
    c = (await api.get(f"/api/appointments/slots?service=C&day={tomorrow}")).body["slots"]
    assert len(c) == 72 and c[1]["start"] == at(tomorrow, "00:20") and c[0]["left"] == 1
    # today: only the slots still ahead
    now = datetime.now(ZONE)
    today = (await api.get("/api/appointments/slots?service=A")).body
    assert today["day"] == hall_day().isoformat()
    assert all(datetime.fromisoformat(s["start"]) > now for s in today["slots"])
    assert len(today["slots"]) >= 47 - (now.hour * 60 + now.minute) // 30
    # past days, days past days_ahead: nothing to book
    for day in (hall_day(-1), hall_day(8), date(9999, 12, 31), date(1, 1, 1)):
        r = await api.get(f"/api/appointments/slots?service=A&day={day}")
        assert r.status == 200 and r.body["slots"] == [], day
    for query, field in (("service=B", "service"), ("service=Z", "service"), ("", "service"),
                         ("service=A&day=tomorrow", "day")):  # fmt: skip
        r = await api.get(f"/api/appointments/slots?{query}")
        assert r.status == 400 and r.body["error"]["code"] == "invalid_input", query
        assert r.body["error"].get("field", "day") == field, query


async def test_a_booking_takes_a_place_and_gives_a_code_its_url_and_qr(
    api: Api, conn: asyncpg.Connection
) -> None:
    tomorrow, person = hall_day(1), valid_id(7001)
    r = await book(api, "A", at(tomorrow, "09:00"), person, phone="138 1234 5678")
    assert r.status == 201, r.body
    a = r.body["appointment"]
    assert len(a["code"]) == 8 and set(a["code"]) <= set(CODE_ALPHABET)
    assert a["url"] == f"https://hall.example.cn/b/{a['id']}?code={a['code']}"  # the hall's public_url
    assert (a["service"], a["slot"], a["slot_end"]) == ("A", at(tomorrow, "09:00"), at(tomorrow, "09:30"))
    slots = (await api.get(f"/api/appointments/slots?service=A&day={tomorrow}")).body["slots"]
    assert next(s["left"] for s in slots if s["start"] == at(tomorrow, "09:00")) == 1

    mine = await api.get(proof(a))
    assert mine.status == 200, mine.body
    view = mine.body["appointment"]
    assert {k: view[k] for k in ("service", "service_name", "day", "slot", "status", "missed", "ticket")} == {
        "service": "A", "service_name": "企业开办", "day": tomorrow.isoformat(), "slot": at(tomorrow, "09:00"),
        "status": "booked", "missed": False, "ticket": None,
    }  # fmt: skip
    assert (view["checkin_from"], view["checkin_until"]) == (at(tomorrow, "08:30"), at(tomorrow, "09:15"))
    assert view["cancel_until"] == at(tomorrow, "08:00") and view["cancellable"] is True
    assert view["id_masked"] == person[:4] + "*" * 10 + person[-4:] and view["phone_masked"] == "138****5678"
    assert (
        view["materials"] == ["法定代表人身份证原件", "公司章程（全体股东签字）"]
        and view["where"] == "A区 1号窗口"
    )

    image = await api.session.get(f"{api.base}/api/appointments/{a['id']}/qr?code={a['code']}")
    assert image.status == 200 and image.content_type == "image/svg+xml"
    svg = await image.read()
    assert b"<svg" in svg and b"<path" in svg
    assert svg == qr_svg(a["url"])  # the QR holds the booking page's address with its code

    row = await conn.fetchrow("SELECT * FROM appointments WHERE id = $1", a["id"])
    assert row is not None and row["code_hash"] == hashlib.sha256(a["code"].encode()).digest()
    stored = " ".join(str(v) for v in row.values())
    assert person not in stored and "13812345678" not in stored and a["code"] not in stored
    taken = "SELECT taken FROM appointment_slots WHERE slot = $1"
    assert await conn.fetchval(taken, datetime.fromisoformat(a["slot"])) == 1
    log = await conn.fetchrow("SELECT actor_kind, details FROM action_log WHERE action = 'appointment_book'")
    assert log is not None and log["actor_kind"] == "citizen" and log["details"]["appointment"] == a["id"]
    assert person not in str(log["details"]) and "13812345678" not in str(log["details"])
    assert set(log["details"]) == {"appointment", "service", "slot", "id_masked"}


async def test_the_code_proves_the_booking_and_nothing_else_does(api: Api) -> None:
    a = await booked(api, "A", at(hall_day(1), "10:00"), valid_id(7002))
    other = await booked(api, "A", at(hall_day(1), "10:00"), valid_id(7003))
    spaced = a["code"][:4].lower() + "-" + a["code"][4:].lower()  # as read aloud and typed
    assert (await api.get(f"/api/appointments/{a['id']}?code={spaced}")).status == 200
    for path in (f"/api/appointments/{a['id']}?code={other['code']}", f"/api/appointments/{a['id']}",
                 f"/api/appointments/{other['id']}x?code={other['code']}", f"/api/appointments/{a['id']}/qr?code=X"):  # fmt: skip
        r = await api.get(path)
        assert r.status == 404 and r.body["error"]["code"] == "not_found", path


async def test_one_booking_per_person_per_service_per_day(api: Api) -> None:
    person, tomorrow = valid_id(7010), hall_day(1)
    await booked(api, "A", at(tomorrow, "09:00"), person)
    again = await book(api, "A", at(tomorrow, "15:00"), person)
    assert again.status == 409 and again.body["error"]["code"] == "conflict"
    assert (
        again.body["error"]["message"] == f"您已预约 {tomorrow} 09:00 的“企业开办”，同一业务每天只能预约一次"
    )
    english = await book(api, "A", at(tomorrow, "15:00"), person, headers={"Accept-Language": "en"})
    assert "one booking per service a day" in english.body["error"]["message"]
    # full-width digits and spaces are the same person
    wide = " ".join(chr(ord(c) + 0xFEE0) for c in person)
    assert (await book(api, "A", at(tomorrow, "16:00"), wide)).status == 409
    assert (await book(api, "C", at(tomorrow, "09:00"), person)).status == 201  # another service
    assert (await book(api, "A", at(hall_day(2), "09:00"), person)).status == 201  # another day


async def test_only_a_slot_on_offer_can_be_booked(api: Api) -> None:
    tomorrow = hall_day(1)
    for n, slot in enumerate((at(tomorrow, "09:10"), at(hall_day(-1), "09:00"), at(hall_day(8), "09:00"),
                              "tomorrow at nine", "9999-12-31T23:30:00-12:00")):  # fmt: skip
        r = await book(api, "A", slot, valid_id(7020 + n))
        assert r.status == 400 and r.body["error"]["field"] == "slot", (slot, r.body)
    # the same instant in another form is the same slot: on the hall's clock, or in UTC
    first = await booked(api, "C", f"{tomorrow}T09:00", valid_id(7030))
    assert first["slot"] == at(tomorrow, "09:00")
    utc = await book(api, "C", f"{hall_day()}T17:00:00Z", valid_id(7031))  # 01:00 tomorrow in Shanghai
    assert utc.status == 201 and utc.body["appointment"]["slot"] == at(tomorrow, "01:00")
    for body, field in (({"service": "B"}, "service"), ({"service": "Z"}, "service"),
                        ({"phone": "1381234567"}, "phone"), ({"id_number": valid_id(7032)[:-1] + "0"}, "id_number")):  # fmt: skip
        sent = {
            "service": "A",
            "slot": at(tomorrow, "11:00"),
            "id_number": valid_id(7033),
            "phone": "13812345678",
        }
        r = await api.post("/api/appointments", sent | body)
        assert r.status == 400 and r.body["error"]["field"] == field, (body, r.body)
    missing = await api.post(
        "/api/appointments", {"service": "A", "slot": at(tomorrow, "11:00"), "id_number": valid_id(7034)}
    )
    assert missing.status == 400 and missing.body["error"]["field"] == "phone"  # the hall must reach them


async def test_a_full_slot_is_refused(api: Api) -> None:
    slot = at(hall_day(1), "12:00")
    await booked(api, "C", slot, valid_id(7040))
    r = await book(api, "C", slot, valid_id(7041))
    assert r.status == 409 and r.body["error"]["message"] == "该时段已约满，请选择其他时段"
    left = (await api.get(f"/api/appointments/slots?service=C&day={hall_day(1)}")).body["slots"]
    assert next(s["left"] for s in left if s["start"] == slot) == 0


async def test_cancelling_before_the_limit_gives_the_place_back(api: Api, conn: asyncpg.Connection) -> None:
    slot, person = at(hall_day(1), "14:00"), valid_id(7050)
    a = await booked(api, "C", slot, person)
    r = await api.request("DELETE", proof(a))
    assert r.status == 200, r.body
    assert r.body["appointment"]["status"] == "cancelled" and r.body["appointment"]["cancellable"] is False
    assert await conn.fetchval("SELECT taken FROM appointment_slots") == 0
    again = await api.request("DELETE", proof(a))
    assert again.status == 409 and again.body["error"]["message"] == "此预约已取消"
    assert (await api.get(proof(a))).body["appointment"]["status"] == "cancelled"
    # the place is free again, and the person may book that day again
    assert (await book(api, "C", slot, person)).status == 201
    actions = [
        r["action"]
        for r in await conn.fetch(
            "SELECT action FROM action_log WHERE action LIKE 'appointment%' ORDER BY id"
        )
    ]
    assert actions == ["appointment_book", "appointment_cancel", "appointment_book"]


async def test_cancelling_is_refused_inside_the_limit(api: Api, conn: asyncpg.Connection) -> None:
    a = await booked(api, "C", at(hall_day(1), "15:00"), valid_id(7060))
    # the slot moved to 59 minutes from now: cancel_before_minutes (60) has passed
    await conn.execute(
        "UPDATE appointments SET slot = now() + interval '59 minutes', slot_end = now() + interval '79 minutes'"
    )
    r = await api.request("DELETE", proof(a))
    assert r.status == 409 and r.body["error"]["code"] == "conflict"
    assert r.body["error"]["message"].startswith("预约时段开始前 60 分钟内不能取消")
    view = (await api.get(proof(a))).body["appointment"]
    assert view["status"] == "booked" and view["cancellable"] is False
    assert await conn.fetchval("SELECT taken FROM appointment_slots") == 1
    assert (await api.request("DELETE", f"/api/appointments/{a['id']}?code=ABCDEFGH")).status == 404


async def test_the_day_summary_counts_each_slot(api: Api, conn: asyncpg.Connection) -> None:
    """Bookings for tomorrow moved to yesterday 09:00 and 09:30: every check-in window has passed."""
    tomorrow, yesterday = hall_day(1), hall_day(-1)
    people = [valid_id(7070 + n) for n in range(5)]
    made = [
        await booked(api, "A", at(tomorrow, hhmm), p)
        for p, hhmm in zip(people, ["09:00", "09:00", "09:30", "09:30", "10:00"], strict=True)
    ]
    assert (await api.request("DELETE", proof(made[4]))).status == 200
    await conn.execute(
        "UPDATE appointments SET day = day - 2, slot = slot - interval '2 days', slot_end = slot_end - interval '2 days'"
    )
    await conn.execute(
        "UPDATE appointments SET status = 'checked_in' WHERE id = ANY($1)", [made[0]["id"], made[2]["id"]]
    )
    boss = await api.login("boss")
    assert (await api.get("/api/appointments/today", token=await api.login("s1"))).status == 403
    assert (await api.get("/api/appointments/today")).status == 401
    r = await api.get(f"/api/appointments/today?day={yesterday}", token=boss)
    assert r.status == 200, r.body
    assert r.body["day"] == yesterday.isoformat()
    a, c = r.body["services"]
    assert (a["code"], a["name"], c["code"], len(a["slots"]), len(c["slots"])) == (
        "A",
        "企业开办",
        "C",
        48,
        72,
    )
    line = {s["start"]: s for s in a["slots"]}
    assert line[at(yesterday, "09:00")] == {"start": at(yesterday, "09:00"), "end": at(yesterday, "09:30"), "capacity": 2,
                                            "booked": 2, "arrived": 1, "no_shows": 1, "cancelled": 0}  # fmt: skip
    assert line[at(yesterday, "09:30")] | {"start": "", "end": ""} == line[at(yesterday, "09:00")] | {
        "start": "",
        "end": "",
    }
    assert line[at(yesterday, "10:00")]["cancelled"] == 1 and line[at(yesterday, "10:00")]["booked"] == 0
    totals = {"booked": 4, "arrived": 2, "no_shows": 2, "cancelled": 1}
    assert a["totals"] == totals | {"capacity": 96}
    assert c["totals"] == {"booked": 0, "arrived": 0, "no_shows": 0, "cancelled": 0, "capacity": 72}
    assert r.body["totals"] == totals | {"capacity": 168}
    today = await api.get("/api/appointments/today", token=boss)
    assert today.body["day"] == hall_day().isoformat() and today.body["totals"]["booked"] == 0
    for bad in ("2026-02-30", "9999-12-31", "soon"):
        r = await api.get(f"/api/appointments/today?day={bad}", token=boss)
        assert r.status == 400 and r.body["error"]["field"] == "day", bad


slot_texts = st.one_of(
    st.text(max_size=40),
    st.builds(lambda d, h, m, z: f"{d}T{h:02d}:{m:02d}:00{z}", st.dates(), st.integers(0, 23), st.integers(0, 59),
              st.sampled_from(["", "Z", "+08:00", "-12:00", "+14:00"])),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    slot=slot_texts, service=st.sampled_from(["A", "B", "C", "Z"]), day=st.one_of(st.dates(), st.text(max_size=12)),
    person=st.integers(10_000, 9_000_000), address=st.integers(1, 250),
)  # fmt: skip
async def test_no_slot_day_or_code_makes_a_500(
    api: Api, slot: str, service: str, day: object, person: int, address: int
) -> None:
    boss = await api.login("boss")
    shared = api.session
    # each example from an address of its own: the rate limits are per address
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(f"127.0.1.{address}", 0))
    ) as own:
        api.session = own
        try:
            r = await book(api, service, slot, valid_id(person))
            assert r.status in (201, 400, 409, 429), r.body
            for path in (f"/api/appointments/slots?service={service}&day={quote(str(day))}",
                         f"/api/appointments/{quote(slot, safe='')}?code={quote(str(day))}",
                         f"/api/appointments/{quote(slot, safe='')}/qr?code={quote(slot)}"):  # fmt: skip
                r = await api.get(path)
                assert r.status in (200, 400, 404, 429), (path, r.body)
            r = await api.get(f"/api/appointments/today?day={quote(str(day))}", token=boss)
            assert r.status in (200, 400), r.body
        finally:
            api.session = shared
