"""预约 under load (CONTRACT §12): the race for the last place, one booking per
person per day when the same person books twice at once, the rate limits per
address and per ID number (also when the attempts arrive at once), wrong
codes, and the no-show suspension.

Simultaneous bookers are separate clients on separate loopback addresses
(127.0.0.N), talking to a server whose pool has a connection for each of
them, so their bookings really run at the same time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from clearhall.server.app import create_app
from clearhall.server.domain.appointments import BOOKINGS_BY_ADDRESS, BOOKINGS_BY_ID, CODE_GUESSES_BY_ADDRESS
from tests.conftest import SECRETS, Api, app_client, settings_for
from tests.helpers import valid_id

ZONE = ZoneInfo("Asia/Shanghai")  # tests/hall.toml's


def hall_day(offset: int = 0) -> date:
    return datetime.now(ZONE).date() + timedelta(days=offset)


def at(day: date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}:00+08:00"


async def book(api: Api, service: str, slot: str, id_number: str) -> Any:
    r = await api.post("/api/appointments", body(service, slot, id_number))
    if r.status == 201:
        SECRETS.add(r.body["appointment"]["code"])
    return r


async def booked(api: Api, service: str, slot: str, id_number: str) -> dict[str, Any]:
    r = await book(api, service, slot, id_number)
    assert r.status == 201, r.body
    return dict(r.body["appointment"])


def proof(a: dict[str, Any]) -> str:
    return f"/api/appointments/{a['id']}?code={a['code']}"


@pytest.fixture
async def roomy(db_url: str) -> AsyncIterator[Api]:
    """The app with a pool large enough for every booker at once."""
    async with app_client(create_app(settings_for(db_url, pool_size=24))) as (_server, api):
        yield api


async def at_once(
    base: str, bodies: list[dict[str, Any]], *, addresses: bool = True
) -> list[tuple[int, Any]]:
    """POST each body at the same moment, each from its own client (and address: 127.0.0.2, …)."""
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(f"127.0.0.{n + 2}", 0) if addresses else None)
        )
        for n in range(len(bodies))
    ]
    start = asyncio.Event()

    async def one(session: aiohttp.ClientSession, body: dict[str, Any]) -> tuple[int, Any]:
        await start.wait()
        async with session.post(base + "/api/appointments", json=body) as r:
            answer = await r.json()
            if r.status == 201:
                SECRETS.update({answer["appointment"]["code"], answer["appointment"]["url"]})
            return r.status, (answer, r.headers.get("Retry-After"))

    try:
        tasks = [asyncio.create_task(one(s, b)) for s, b in zip(sessions, bodies, strict=True)]
        await asyncio.sleep(0.05)
        start.set()
        return list(await asyncio.gather(*tasks))
    finally:
        for s in sessions:
            await s.close()


def body(service: str, slot: str, id_number: str) -> dict[str, Any]:
    return {"service": service, "slot": slot, "id_number": id_number, "phone": "13912345678"}


async def test_the_last_place_goes_to_exactly_one_of_two(roomy: Api, conn: asyncpg.Connection) -> None:
    for n, hhmm in enumerate(["09:00", "09:20", "09:40", "10:00", "10:20", "10:40", "11:00", "11:20"]):
        slot = at(hall_day(1), hhmm)  # C: one place a slot
        answers = await at_once(roomy.base, [body("C", slot, valid_id(8000 + 2 * n + i)) for i in range(2)])
        assert sorted(status for status, _ in answers) == [201, 409], answers
        loser = next(a for status, (a, _) in answers if status == 409)
        assert (
            loser["error"]["code"] == "conflict"
            and loser["error"]["message"] == "该时段已约满，请选择其他时段"
        )
    assert await conn.fetchval("SELECT count(*) FROM appointments") == 8
    assert await conn.fetchval("SELECT array_agg(DISTINCT taken) FROM appointment_slots") == [1]


async def test_twenty_bookers_for_the_last_place(roomy: Api, conn: asyncpg.Connection) -> None:
    slot = at(hall_day(2), "15:30")  # A: two places; one is gone
    await booked(roomy, "A", slot, valid_id(8100))
    answers = await at_once(roomy.base, [body("A", slot, valid_id(8101 + n)) for n in range(20)])
    statuses = [status for status, _ in answers]
    assert statuses.count(201) == 1 and statuses.count(409) == 19, statuses
    start = datetime.fromisoformat(slot)
    assert await conn.fetchval("SELECT taken FROM appointment_slots WHERE slot = $1", start) == 2
    assert await conn.fetchval("SELECT count(*) FROM appointments WHERE slot = $1", start) == 2
    left = (await roomy.get(f"/api/appointments/slots?service=A&day={hall_day(2)}")).body["slots"]
    assert next(s["left"] for s in left if s["start"] == slot) == 0


async def test_the_same_person_booking_at_once_gets_one_booking_a_day(
    roomy: Api, conn: asyncpg.Connection
) -> None:
    for day in range(1, 6):
        person = valid_id(8200 + day)
        slots = [at(hall_day(day), hhmm) for hhmm in ("08:00", "08:30", "09:00", "09:30")]
        answers = await at_once(roomy.base, [body("A", s, person) for s in slots])
        statuses = [status for status, _ in answers]
        assert statuses.count(201) == 1 and statuses.count(409) == 3, statuses
        assert all(
            a["error"]["message"].startswith("您已预约") for status, (a, _) in answers if status == 409
        )
    assert await conn.fetchval("SELECT count(*) FROM appointments") == 5
    # every place taken is a booking, and no other
    assert await conn.fetchval("SELECT sum(taken) FROM appointment_slots") == 5


async def test_bookings_from_one_address_are_limited_also_when_they_come_at_once(roomy: Api) -> None:
    many = BOOKINGS_BY_ADDRESS.burst + 10
    slots = [at(hall_day(1 + n % 7), f"{12 + n // 7:02d}:00") for n in range(many)]
    answers = await at_once(
        roomy.base, [body("A", s, valid_id(8300 + n)) for n, s in enumerate(slots)], addresses=False
    )
    statuses = [status for status, _ in answers]
    assert statuses.count(201) == BOOKINGS_BY_ADDRESS.burst and statuses.count(429) == 10, statuses
    for status, (answer, retry_after) in answers:
        if status == 429:
            assert answer["error"]["code"] == "rate_limited" and answer["error"]["message"].startswith(
                "预约操作过于频繁"
            )
            assert 1 <= int(retry_after) <= BOOKINGS_BY_ADDRESS.every.total_seconds()
    # another address is not held back
    other = await at_once(roomy.base, [body("A", at(hall_day(3), "20:00"), valid_id(8399))])
    assert other[0][0] == 201


async def test_bookings_of_one_id_number_are_limited_from_any_address(roomy: Api) -> None:
    person = valid_id(8400)
    tries = [body(service, at(hall_day(day), "10:00"), person) for day in range(1, 8) for service in "AC"]
    assert len(tries) > BOOKINGS_BY_ID.burst
    answers = await at_once(roomy.base, tries)
    statuses = [status for status, _ in answers]
    assert (
        statuses.count(201) == BOOKINGS_BY_ID.burst
        and statuses.count(429) == len(tries) - BOOKINGS_BY_ID.burst
    )
    # the same number written in full-width digits is the same person, and is held back too
    wide = "".join(chr(ord(c) + 0xFEE0) for c in person)
    r = await book(roomy, "A", at(hall_day(1), "11:00"), wide)
    assert r.status == 429 and 1 <= int(r.headers["Retry-After"]) <= BOOKINGS_BY_ID.every.total_seconds()


async def test_wrong_codes_from_one_address_are_limited(api: Api) -> None:
    a = await booked(api, "A", at(hall_day(1), "09:00"), valid_id(8500))
    for n in range(CODE_GUESSES_BY_ADDRESS.burst):
        r = await api.get(f"/api/appointments/{a['id']}?code=WRONG{n:03d}")
        assert r.status == 404, r.body
    r = await api.get(proof(a))  # the right code too, once the address is over its limit
    assert (
        r.status == 429 and r.body["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    )
    assert (await api.request("DELETE", proof(a))).status == 429
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=("127.0.0.9", 0))
    ) as elsewhere:
        async with elsewhere.get(api.base + proof(a)) as other:
            assert other.status == 200


async def move(conn: asyncpg.Connection, appointment: dict[str, Any], ago: timedelta) -> None:
    """Put a booking's slot `ago` in the past (its day following it)."""
    await conn.execute(
        """UPDATE appointments SET slot = now() - $2::interval, slot_end = now() - $2::interval + interval '30 minutes',
                  day = ((now() - $2::interval) AT TIME ZONE 'Asia/Shanghai')::date WHERE id = $1""",
        appointment["id"], ago,
    )  # fmt: skip


async def test_no_shows_suspend_booking_until_enough_have_aged(api: Api, conn: asyncpg.Connection) -> None:
    person = valid_id(8600)
    made = [await booked(api, "A", at(hall_day(day), "09:00"), person) for day in (1, 2, 3)]
    for a, ago in zip(made, (timedelta(days=20), timedelta(days=5), timedelta(minutes=10)), strict=True):
        await move(conn, a, ago)
    # the latest is 10 minutes past its slot: its check-in window (15 minutes) is still open
    assert (await book(api, "A", at(hall_day(4), "09:00"), person)).status == 201
    await move(conn, made[2], timedelta(minutes=20))  # now it is a no-show: three of them
    r = await book(api, "A", at(hall_day(5), "09:00"), person)
    assert r.status == 409 and r.body["error"]["code"] == "conflict", r.body
    oldest = await conn.fetchval("SELECT slot FROM appointments WHERE id = $1", made[0]["id"])
    until = (oldest + timedelta(days=30)).astimezone(ZONE)
    assert datetime.fromisoformat(r.body["error"]["suspended_until"]) == until
    assert r.body["error"]["message"] == (
        f"您近 30 天内有 3 次预约未按时签到，{until:%Y-%m-%d %H:%M} 前暂停网上预约；仍可到大厅现场取号办理"
    )
    assert (
        await book(api, "A", at(hall_day(5), "09:00"), valid_id(8601))
    ).status == 201  # others are not held
    await move(conn, made[0], timedelta(days=31))  # the oldest has left the 30 days
    assert (await book(api, "A", at(hall_day(6), "09:00"), person)).status == 201


async def test_arrivals_and_cancellations_are_not_no_shows(api: Api, conn: asyncpg.Connection) -> None:
    person = valid_id(8700)
    made = [await booked(api, "C", at(hall_day(day), "09:00"), person) for day in (1, 2, 3, 4, 5)]
    for n, a in enumerate(made[:4]):
        await move(conn, a, timedelta(days=n + 1))
    await conn.execute("UPDATE appointments SET status = 'checked_in' WHERE id = $1", made[0]["id"])
    assert (await api.request("DELETE", proof(made[4]))).status == 200
    await conn.execute("UPDATE appointments SET status = 'cancelled' WHERE id = $1", made[1]["id"])
    # two no-shows (days 3 and 4 ago), one arrival, two cancellations: booking is open
    assert (await book(api, "C", at(hall_day(6), "09:00"), person)).status == 201
    await conn.execute("UPDATE appointments SET status = 'booked' WHERE id = $1", made[1]["id"])
    r = await book(api, "C", at(hall_day(7), "09:00"), person)
    assert r.status == 409 and "suspended_until" in r.body["error"]
    # with four no-shows the second oldest decides: two must leave the window
    await conn.execute("UPDATE appointments SET status = 'booked' WHERE id = $1", made[0]["id"])
    second = await conn.fetchval("SELECT slot FROM appointments WHERE id = $1", made[2]["id"])
    r = await book(api, "C", at(hall_day(7), "09:00"), person)
    assert datetime.fromisoformat(r.body["error"]["suspended_until"]) == second + timedelta(days=30)
