"""The supervisor dashboard (/supervisor): windows, printers, out-of-order calls,
the integrity notices reaching the hall screen, and a printer going offline.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pages.helpers import HALL, PASSWORDS, WAIT_MS, Hall, demo_hall_file, queue_reads, serving, text

# -- supervisor dashboard -------------------------------------------------------------------
# The supervisor acts through the API at window 12 (xuming's; services H and G) and
# the dashboard itself; the printer test runs a hall of its own with a fake printer.

SUPERVISOR = ("supervisor", "demo-supervisor-2026")


def supervisor_login(p: Any, base: str, user: str = SUPERVISOR[0], password: str = SUPERVISOR[1]) -> None:
    p.goto(base + "/supervisor")
    p.fill("#username", user)
    p.fill("#password", password)
    p.click("#loginBtn")


def staff_token(hall: Hall, user: str, password: str) -> str:
    if user not in hall.tokens:
        status, body = hall.call("POST", "/api/login", {"username": user, "password": password})
        assert status == 200, body
        hall.tokens[user] = body["token"]
    return hall.tokens[user]


def test_supervisor_sees_windows_printers_and_out_of_order_calls(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    xuming = staff_token(hall, "xuming", "demo-xuming-2026")
    hall.call("POST", "/api/windows/12/sign-in", {}, xuming)
    hall.call("POST", "/api/windows/12/finish", {}, xuming)
    first, second = hall.issue("H"), hall.issue("H")
    status, body = hall.call("POST", "/api/windows/12/call",
                             {"number": second["number"], "reason": "预约企业专场"}, xuming)  # fmt: skip
    assert status == 200, body

    reads = queue_reads(page.context)
    supervisor_login(page, hall.base)
    page.wait_for_selector("#dashView", state="visible")
    page.wait_for_function("() => document.querySelectorAll('#windows tr[data-window]').length === 12",
                           timeout=WAIT_MS)  # fmt: skip
    row = text(page, "#windows tr[data-window='12']")
    assert "徐明" in row and second["number"] in row and "服务中" in row
    assert page.locator("#services tr[data-service='H']").count() == 1
    assert "郭主任" in text(page, "#who")

    page.wait_for_selector("#printers .printer[data-printer='printer-kiosk-1']")
    assert text(page, "#printers .p-state").strip()

    # the out-of-order call stands out, with its reason and the rule's choice
    flagged = page.locator("#audit li.out-of-order", has_text=second["number"])
    flagged.first.wait_for(timeout=WAIT_MS)
    entry = flagged.first.inner_text()
    assert "预约企业专场" in entry and f"按规则应叫 {first['number']}" in entry

    # a live call shows without reloading
    hall.call("POST", "/api/windows/12/finish", {}, xuming)
    hall.call("POST", "/api/windows/12/call-next", {}, xuming)
    page.wait_for_function(
        "n => document.querySelector(\"#windows tr[data-window='12']\").textContent.includes(n)",
        arg=first["number"], timeout=WAIT_MS,
    )  # fmt: skip

    # the receipt preview needs the bearer token: fetched, shown from a blob URL
    page.click("[data-preview='printer-kiosk-1']")
    page.wait_for_function(
        "() => { const i = document.querySelector('#previewImg');"
        " return !i.hidden && i.src.startsWith('blob:') && i.complete && i.naturalWidth > 300; }",
        timeout=WAIT_MS,
    )
    page.click("#previewClose")

    page.keyboard.press("l")
    assert "Windows" in text(page, "#pWindows h2")
    page.keyboard.press("l")
    assert reads == [], "services and windows come from the socket"


def test_supervisor_dashboard_refuses_staff(page: Any, hall: Hall) -> None:
    supervisor_login(page, hall.base, "zhoujie", PASSWORDS["zhoujie"])
    page.wait_for_function("() => document.querySelector('#loginMsg').textContent.includes('需要主管权限')")
    assert not page.is_visible("#dashView")
    assert page.evaluate("() => sessionStorage.getItem('clearhall.supervisor')") is None


def test_a_notice_made_in_the_dashboard_reaches_the_hall_screen(browser: Any, hall: Hall) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        screen = ctx.new_page()
        screen.goto(f"{hall.base}/display#device={HALL}")
        screen.wait_for_function("() => document.querySelectorAll('#services tr').length >= 8")
        desk = ctx.new_page()
        supervisor_login(desk, hall.base)
        desk.wait_for_selector("#dashView", state="visible")

        title = f"廉洁提醒{time.monotonic_ns() % 100000}"
        desk.click("#noticeAdd")
        desk.fill("#nTitle", title)
        desk.fill("#nBody", "工作人员不得收受礼品礼金，如遇索要请拨打 12345。")
        # the server's own error, shown at the field it names
        desk.fill("#nStarts", "2026-12-31")
        desk.fill("#nEnds", "2026-01-01")
        desk.click("#noticeSave")
        desk.wait_for_function("() => document.querySelector('#noticeDlgMsg').textContent.length > 0")
        assert "ends_on" in text(desk, "#noticeDlgMsg") or "结束日期" in text(desk, "#noticeDlgMsg")
        assert "invalid" in (desk.get_attribute("#nEnds", "class") or "")
        desk.fill("#nStarts", "")
        desk.fill("#nEnds", "")
        desk.click("#noticeSave")
        desk.wait_for_selector("#noticeDlg", state="hidden")
        desk.wait_for_selector(f"#notices li.notice:has-text('{title}')")

        screen.wait_for_function("t => document.querySelector('#ticker').textContent.includes(t)",
                                 arg=title, timeout=WAIT_MS)  # fmt: skip

        # edited and then deleted, the hall screen follows
        item = desk.locator("#notices li.notice", has_text=title)
        item.locator("[data-edit]").click()
        desk.fill("#nTitle", title + "（修订）")
        desk.click("#noticeSave")
        screen.wait_for_function("t => document.querySelector('#ticker').textContent.includes(t)",
                                 arg=title + "（修订）", timeout=WAIT_MS)  # fmt: skip
        item = desk.locator("#notices li.notice", has_text=title)
        item.locator("[data-delete]").click()
        assert "确认" in item.locator("[data-delete]").inner_text()
        item.locator("[data-delete]").click()
        screen.wait_for_function("t => !document.querySelector('#ticker').textContent.includes(t)",
                                 arg=title, timeout=WAIT_MS)  # fmt: skip
        desk.wait_for_function("t => !document.querySelector('#notices').textContent.includes(t)", arg=title)
    finally:
        ctx.close()


class FakePrinter:
    """An ESC/POS printer on a local TCP port: answers DLE EOT status requests
    as `state`, swallows job bytes; `unplug()` stops listening (connection refused)."""

    def __init__(self) -> None:
        import socketserver

        from clearhall.printer.status import PrinterState, status_replies

        self.state = PrinterState.READY
        fake = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                pending = b""
                while True:
                    try:
                        chunk = self.request.recv(4096)
                    except OSError:
                        return
                    if not chunk:
                        return
                    pending += chunk
                    while (at := pending.find(b"\x10\x04")) >= 0 and len(pending) > at + 2:
                        n = pending[at + 2]
                        replies = status_replies(fake.state)
                        self.request.sendall(bytes((replies[{1: 0, 2: 1, 4: 2}.get(n, 0)],)))
                        pending = pending[at + 3 :]
                    pending = pending[-2:]

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def unplug(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def printer_hall(pg_url: str) -> Iterator[tuple[Hall, FakePrinter]]:
    """The demo hall from a hall file whose kiosk printer is a FakePrinter, on a database of its own."""
    fake = FakePrinter()
    try:
        hall_text = demo_hall_file(printer=f"tcp://127.0.0.1:{fake.port}")
        with serving(pg_url, f"clearhall_pages_printer_{os.getpid()}", hall_text) as running:
            yield running, fake
    finally:
        fake.unplug()


def test_a_printer_going_offline_shows_red_and_its_job_can_be_cancelled(
    browser: Any, printer_hall: tuple[Hall, FakePrinter]
) -> None:
    hall, fake = printer_hall
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    errors: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        printer_goes_offline(page, hall, fake)
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors: {errors}"


def printer_goes_offline(page: Any, hall: Hall, fake: FakePrinter) -> None:
    supervisor_login(page, hall.base)
    page.wait_for_selector("#dashView", state="visible")
    page.wait_for_selector("#printers .printer[data-printer='printer-kiosk-1']")
    ready = hall.issue("A")  # printed on the fake printer, which says it is ready
    assert ready["print"]["status"] == "printed", ready["print"]
    page.wait_for_selector(".printer[data-state='ready']", timeout=WAIT_MS)
    assert page.locator("#printerAlert").count() == 0

    fake.unplug()
    lost = hall.issue("A")  # the printer no longer answers: the ticket is issued, the print fails
    assert lost["print"]["status"] in ("queued", "failed"), lost["print"]
    card = page.locator(".printer[data-printer='printer-kiosk-1']")
    page.wait_for_selector(".printer.bad[data-state='offline']", timeout=WAIT_MS)
    assert "离线" in card.inner_text()
    assert "打印机故障" in text(page, "#printerAlert")

    job = page.locator("#jobs li.job", has_text=lost["number"])
    job.wait_for(timeout=WAIT_MS)
    job.locator("[data-cancel]").click()
    page.wait_for_function("() => document.querySelector('#printMsg').textContent.includes('已取消')")
    page.wait_for_function(
        "n => !document.querySelector('#jobs').textContent.includes(n)", arg=lost["number"], timeout=WAIT_MS
    )
    code, body = hall.call("GET", "/api/print-jobs?status=cancelled", token=staff_token(hall, *SUPERVISOR))
    assert code == 200 and any(j["ticket"]["number"] == lost["number"] for j in body["jobs"])
