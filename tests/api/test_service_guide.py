"""一次性告知 (issue 9, item 12): each service's documents to bring and where it is
handled, from the hall file, on /api/services, on the citizen's ticket and on the
printed slip (decoded from the bytes the fake network printer received)."""

from __future__ import annotations

from clearhall.printer.decode import decode, lines
from tests.conftest import KIOSK, Api
from tests.helpers import printer_conf, printing_server
from tests.printer.fake_printer import FakePrinter, Mode

A_MATERIALS = ["法定代表人身份证原件", "公司章程（全体股东签字）"]


async def test_services_carry_their_materials_and_place(api: Api) -> None:
    services = {s["code"]: s for s in (await api.get("/api/services")).body["services"]}
    assert services["A"]["materials"] == A_MATERIALS and services["A"]["where"] == "A区 1号窗口"
    assert services["C"]["materials"] == [] and services["C"]["where"] is None


async def test_the_citizens_ticket_carries_them(api: Api) -> None:
    issued = (await api.post("/api/tickets", {"service": "A"}, token=KIOSK)).body["ticket"]
    mine = (await api.get(f"/api/tickets/{issued['id']}?key={issued['key']}")).body["ticket"]
    assert mine["materials"] == A_MATERIALS and mine["where"] == "A区 1号窗口"
    other = (await api.post("/api/tickets", {"service": "C"}, token=KIOSK)).body["ticket"]
    theirs = (await api.get(f"/api/tickets/{other['id']}?key={other['key']}")).body["ticket"]
    assert theirs["materials"] == [] and theirs["where"] is None


async def test_the_slip_lists_the_materials_and_the_place(db_url: str) -> None:
    async with (
        FakePrinter(Mode.PRINTS) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        ticket = (await api.post("/api/tickets", {"service": "A"}, token=KIOSK)).body["ticket"]
        assert ticket["print"]["status"] == "printed", ticket["print"]
        [job] = [j for j in fake.jobs if j.startswith(b"\x1b@")]
        printed = lines(decode(job))
        assert "办理地点：A区 1号窗口" in printed
        assert "请备齐以下材料：" in printed
        assert "1. 法定代表人身份证原件" in printed
        assert any(line.startswith("2. 公司章程") for line in printed)
