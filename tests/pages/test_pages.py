"""The pages in a real headless Chromium against a real `clearhall serve --demo`
(a subprocess on the test database), clicking what a person clicks.

The server is shared by the tests of this module; each test works at its own
windows of the demo hall so they do not disturb each other:
window 1 (lina, service A) for the hall screen, 3 (zhangmin, B) for the window
screen and rating pad, 5 (chenjing, C) for the phone page, 8 (huangli, E) for
the screens living on the pushed queue, 9 (zhoujie, F) for the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import http_call, valid_id
from tests.pages.conftest import REPO

KIOSK = "demo-kiosk-1-token"
HALL = "demo-hall-screen-token"
WINDOW3 = "demo-window-3-screen"
RATE3 = "demo-rating-pad-3"
PASSWORDS = {
    "lina": "demo-lina-2026",
    "zhangmin": "demo-zhangmin-2026",
    "chenjing": "demo-chenjing-2026",
    "zhoujie": "demo-zhoujie-2026",
    "huangli": "demo-huangli-2026",
}
WAIT_MS = 10_000  # the socket delivers at once; polling (while /ws is down) within 5 s

_ids = count(1)


# -- the server ---------------------------------------------------------------


class Hall:
    """A running `clearhall serve --demo`, spoken to over plain HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}
        self.restart: Callable[[], None] = lambda: None  # set by serving()

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        return http_call(self.base + path, method, body, token)

    def login(self, user: str) -> str:
        if user not in self.tokens:
            status, body = self.call("POST", "/api/login", {"username": user, "password": PASSWORDS[user]})
            assert status == 200, body
            self.tokens[user] = body["token"]
        return self.tokens[user]

    def window(self, user: str, n: int, action: str, body: Any = None) -> tuple[int, Any]:
        return self.call("POST", f"/api/windows/{n}/{action}", body or {}, self.login(user))

    def issue(self, service: str, category: str = "normal", **extra: str) -> dict[str, Any]:
        if service in "BDE" and "id_number" not in extra:
            extra["id_number"] = valid_id(next(_ids))
        status, body = self.call(
            "POST", "/api/tickets", {"service": service, "category": category, **extra}, KIOSK
        )
        assert status == 201, body
        return dict(body["ticket"])

    def call_until(self, user: str, n: int, number: str) -> None:
        """Call at window n until `number` is the current ticket."""
        for _ in range(50):
            self.window(user, n, "finish")
            status, body = self.window(user, n, "call-next")
            assert status == 200, body
            assert body["ticket"] is not None, f"{number} never came up at window {n}"
            if body["ticket"]["number"] == number:
                return
        raise AssertionError(f"{number} not called at window {n}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database(pg_url: str, name: str, create: bool) -> None:
    """(Re)create or drop a database, on a thread of its own: pytest-asyncio may
    have an event loop running on the test thread."""
    import asyncpg

    async def work() -> None:
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            if create:
                await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]


def demo_hall_file(printer: str | None = None) -> str:
    """The demo hall, open all day so the tests pass at any hour; optionally another printer address."""
    demo = (REPO / "server" / "store" / "demo_hall.toml").read_text(encoding="utf-8")
    demo = demo.replace('opens_at = "08:30"', 'opens_at = "00:00"').replace(
        'closes_at = "17:30"', 'closes_at = "23:59"'
    )
    if printer is not None:
        assert 'address = "file:///tmp/clearhall-demo-printer.bin"' in demo
        demo = demo.replace("file:///tmp/clearhall-demo-printer.bin", printer)
    return demo


def start_server(command: list[str], base: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `clearhall serve` and wait until it answers /healthz."""
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            pytest.fail("clearhall serve did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def serving(pg_url: str, name: str, hall_text: str) -> Iterator[Hall]:
    """A real `clearhall serve` on a database of its own, loaded from `hall_text`.
    `restart()` stops it and starts it again on the same port and database."""
    from tests.conftest import with_database

    _database(pg_url, name, create=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="clearhall-pages-") as data_dir:
        hall_file = Path(data_dir) / "hall.toml"
        hall_file.write_text(hall_text, encoding="utf-8")
        log = Path(data_dir) / "server.log"
        command = [sys.executable, "-m", "clearhall.server", "serve", "--config", str(hall_file),
                   "--port", str(port), "--data-dir", data_dir, "--database-url", with_database(pg_url, name)]  # fmt: skip
        proc = start_server(command, base, log)
        running = Hall(base)

        def restart() -> None:
            nonlocal proc
            stop_server(proc)
            proc = start_server(command, base, log)

        running.restart = restart
        try:
            yield running
        finally:
            stop_server(proc)
    _database(pg_url, name, create=False)


@pytest.fixture(scope="module")
def hall(pg_url: str) -> Iterator[Hall]:
    with serving(pg_url, f"clearhall_pages_{os.getpid()}", demo_hall_file()) as running:
        yield running


@pytest.fixture
def page(browser: Any, hall: Hall) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    outside: list[str] = []

    def check(request: Any) -> None:
        url = request.url
        if not (url.startswith(hall.base) or url.startswith(("data:", "blob:", "ws://127.0.0.1"))):
            outside.append(url)

    ctx.on("request", check)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    ctx.close()
    assert not outside, f"pages must load nothing from outside: {outside}"
    assert not errors, f"JavaScript errors: {errors}"


def text(p: Any, selector: str) -> str:
    return str(p.inner_text(selector))


# -- every page, without its credential ----------------------------------------


@pytest.mark.parametrize("address", ["/kiosk", "/display", "/display/window/3", "/rate/3"])
def test_a_device_page_without_token_says_so(page: Any, hall: Hall, address: str) -> None:
    page.goto(hall.base + address)
    page.wait_for_selector("#blocker", state="visible")
    assert "本设备未配置" in text(page, "#blocker")
    assert "#device=" in text(page, "#blocker")


def test_the_phone_page_without_key_says_so(page: Any, hall: Hall) -> None:
    page.goto(hall.base + "/t/no-such-ticket")
    page.wait_for_selector("#blocker", state="visible")
    assert "无法查看此号码" in text(page, "#blocker")
    page.goto(hall.base + "/t/no-such-ticket?key=wrong")
    page.wait_for_selector("#blocker", state="visible")
    assert "请重新扫描" in text(page, "#blocker")


def test_the_device_token_leaves_the_address_bar(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/display#device={HALL}")
    page.wait_for_function("() => location.hash === ''")
    assert page.evaluate("() => localStorage.getItem('clearhall.device.display')") == HALL
    assert "device" not in page.url
    # a reload without the fragment still works from the kept token
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#services tr').length >= 8")
    assert page.locator("#blocker").count() == 0 or not page.is_visible("#blocker")


# -- kiosk ---------------------------------------------------------------------


def test_kiosk_issues_a_ticket_with_its_qr_and_print_status(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='A']")
    assert "绿色通道" in text(page, "#scrCategory")
    assert "老年人" in text(page, "#greenCats")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible")
    number = text(page, "#tNumber")
    assert re.fullmatch(r"A\d{3}", number)
    assert re.search(r"\d", text(page, "#tAhead"))
    url = page.get_attribute("#tQr", "data-url")
    assert url and re.search(r"/t/[^/?]+\?key=", url)
    assert page.locator("#tQr svg").count() == 1
    status = page.get_attribute("#printBox", "data-status")
    assert status in {"queued", "printed", "failed", "none"}
    assert text(page, "#printText").strip()
    # the phone URL of the QR really shows this ticket
    path = url.split("://", 1)[1].split("/", 1)[1]
    code, body = hall.call("GET", "/api/" + path.replace("t/", "tickets/", 1))
    assert code == 200 and body["ticket"]["number"] == number


def test_a_kiosk_whose_answer_is_lost_gets_the_same_ticket_not_two(page: Any, hall: Hall) -> None:
    before = hall.call("GET", "/api/queue")[1]
    waiting_before = next(s["waiting"] for s in before["services"] if s["code"] == "A")
    sent: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        sent.append(route.request.headers.get("idempotency-key", ""))
        if len(sent) == 1:
            route.fetch()  # the server issues the ticket ...
            route.abort("connectionreset")  # ... and the kiosk never hears back
        else:
            route.continue_()

    page.route("**/api/tickets", lose_the_first_answer)
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='A']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]  # retried with the same key
    after = hall.call("GET", "/api/queue")[1]
    assert next(s["waiting"] for s in after["services"] if s["code"] == "A") == waiting_before + 1


def test_kiosk_checks_the_id_number_as_it_is_typed(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='B']")
    page.click("[data-category='elderly']")
    page.wait_for_selector("#scrRealName", state="visible")
    good = valid_id(900 + next(_ids))
    wrong_last = "0" if good[-1] != "0" else "1"
    for ch in good[:17]:
        page.click(f"[data-key='{ch}']")
    assert "17/18" in text(page, "#feedback")
    assert page.is_disabled("#confirmBtn")
    page.click(f"[data-key='{wrong_last}']")
    assert "校验码不符" in text(page, "#feedback")
    assert page.is_disabled("#confirmBtn")
    page.click("[data-key='back']")
    page.click(f"[data-key='{good[-1]}']")
    assert "校验通过" in text(page, "#feedback")
    page.click("#confirmBtn")
    page.wait_for_selector("#scrTicket", state="visible")
    assert re.fullmatch(r"B\d{3}", text(page, "#tNumber"))


def test_kiosk_goes_back_to_the_start_after_30_seconds(page: Any, hall: Hall) -> None:
    page.clock.install()
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='C']")
    page.wait_for_selector("#scrCategory", state="visible")
    page.clock.fast_forward(25_000)
    assert page.is_visible("#scrCategory")
    page.clock.fast_forward(6_000)
    page.wait_for_selector("#scrServices", state="visible")


def test_kiosk_switches_to_english(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/kiosk?lang=en#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible")
    assert "Choose a service" in text(page, "#scrServices")
    page.click("#langBtn")
    assert "请选择办理的业务" in text(page, "#scrServices")


# -- hall screen ----------------------------------------------------------------


def test_the_hall_screen_shows_and_announces_a_call(page: Any, hall: Hall) -> None:
    hall.window("lina", 1, "sign-in")
    hall.window("lina", 1, "finish")
    mine = hall.issue("A", "elderly")
    page.goto(f"{hall.base}/display#device={HALL}")
    page.wait_for_function("() => document.querySelectorAll('#services tr').length >= 8")
    page.evaluate("() => { window.clearhallVoice.enabled = false; }")  # no sound card needed
    hall.call_until("lina", 1, mine["number"])
    page.wait_for_function(
        "n => document.querySelector('#nowNumber').textContent === n", arg=mine["number"], timeout=WAIT_MS
    )
    assert "1" in text(page, "#nowTo")
    assert "fresh" in (page.get_attribute("#now", "class") or "")
    page.wait_for_function(
        "n => window.clearhallVoice.played.includes(n + '@1')", arg=mine["number"], timeout=WAIT_MS
    )
    card = text(page, ".win-card[data-window='1']")
    assert "李娜" in card and "党员示范岗" in card
    assert mine["number"] in text(page, "#recent")
    assert text(page, "#policy").strip()
    assert "12345" in text(page, ".hotline")


def test_the_hall_screen_reads_the_same_clips_as_python(page: Any, hall: Hall) -> None:
    from clearhall.display.voice import clip_sequence

    page.goto(f"{hall.base}/display#device={HALL}")
    got = page.evaluate("() => ClearhallVoice.clipSequence('A023', 12)")
    assert got == clip_sequence("A023", 12)
    for name in set(got):
        code, _ = hall.call("HEAD", f"/static/display/voice/clips/{name}.wav")
        assert code == 200, name


# -- window screen and rating pad ----------------------------------------------------------


def test_window_screen_and_rating_pad_follow_a_finish(browser: Any, hall: Hall) -> None:
    hall.window("zhangmin", 3, "sign-in")
    hall.window("zhangmin", 3, "finish")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        screen = ctx.new_page()
        screen.goto(f"{hall.base}/display/window/3#device={WINDOW3}")
        screen.wait_for_function(
            "() => document.querySelector('#staffName').textContent === '张敏'", timeout=WAIT_MS
        )
        assert screen.is_visible("#badge")
        pad = ctx.new_page()
        pad.goto(f"{hall.base}/rate/3#device={RATE3}")
        pad.wait_for_selector("#idle", state="visible")

        mine = hall.issue("B")
        hall.call_until("zhangmin", 3, mine["number"])
        screen.wait_for_function(
            "n => document.querySelector('#number').textContent === n", arg=mine["number"], timeout=WAIT_MS
        )
        hall.window("zhangmin", 3, "start")
        hall.window("zhangmin", 3, "finish")
        screen.wait_for_selector("#ratePrompt", state="visible", timeout=WAIT_MS)
        assert "请对本次服务进行评价" in text(screen, "#ratePrompt")

        pad.wait_for_selector("#ask", state="visible", timeout=WAIT_MS)
        assert mine["number"] in text(pad, "#askTicket")
        pad.click(".face[data-score='5']")
        pad.wait_for_selector("#thanks", state="visible")
        code, body = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 4})
        assert code == 409, body  # rated once, by the pad
    finally:
        ctx.close()


# -- the pushed queue ----------------------------------------------------------------------
# With the socket up, the snapshot and each queue.changed are a screen's state: no page
# reads /api/queue again after an event. Window 8 (huangli, service E) is this section's.


def queue_reads(ctx: Any) -> list[str]:
    """Every GET of /api/queue that the pages of `ctx` make from now on."""
    reads: list[str] = []

    def seen(request: Any) -> None:
        if urllib.parse.urlsplit(request.url).path == "/api/queue":
            reads.append(request.url)

    ctx.on("request", seen)
    return reads


def socket_messages(p: Any) -> list[list[dict[str, Any]]]:
    """The messages of each WebSocket that page `p` opens from now on, a list per socket."""
    sockets: list[list[dict[str, Any]]] = []

    def opened(ws: Any) -> None:
        got: list[dict[str, Any]] = []
        sockets.append(got)
        ws.on("framereceived", lambda payload: got.append(json.loads(payload)))

    p.on("websocket", opened)
    return sockets


def wait_until(p: Any, done: Callable[[], bool], timeout_ms: int = WAIT_MS) -> None:
    """Wait (letting the browser's events in) until `done()` holds."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not done():
        assert time.monotonic() < deadline, "timed out"
        p.wait_for_timeout(50)


def has_snapshot(sockets: list[list[dict[str, Any]]]) -> bool:
    """The page's latest socket has started with a snapshot."""
    return bool(sockets and sockets[-1] and sockets[-1][0]["type"] == "snapshot")


# the number of people waiting for service `code` on the hall screen
HALL_WAITING = """code => { const row = [...document.querySelectorAll('#services tr')]
  .find(tr => tr.querySelector('.code') && tr.querySelector('.code').textContent === code);
  return row ? Number(row.querySelector('.count').textContent) : null; }"""


def test_screens_take_the_pushed_queue_and_never_read_it_again(browser: Any, hall: Hall) -> None:
    hall.window("huangli", 8, "sign-in")
    hall.window("huangli", 8, "finish")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    reads = queue_reads(ctx)
    try:
        screen, window, kiosk = ctx.new_page(), ctx.new_page(), ctx.new_page()
        live = [socket_messages(p) for p in (screen, window, kiosk)]
        screen.goto(f"{hall.base}/display#device={HALL}")
        window.goto(f"{hall.base}/display/window/8#device={HALL}")
        kiosk.goto(f"{hall.base}/kiosk#device={KIOSK}")
        screen.evaluate("() => { window.clearhallVoice.enabled = false; }")
        wait_until(screen, lambda: all(has_snapshot(s) for s in live))
        window.wait_for_function("() => document.querySelector('#staffName').textContent === '黄丽'")
        waiting = screen.evaluate(HALL_WAITING, "E")
        assert isinstance(waiting, int)

        # a new ticket: the counts come with queue.changed
        mine = hall.issue("E")
        screen.wait_for_function(f"n => ({HALL_WAITING})('E') === n", arg=waiting + 1, timeout=WAIT_MS)
        kiosk.wait_for_function(
            "n => document.querySelector(\"[data-service='E']\").textContent.includes(n)",
            arg=f"等候 {waiting + 1} 人", timeout=WAIT_MS,
        )  # fmt: skip

        # a call: announced and shown from ticket.called
        hall.call_until("huangli", 8, mine["number"])
        screen.wait_for_function(
            "n => document.querySelector('#nowNumber').textContent === n", arg=mine["number"], timeout=WAIT_MS
        )
        screen.wait_for_function("n => window.clearhallVoice.played.includes(n + '@8')", arg=mine["number"])
        window.wait_for_function(
            "n => document.querySelector('#number').textContent === n", arg=mine["number"], timeout=WAIT_MS
        )
        screen.wait_for_function("n => document.querySelector(\".win-card[data-window='8']\").textContent.includes(n)",
                                 arg=mine["number"], timeout=WAIT_MS)  # fmt: skip

        # a finish: the window screen asks for a rating, the hall screen shows the window free
        hall.window("huangli", 8, "finish")
        window.wait_for_selector("#ratePrompt", state="visible", timeout=WAIT_MS)
        screen.wait_for_function("n => !document.querySelector(\".win-card[data-window='8']\").textContent.includes(n)",
                                 arg=mine["number"], timeout=WAIT_MS)  # fmt: skip
        wait_until(screen, lambda: all(any(m.get("event") == "queue.changed" for m in s[-1]) for s in live))
    finally:
        ctx.close()
    assert reads == [], "with the socket up, no page reads /api/queue"
    for sockets in live:
        changes = [m for m in sockets[-1] if m.get("event") == "queue.changed" and "services" in m]
        assert changes and all({"windows", "recent_calls", "notices"} <= m.keys() for m in changes)


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


# -- phone page -------------------------------------------------------------------------


def test_phone_page_follows_its_ticket_to_the_rating(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    hall.window("chenjing", 5, "sign-in")
    hall.window("chenjing", 5, "finish")
    mine = hall.issue("C", "pregnant")
    path = mine["url"].split("://", 1)[1].split("/", 1)[1]
    page.add_init_script("navigator.vibrate = (p) => { window.__vibrated = p; return true; };")
    page.goto(f"{hall.base}/{path}")
    page.wait_for_selector("#main", state="visible")
    assert text(page, "#number") == mine["number"]
    assert "等候中" in text(page, "#status")

    hall.call_until("chenjing", 5, mine["number"])
    page.wait_for_selector("#called", state="visible", timeout=WAIT_MS)
    assert "5" in text(page, "#calledGo")
    assert page.evaluate("() => window.__vibrated") is not None
    page.click("#calledOk")

    hall.window("chenjing", 5, "finish")
    page.wait_for_selector("#rating", state="visible", timeout=WAIT_MS)
    page.click("#rateSubmit")
    assert "请为每一项" in text(page, "#rateMsg")
    page.click(".scores[data-dim='score'] [data-score='5']")
    page.click(".scores[data-dim='efficiency'] [data-score='4']")
    page.fill("#comment", "办事很快")
    page.click("#rateSubmit")
    page.wait_for_selector(".thanks", state="visible")
    code, _ = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 5})
    assert code == 409


# -- staff console ------------------------------------------------------------------------


def test_console_works_a_window_from_the_keyboard(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    first = hall.issue("F")
    hall.issue("F", "military")
    reads = queue_reads(page.context)
    page.goto(hall.base + "/console")
    page.fill("#username", "zhoujie")
    page.fill("#password", "wrong")
    page.click("#loginBtn")
    page.wait_for_function("() => document.querySelector('#loginMsg').textContent.length > 0")
    page.fill("#password", PASSWORDS["zhoujie"])
    page.click("#loginBtn")
    page.click("[data-window='9']")
    page.wait_for_selector("#workView", state="visible")
    page.wait_for_function(
        "() => document.querySelectorAll('#waiting li[data-number]').length >= 2", timeout=WAIT_MS
    )
    assert first["number"] in text(page, "#waiting")
    assert "军人" in text(page, "#waiting")  # categories are shown, nothing about the person

    page.keyboard.press("n")
    page.wait_for_function("() => /^F\\d{3}$/.test(document.querySelector('#curNumber').textContent)")
    called = text(page, "#curNumber")
    assert page.is_disabled("#btn-call-next")
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelector('#curMeta').textContent.includes('办理中')")
    page.keyboard.press("f")
    page.wait_for_function("() => document.querySelector('#curNumber').classList.contains('none')")
    page.wait_for_function(
        "() => Number(document.querySelector('#statFinished').textContent) >= 1", timeout=WAIT_MS
    )

    # calls that need a reason ask for it first
    page.keyboard.press("p")
    assert page.is_visible("#dlg")
    page.click("#dlgOk")
    assert "理由" in text(page, "#dlgMsg")
    page.fill("#fReason", "系统维护")
    page.click("#dlgOk")
    page.wait_for_selector("#pausedBanner", state="visible")
    page.keyboard.press("p")
    page.wait_for_selector("#pausedBanner", state="hidden")

    page.keyboard.press("n")
    page.wait_for_function("n => document.querySelector('#curNumber').textContent !== n && "
                           "!document.querySelector('#curNumber').classList.contains('none')", arg=called)  # fmt: skip
    page.keyboard.press("g")
    page.click("#dlgOk")
    assert "缺少的材料" in text(page, "#dlgMsg") or "材料" in text(page, "#dlgMsg")
    page.fill("#fMissing", "营业执照副本\n授权委托书")
    page.click("#dlgOk")
    page.wait_for_function("() => document.querySelector('#curNumber').classList.contains('none')")
    assert reads == [], "the window's state comes from the socket"


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
