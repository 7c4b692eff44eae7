"""Integrity signals over HTTP (CONTRACT §11; docs/supervision.md): 黄牛 and possible
中介 on crafted days, each raised at its line and not just below it; who may ask;
bad dates; and that no ID number, phone number or mask is in any answer.

The days are built through the API (kiosk tickets with ID and phone numbers,
calls, finishes) and then moved in time in the database. The lines are
tests/hall.toml's `[signals]`: same_staff_visits 3, id_visit_days 3,
kiosk_burst_tickets 6 (in 120 s); daily_tickets_per_id is 3, which caps the
ID-per-day line (4 by default) at 3.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from clearhall.server.domain import signal_texts
from clearhall.server.domain.text import Text
from tests.conftest import KIOSK, Api
from tests.helpers import valid_id

ZONE = ZoneInfo("Asia/Shanghai")


def phone(n: int) -> str:
    return f"1380013{n:04d}"


async def signals(api: Api, query: str = "") -> dict[str, Any]:
    r = await api.get("/api/signals" + query, token=await api.login("boss"))
    assert r.status == 200, r.body
    return dict(r.body)


def of(body: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [s for s in body["signals"] if s["rule"] == rule]


async def ref_of(conn: asyncpg.Connection, ticket: dict[str, Any], column: str = "id_hash") -> str:
    return str(
        await conn.fetchval(f"SELECT encode({column}, 'hex') FROM tickets WHERE id = $1", ticket["id"])
    )[:12]


async def move_back(
    conn: asyncpg.Connection, ticket: dict[str, Any], days: int = 0, seconds: int = 0
) -> None:
    """The ticket happened `days` (and `seconds`) earlier: its day and all its times."""
    shift = timedelta(days=days, seconds=seconds)
    await conn.execute(
        """UPDATE tickets SET day = day - $2::int, issued_at = issued_at - $3::interval, order_at = order_at - $3::interval,
                  called_at = called_at - $3::interval, started_at = started_at - $3::interval,
                  finished_at = finished_at - $3::interval
           WHERE id = $1""",
        ticket["id"], days, shift,
    )  # fmt: skip


async def served(api: Api, user: str, window: int, service: str = "A", **person: Any) -> dict[str, Any]:
    t = await api.issue(service, **person)
    await api.sign_in(user, window)
    called = await api.window(user, window, "call-next")
    assert called.body["ticket"]["id"] == t["id"], called.body
    assert (await api.window(user, window, "finish")).status == 200
    return t


async def test_one_id_number_taking_a_whole_days_allowance(api: Api, conn: asyncpg.Connection) -> None:
    x, y = valid_id(101), valid_id(102)
    xs = [await api.issue(s, id_number=x) for s in ("A", "B", "C")]
    for s in ("A", "C"):  # just below the line
        await api.issue(s, id_number=y)
    body = await signals(api)
    [signal] = of(body, "id_per_day")
    assert signal["kind"] == "scalping"
    assert signal["about"] == {"kind": "id", "ref": await ref_of(conn, xs[0]), "proxy": False}
    assert [r["number"] for r in signal["rows"]] == [t["number"] for t in xs] and signal["rows_total"] == 3
    assert {r["applicant"] for r in signal["rows"]} == {signal["about"]["ref"]}
    assert all(r["type"] == "ticket" and r["issued_by"] == "kiosk-1" for r in signal["rows"])
    today = datetime.now(ZONE).date().isoformat()
    assert signal["from"] == signal["to"] == today
    assert signal["figures"] == {"tickets": 3, "hall_percentile": None}
    assert signal["thresholds"]["id_tickets_per_day"] == 3  # capped by daily_tickets_per_id
    assert f"{today} 取号 3 个" in signal["why"]["zh"] and "每日 3 个" in signal["why"]["zh"]
    assert signal["why"]["en"].startswith(
        f"One ID number ({signal['about']['ref']}) took 3 tickets on {today}"
    )


async def test_the_halls_own_busy_days_raise_the_line(api: Api, conn: asyncpg.Connection) -> None:
    """With 100+ number-days of history, a count no higher than the hall's 99th percentile is usual."""
    x = valid_id(103)
    for s in ("A", "B", "C"):
        await api.issue(s, id_number=x)

    async def history(per_day: int) -> None:
        await conn.execute("DELETE FROM tickets WHERE id LIKE 'history-%'")
        await conn.execute(
            """INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category,
                                    priority, status, issued_at, order_at, key_hash, id_hash)
               SELECT 'history-' || g || '-' || k, s.hall_id, s.id, s.id,
                      (now() AT TIME ZONE 'Asia/Shanghai')::date - 1 - g % 20, 1000 + g * 10 + k,
                      'A' || (1000 + g * 10 + k), 'normal', false, 'done', now() - interval '2 days',
                      now() - interval '2 days', '\\x00', sha256(('person ' || g)::bytea)
               FROM services s, generate_series(1, 120) g, generate_series(1, $1) k WHERE s.code = 'A'""",
            per_day,
        )

    await history(3)  # busy numbers take 3 a day here: 3 is usual
    assert of(await signals(api), "id_per_day") == []
    await history(1)
    [signal] = of(await signals(api), "id_per_day")
    assert signal["figures"]["hall_percentile"] == {"value": 1, "sample": 121, "days": 30}
    assert "99th percentile" in signal["why"]["en"] and "第 99 百分位为 1" in signal["why"]["zh"]


async def test_one_phone_for_many_tickets_and_many_id_numbers(api: Api, conn: asyncpg.Connection) -> None:
    p, q = phone(1), phone(2)
    ps = [await api.issue("A", id_number=valid_id(110 + n), phone=p) for n in range(3)]
    ps.append(await api.issue("C", phone=p))
    for n in range(2):  # just below both lines: 3 tickets, 2 ID numbers
        await api.issue("A", id_number=valid_id(120 + n), phone=q)
    await api.issue("C", phone=q)
    body = await signals(api)
    [per_day] = of(body, "phone_per_day")
    assert per_day["about"] == {"kind": "phone", "ref": await ref_of(conn, ps[0], "phone_hash")}
    assert per_day["rows_total"] == 4 and "手机号" in per_day["why"]["zh"]
    [many] = of(body, "phone_many_ids")
    assert many["about"] == per_day["about"] and many["figures"] == {"id_numbers": 3, "tickets": 3}
    assert len({r["applicant"] for r in many["rows"]}) == 3
    assert "with 3 different ID numbers" in many["why"]["en"] and "3 个不同身份证号" in many["why"]["zh"]


async def test_one_id_number_on_many_days(api: Api, conn: asyncpg.Connection) -> None:
    """3 days within 30 is the line; 40 days back is outside the span."""
    x, y, z = valid_id(130), valid_id(131), valid_id(132)
    xs = [await api.issue(s, id_number=x) for s in ("A", "B", "C")]
    await move_back(conn, xs[0], days=20)
    await move_back(conn, xs[1], days=8)
    ys = [await api.issue(s, id_number=y) for s in ("A", "B")]  # 2 days: below
    await move_back(conn, ys[0], days=3)
    zs = [await api.issue(s, id_number=z) for s in ("A", "B", "C")]  # 3 days, but not within 30
    await move_back(conn, zs[0], days=40)
    await move_back(conn, zs[1], days=5)
    [signal] = of(await signals(api), "id_many_days")
    today = datetime.now(ZONE).date()
    assert signal["about"]["ref"] == await ref_of(conn, xs[0])
    assert (signal["from"], signal["to"]) == ((today - timedelta(days=20)).isoformat(), today.isoformat())
    assert signal["figures"] == {"days_with_tickets": 3, "tickets": 3}
    assert [r["day"] for r in signal["rows"]] == [(today - timedelta(days=d)).isoformat() for d in (20, 8, 0)]
    # Asked about a day before the last visit, the span ends on a day asked for.
    yesterday = (today - timedelta(days=1)).isoformat()
    assert of(await signals(api, f"?from={yesterday}&to={yesterday}"), "id_many_days") == []


async def test_a_kiosk_issuing_faster_than_people(api: Api, conn: asyncpg.Connection) -> None:
    ts = [await api.issue("A") for _ in range(6)]
    [signal] = of(await signals(api), "kiosk_burst")
    assert signal["about"] == {"kind": "kiosk", "device": "kiosk-1"}
    assert [r["number"] for r in signal["rows"]] == [t["number"] for t in ts]
    assert signal["thresholds"] == {"kiosk_burst_tickets": 6, "kiosk_burst_seconds": 120}
    assert "Kiosk kiosk-1 issued 6 tickets within 120 s" in signal["why"]["en"]
    await move_back(conn, ts[0], seconds=600)  # now 5 within any 120 s: just below
    assert of(await signals(api), "kiosk_burst") == []


async def test_one_applicant_served_again_and_again_by_one_person(api: Api, conn: asyncpg.Connection) -> None:
    x, y, z = valid_id(140), valid_id(141), valid_id(142)
    xs = [await served(api, "s1", 1, id_number=x) for _ in range(3)]
    await move_back(conn, xs[0], days=25)
    await move_back(conn, xs[1], days=10)
    ys = [await served(api, "s1", 1, id_number=y) for _ in range(2)]  # twice with 李娜: below
    await move_back(conn, ys[0], days=2)
    ys.append(await served(api, "s2", 2, id_number=y))
    await move_back(conn, ys[-1], days=1)
    zs = [await served(api, "s2", 2, id_number=z) for _ in range(3)]  # three times, over 40 days
    await move_back(conn, zs[0], days=40)
    await move_back(conn, zs[1], days=20)

    [signal] = of(await signals(api), "same_staff")
    assert signal["kind"] == "collusion"
    assert signal["about"] == {
        "kind": "applicant_and_staff", "applicant": await ref_of(conn, xs[0]), "proxy": False,
        "staff": {"username": "s1", "name": "李娜"},
    }  # fmt: skip
    assert [r["number"] for r in signal["rows"]] == [t["number"] for t in xs]
    assert all(r["staff"] == {"username": "s1", "name": "李娜"} and r["window"] == 1 for r in signal["rows"])
    assert all(r["status"] == "done" and r["finished_at"] for r in signal["rows"])
    assert signal["figures"] == {"visits": 3, "staff_serving_these_services": 2}
    assert "由 李娜 办结 3 次" in signal["why"]["zh"] and "提示线为 30 天内 3 次" in signal["why"]["zh"]
    assert "2 staff members finished these services" in signal["why"]["en"]
    # Asked about a day before the third visit, there were not three yet.
    day = (datetime.now(ZONE).date() - timedelta(days=11)).isoformat()
    assert of(await signals(api, f"?from={day}&to={day}"), "same_staff") == []


async def test_a_registered_proxy_is_shown_as_such(api: Api, conn: asyncpg.Connection) -> None:
    """帮代办 (CONTRACT §12): a proxy taking tickets for three applicants, all finished by
    one staff member, is the person who came to the window — shown as a registered proxy."""
    proxy = valid_id(150)
    added = await api.post(
        "/api/proxies", {"name": "帮办员", "id_number": proxy}, token=await api.login("boss")
    )
    assert added.status == 201, added.body
    xs = [await served(api, "s1", 1, id_number=valid_id(151 + n), proxy_id_number=proxy) for n in range(3)]
    [signal] = of(await signals(api), "same_staff")
    assert signal["about"]["applicant"] == await ref_of(conn, xs[0], "proxy_id_hash")
    assert signal["about"]["proxy"] is True
    assert "帮代办" in signal["why"]["zh"] and "registered proxy" in signal["why"]["en"]
    assert {row["proxy"] for row in signal["rows"]} == {signal["about"]["applicant"]}
    assert len({row["applicant"] for row in signal["rows"]}) == 3  # three different applicants


async def test_no_number_phone_or_mask_in_any_answer(api: Api, conn: asyncpg.Connection) -> None:
    numbers = [valid_id(160 + n) for n in range(4)]
    phones = [phone(10 + n) for n in range(3)]
    for _ in range(3):
        await served(api, "s3", 3, "B", id_number=numbers[3], phone=phones[0])
    for n, p in zip(numbers, phones, strict=False):
        for s in ("A", "B", "C"):
            await api.issue(s, id_number=n, phone=phones[0] if s == "C" else p)
    body = await signals(api)
    rules = {"id_per_day", "phone_per_day", "phone_many_ids", "kiosk_burst", "same_staff"}
    assert {s["rule"] for s in body["signals"]} == rules
    text = json.dumps(body, ensure_ascii=False)
    masks = await conn.fetch("SELECT id_masked, phone_masked FROM tickets")
    secrets = set(numbers) | set(phones) | {m for r in masks for m in r if m}
    assert not [s for s in secrets if s in text]
    assert "id_masked" not in text and "phone_masked" not in text


async def test_only_supervisors_ask(api: Api) -> None:
    assert (await api.get("/api/signals")).status == 401
    assert (await api.get("/api/signals", token="not-a-token")).status == 401
    for token in (await api.login("s1"), KIOSK):
        r = await api.get("/api/signals", token=token)
        assert r.status == 403 and r.body["error"]["code"] == "forbidden"
    body = await signals(api)
    today = datetime.now(ZONE).date().isoformat()
    assert (body["from"], body["to"], body["signals"]) == (today, today, [])
    assert body["thresholds"]["same_staff_visits"] == 3 and body["thresholds"]["days"] == 30


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-03-02&to=2026-03-01", "to"),
        ("?from=2026-01-01&to=2026-04-03", "from"),  # 92 days is the most
        ("?from=%F0%9F%98%80", "from"),
    ],
)
async def test_bad_dates_are_400_in_the_contracts_shape(api: Api, query: str, field: str) -> None:
    r = await api.get("/api/signals" + query, token=await api.login("boss"))
    assert r.status == 400, r.body
    assert r.body["ok"] is False and r.body["status"] == 400
    assert r.body["error"]["code"] == "invalid_input" and r.body["error"]["field"] == field
    assert r.body["error"]["message"]
    assert (await signals(api, "?from=2026-01-01&to=2026-04-02"))["signals"] == []  # 92 days


def test_every_signal_sentence_is_in_one_language_each() -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    texts = {name: t for name, t in vars(signal_texts).items() if isinstance(t, Text)}
    assert len(texts) >= 12
    for name, t in texts.items():
        assert han.search(t.zh) and not han.search(t.en), name
