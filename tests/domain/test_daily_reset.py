"""The hall's midnight (docs/operating.md, "The day"): what restarts and what does
not. Numbers restart at midnight in the hall's time zone (a ticket's `day`);
a ticket left waiting is not closed by the night: it stays in line, first by its
place, under yesterday's number, and a call by number means today's ticket."""

from __future__ import annotations

import asyncpg

from tests.conftest import Api


async def test_numbers_restart_and_yesterdays_waiting_ticket_stays_in_line(
    api: Api, conn: asyncpg.Connection
) -> None:
    left = await api.issue("A")
    assert left["number"] == "A001"
    await conn.execute(
        "UPDATE tickets SET day = day - 1, issued_at = issued_at - interval '1 day',"
        " order_at = order_at - interval '1 day' WHERE id = $1",
        left["id"],
    )  # (its counter row stays yesterday's too)
    await conn.execute("UPDATE ticket_counters SET day = day - 1")

    today = await api.issue("A")
    assert today["number"] == "A001"  # a new day, a new count, in the hall's zone
    queue = (await api.get("/api/queue")).body
    assert next(s for s in queue["services"] if s["code"] == "A")["waiting"] == 2  # the night closed nothing

    await api.sign_in("s1", 1)
    by_number = await api.window("s1", 1, "call", {"number": "A001", "reason": "叫号"})
    assert by_number.status == 200 and by_number.body["ticket"]["id"] == today["id"]  # "A001" is today's
    assert (await api.window("s1", 1, "finish")).status == 200
    nxt = await api.window("s1", 1, "call-next")
    assert nxt.body["ticket"]["id"] == left["id"]  # yesterday's, by its place in line
