"""The screens reconnect by themselves after the server restarts, on a
`clearhall serve` and a database of this test's own (not the shared `hall`).
"""

from __future__ import annotations

import os
from typing import Any

from tests.pages.helpers import (
    HALL,
    WAIT_MS,
    demo_hall_file,
    has_snapshot,
    queue_reads,
    serving,
    socket_messages,
    wait_until,
)


def test_screens_recover_after_a_server_restart(browser: Any, pg_url: str) -> None:
    with serving(pg_url, f"clearhall_pages_restart_{os.getpid()}", demo_hall_file()) as hall:
        hall.window("lina", 1, "sign-in")
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        reads = queue_reads(ctx)
        try:
            screen, window = ctx.new_page(), ctx.new_page()
            live = [socket_messages(p) for p in (screen, window)]
            screen.goto(f"{hall.base}/display#device={HALL}")
            window.goto(f"{hall.base}/display/window/1#device={HALL}")
            screen.evaluate("() => { window.clearhallVoice.enabled = false; }")
            wait_until(screen, lambda: all(has_snapshot(s) for s in live))

            hall.restart()
            # each page reconnects by itself (1 s, 2 s, 4 s … apart) and starts again from a snapshot
            wait_until(screen, lambda: all(len(s) >= 2 and has_snapshot(s) for s in live), timeout_ms=45_000)
            reads.clear()  # while the socket was down the screens read /api/queue, as they should

            mine = hall.issue("A")
            hall.call_until("lina", 1, mine["number"])
            screen.wait_for_function(
                "n => document.querySelector('#nowNumber').textContent === n",
                arg=mine["number"],
                timeout=WAIT_MS,
            )
            window.wait_for_function(
                "n => document.querySelector('#number').textContent === n",
                arg=mine["number"],
                timeout=WAIT_MS,
            )
            assert any(m.get("event") == "ticket.called" for m in live[0][-1])
        finally:
            ctx.close()
        assert reads == [], "after reconnecting, the pages live on the socket again"
