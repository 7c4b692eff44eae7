"""Every place that takes an ID or phone number checks it as the kiosk's issue does
(CONTRACT §4): NFKC, then ASCII digits only. 预约 booking, the proxy register,
回队 and 补打 each refuse an ID number with Arabic-Indic digits between an ASCII
first and check character (Python's `int` reads them, so its check character
still matches) and a phone number with them after an ASCII 138, naming the field,
while the full-width form of the same number is that number."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import KIOSK, SECRETS, Api, Reply
from tests.helpers import valid_id

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
PHONE = "13812345678"
FOREIGN_PHONE = "138" + PHONE[3:].translate(ARABIC_INDIC)


def foreign(number: str) -> str:
    """Positions 2–17 in Arabic-Indic digits; the first and the check character as they were."""
    return number[0] + number[1:17].translate(ARABIC_INDIC) + number[17]


def refused(reply: Reply, field: str) -> None:
    assert reply.status == 400 and reply.body["error"]["code"] == "invalid_input", reply.body
    assert reply.body["error"]["field"] == field, reply.body


def tomorrow_at(hhmm: str) -> str:
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    return f"{day.isoformat()}T{hhmm}:00+08:00"


async def test_a_booking_takes_only_ascii_digits(api: Api) -> None:
    person = valid_id(4244)  # its check character is X
    slot = {"service": "A", "slot": tomorrow_at("10:00")}
    r = await api.post("/api/appointments", {**slot, "id_number": foreign(person), "phone": PHONE})
    refused(r, "id_number")
    r = await api.post("/api/appointments", {**slot, "id_number": person, "phone": FOREIGN_PHONE})
    refused(r, "phone")
    r = await api.post("/api/appointments", {**slot, "id_number": person, "phone": PHONE})
    assert r.status == 201, r.body
    SECRETS.add(r.body["appointment"]["code"])
    # The full-width form is the same person: one booking per ID per service per day.
    again = await api.post(
        "/api/appointments",
        {**slot, "slot": tomorrow_at("11:00"), "id_number": person.translate(FULL_WIDTH), "phone": PHONE},
    )
    assert again.status == 409, again.body


async def test_the_proxy_register_takes_only_ascii_digits(api: Api) -> None:
    boss, number = await api.login("boss"), valid_id(4245)
    refused(
        await api.post("/api/proxies", {"name": "帮办员 吴", "id_number": foreign(number)}, token=boss),
        "id_number",
    )
    assert (await api.get("/api/proxies", token=boss)).body["proxies"] == []
    added = await api.post("/api/proxies", {"name": "帮办员 吴", "id_number": number}, token=boss)
    assert added.status == 201, added.body


async def test_rejoin_and_reprint_take_only_ascii_digits(api: Api) -> None:
    person = valid_id(4246)
    await api.issue("B", id_number=valid_id(4247))  # the ticket a 补打 is asked for below
    first = await api.issue("A", id_number=person, phone=PHONE)
    await api.sign_in("s1", 1)
    called = await api.window("s1", 1, "call-next")
    assert called.body["ticket"]["number"] == first["number"], called.body
    assert (await api.window("s1", 1, "suspend", {"reason": "缺少材料"})).status == 200

    rejoin = "/api/tickets/rejoin"
    refused(
        await api.post(rejoin, {"number": first["number"], "id_number": foreign(person)}, token=KIOSK),
        "id_number",
    )
    refused(await api.post(rejoin, {"number": first["number"], "phone": FOREIGN_PHONE}, token=KIOSK), "phone")
    reprint = "/api/tickets/reprint-by-id"
    refused(
        await api.post(reprint, {"service": "B", "id_number": foreign(valid_id(4247))}, token=KIOSK),
        "id_number",
    )
    # The same numbers in full-width digits are the ones the tickets were taken with.
    back = await api.post(
        rejoin, {"number": first["number"], "id_number": person.translate(FULL_WIDTH)}, token=KIOSK
    )
    assert back.status == 200 and back.body["ticket"]["number"] == first["number"], back.body
    # Found (not 404): a kiosk without a printer has no receipt to print again.
    again = await api.post(
        reprint, {"service": "B", "id_number": valid_id(4247).translate(FULL_WIDTH)}, token=KIOSK
    )
    assert again.status == 409 and again.body["error"]["code"] == "conflict", again.body
