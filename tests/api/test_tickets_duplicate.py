"""A refused duplicate ID is not a dead end (issue 9, item 8): the 409 carries where
the ticket the ID already holds stands (never its id or key), and its receipt can be
printed again (补打) at the kiosk that issued it by proving the same ID number once
more: one slip per request, throttled, logged."""

from __future__ import annotations

import json
from dataclasses import replace

import asyncpg

from clearhall.printer.decode import QrCode, decode, lines
from clearhall.server.app import create_app
from clearhall.server.printing.conf import PRINT_CONF
from clearhall.server.store import hall_apply, hallfile
from clearhall.server.store.hallfile import DeviceConf
from tests.conftest import HALL_FILE, KIOSK, SECRETS, Api, app_client, settings_for
from tests.helpers import FAST, printer_conf, printing_server, valid_id
from tests.printer.fake_printer import FakePrinter, Mode

REPRINT = "/api/tickets/reprint-by-id"
INIT = b"\x1b@"


async def test_the_refusal_carries_the_held_ticket_without_its_id_or_key(api: Api) -> None:
    id_number = valid_id(5101)
    await api.issue("B", id_number=valid_id(5100))  # someone else first
    held = await api.issue("B", category="elderly", id_number=id_number)
    again = await api.post(
        "/api/tickets", {"service": "B", "id_number": " " + id_number.lower()}, token=KIOSK
    )
    assert again.status == 409 and again.body["error"]["code"] == "limit_exceeded", again.body
    assert again.body["error"]["ticket"] == {
        "number": held["number"], "service": "B", "service_name": "不动产登记", "category": "elderly",
        "status": "waiting", "ahead": 0, "estimated_wait_s": None, "window": None, "reprint": True,
    }  # fmt: skip
    text = json.dumps(again.body)
    assert held["id"] not in text and held["key"] not in text and id_number not in text
    # Another service is another matter; the daily limit (3 here) names no ticket.
    await api.issue("A", id_number=id_number)
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    await api.issue("C", id_number=id_number)
    daily = await api.post("/api/tickets", {"service": "A", "id_number": id_number}, token=KIOSK)
    assert daily.status == 409 and daily.body["error"]["code"] == "limit_exceeded", daily.body
    assert "ticket" not in daily.body["error"]


async def test_a_called_ticket_says_its_window(api: Api) -> None:
    id_number = valid_id(5102)
    held = await api.issue("A", id_number=id_number)
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    again = await api.post("/api/tickets", {"service": "A", "id_number": id_number}, token=KIOSK)
    assert again.body["error"]["ticket"]["status"] == "called", again.body
    assert (
        again.body["error"]["ticket"]["window"] == 1
        and again.body["error"]["ticket"]["number"] == held["number"]
    )


def printed(fake: FakePrinter) -> list[bytes]:
    return [job for job in fake.jobs if job.startswith(INIT)]


async def test_a_reprint_proves_the_id_and_yields_one_slip(db_url: str, conn: asyncpg.Connection) -> None:
    id_number = valid_id(5103)
    async with (
        FakePrinter(Mode.PRINTS) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        held = await api.issue("B", id_number=id_number)
        assert held["print"]["status"] == "printed" and len(printed(fake)) == 1
        refused = await api.post("/api/tickets", {"service": "B", "id_number": id_number}, token=KIOSK)
        assert refused.status == 409 and refused.body["error"]["ticket"]["reprint"] is True
        # A wrong ID number prints nothing.
        wrong = await api.post(REPRINT, {"service": "B", "id_number": valid_id(5104)}, token=KIOSK)
        assert wrong.status == 404 and wrong.body["error"]["code"] == "not_found", wrong.body
        r = await api.post(REPRINT, {"service": "B", "id_number": id_number}, token=KIOSK)
        assert r.status == 201, r.body
        assert r.body["print"] == {"status": "printed", "error": None}
        assert r.body["ticket"]["number"] == held["number"] and "id" not in r.body["ticket"]
        assert held["key"] not in json.dumps(r.body)
        first, again = printed(fake)  # exactly one more slip
        text = lines(decode(again))
        assert "（补打）" in text and held["number"] in "\n".join(text)
        assert [op.data for op in decode(again) if isinstance(op, QrCode)] == [held["url"]]
        assert first != again
        logged = await conn.fetch(
            "SELECT actor_kind, actor_name FROM action_log WHERE action = 'reprint' AND ticket_id = $1",
            held["id"],
        )
        assert [(r["actor_kind"], r["actor_name"]) for r in logged] == [("device", "kiosk-1")]
        # The same ID asks again and again: a slip each time, then paper is not for guessing.
        statuses = [(await api.post(REPRINT, {"service": "B", "id_number": id_number}, token=KIOSK)).status]
        statuses.append(
            (await api.post(REPRINT, {"service": "B", "id_number": id_number}, token=KIOSK)).status
        )
        statuses.append(
            (await api.post(REPRINT, {"service": "B", "id_number": id_number}, token=KIOSK)).status
        )
        assert statuses == [201, 201, 429]
        assert len(printed(fake)) == 4


async def test_only_the_issuing_kiosk_reprints_and_bad_input_is_400(db_url: str) -> None:
    other = "test-kiosk-token-2"
    SECRETS.add(other)
    conn = await asyncpg.connect(db_url)
    try:
        conf = hallfile.load(HALL_FILE)
        devices = (*conf.devices, DeviceConf(name="kiosk-2", kind="kiosk", token=other))
        await hall_apply.apply(conn, replace(conf, devices=devices))
    finally:
        await conn.close()
    app = create_app(settings_for(db_url))
    app[PRINT_CONF] = FAST
    async with app_client(app) as (_, api):
        id_number = valid_id(5105)
        await api.issue("B", id_number=id_number)
        there = await api.post("/api/tickets", {"service": "B", "id_number": id_number}, token=other)
        assert there.status == 409 and there.body["error"]["ticket"]["reprint"] is False, there.body
        elsewhere = await api.post(REPRINT, {"service": "B", "id_number": id_number}, token=other)
        assert elsewhere.status == 409 and elsewhere.body["error"]["code"] == "conflict", elsewhere.body
        for body in (
            {},
            {"service": "B"},
            {"service": "B", "id_number": "123"},
            {"service": "b", "id_number": id_number},
        ):
            r = await api.post(REPRINT, body, token=KIOSK)
            assert r.status == 400 and r.body["error"]["code"] == "invalid_input", (body, r.body)
        assert (await api.post(REPRINT, {"service": "B", "id_number": id_number})).status == 401
