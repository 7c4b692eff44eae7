"""Plain helpers for the page tests (tests/pages/test_*.py): a real
`clearhall serve` run as a subprocess on a database of its own (`serving`), a
`Hall` to speak to it over HTTP, a real `clearhall kiosk-bridge` with its
simulated card reader, and helpers that drive and watch the pages (the
supervisor's log-in and case steps, a stand-in for the browser's speech).
What measures a page (contrast, sizes) is in measure.py. Test modules import
from here, never from each other.

The shared server (the `hall` fixture, tests/pages/conftest.py) lives for one test
module; each test works at its own windows of the demo hall so that they do not
disturb each other: window 1 (lina, service A) for the hall screen, 3 (zhangmin,
B) for the window screen and rating pad, 5 (chenjing, C) for the phone page,
8 (huangli, E) for the screens living on the pushed queue, 9 (zhoujie, F) for the
console, 12 (xuming, H and G) for the supervisor dashboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from clearhall.server.domain.idcard import check_digit
from clearhall.server.store import hallfile
from tests.conftest import SECRETS, SHORTEST_SECRET, current_test, keep_log, remember_secrets
from tests.helpers import http_call, valid_id

REPO = Path(__file__).resolve().parents[2]

KIOSK = "demo-kiosk-1-token"
HALL = "demo-hall-screen-token"
WINDOW3 = "demo-window-3-screen"
RATE3 = "demo-rating-pad-3"
DEMO = REPO / "server" / "store" / "demo_hall.toml"
PASSWORDS = {s.username: s.password for s in hallfile.load(DEMO).staff}  # public: the demo's log-ins
WAIT_MS = 10_000  # the socket delivers at once; polling (while /ws is down) within 5 s

_ids = count(1)  # shared by Hall.issue and the tests: no two ID numbers alike in a run


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
    """The demo hall as it is (open all day, so the tests pass at any hour), issuing
    without a rate limit; optionally with another printer address."""
    demo = DEMO.read_text(encoding="utf-8")
    # The tests issue faster than a kiosk's queue of people could.
    assert "kiosk_tickets_per_minute = 30" in demo
    demo = demo.replace("kiosk_tickets_per_minute = 30", "kiosk_tickets_per_minute = 0")
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
        conf = hallfile.load(hall_file)
        SECRETS.update(s.password for s in conf.staff)
        SECRETS.update(d.token for d in conf.devices)  # the pages' own, in their addresses
        log = Path(data_dir) / "server.log"
        command = [sys.executable, "-m", "clearhall.server", "serve", "--config", str(hall_file),
                   "--port", str(port), "--data-dir", data_dir, "--database-url", with_database(pg_url, name)]  # fmt: skip
        started_by = current_test()
        try:
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
        finally:
            keep_log(log, f"server.log of the `clearhall serve` of {name}, started by {started_by}")
    _database(pg_url, name, create=False)


def first_free_slot(hall: Hall, service: str) -> str:
    """The start of `service`'s first slot with room: today's next one or, in the day's last
    slot-length when today has none left, tomorrow's first (its check-in is open either way:
    the demo's slots are at most 30 minutes long and check-in opens 30 minutes before)."""
    status, body = hall.call("GET", f"/api/appointments/slots?service={service}")
    assert status == 200, body
    free = [s["start"] for s in body["slots"] if s["left"] > 0]
    if not free:
        tomorrow = date.fromisoformat(body["day"]) + timedelta(days=1)
        status, body = hall.call("GET", f"/api/appointments/slots?service={service}&day={tomorrow}")
        assert status == 200, body
        free = [s["start"] for s in body["slots"] if s["left"] > 0]
    assert free, f"no free slot of {service} today or tomorrow"
    return str(free[0])


def id_of_someone_born_in_1990() -> str:
    """Under 60: the card takes the plain path (no green channel offered)."""
    first17 = f"430681199005{next(_ids) % 28 + 1:02d}{next(_ids) % 1000:03d}"
    number = first17 + check_digit(first17)
    SECRETS.add(number)
    return number


@contextlib.contextmanager
def kiosk_bridge(port: int, card_file: Path, origin: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`clearhall kiosk-bridge` with the simulated reader, once it listens."""
    command = [sys.executable, "-m", "clearhall.server", "kiosk-bridge", "--driver", "simulated",
               "--simulate-file", str(card_file), "--port", str(port), "--allow-origin", origin]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while "clearhall kiosk-bridge on ws://" not in log.read_text(encoding="utf-8"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        keep_log(log)


def place(card_file: Path, name: str, number: str) -> None:
    partial = card_file.with_suffix(".partial")
    partial.write_text(json.dumps({"name": name, "id_number": number}, ensure_ascii=False), encoding="utf-8")
    partial.replace(card_file)  # whole, as docs/card-reader.md says


# -- reading and watching the pages -------------------------------------------


def record_secrets(ctx: Any) -> None:
    """Remember as secrets what the pages of browser context `ctx` send and are given: a
    token or key in an address (a socket's too), a bearer token, the secret fields of
    a JSON body (passwords, ID and phone numbers typed) and of a JSON answer (staff
    tokens, ticket keys and their phone URLs)."""
    from playwright.sync_api import Error

    def in_address(url: str) -> None:
        remember_secrets(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)))

    def sent(request: Any) -> None:
        in_address(request.url)
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if len(bearer) >= SHORTEST_SECRET:
            SECRETS.add(bearer)
        with contextlib.suppress(ValueError, TypeError):  # not JSON, or no body
            remember_secrets(json.loads(request.post_data_buffer or b""))

    def answered(response: Any) -> None:
        if response.headers.get("content-type", "").startswith("application/json"):
            with contextlib.suppress(Error, ValueError):  # gone with its page, or not JSON
                remember_secrets(response.json())

    ctx.on("request", sent)
    ctx.on("response", answered)
    ctx.on("page", lambda p: p.on("websocket", lambda ws: in_address(ws.url)))


def text(p: Any, selector: str) -> str:
    return str(p.inner_text(selector))


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


# -- driving the pages ---------------------------------------------------------


def log_in(p: Any, base: str, user: str = "supervisor", where: str = "#cases") -> None:
    p.set_viewport_size({"width": 1366, "height": 768})
    p.goto(f"{base}/supervisor{where}")
    p.fill("#username", user)
    p.fill("#password", PASSWORDS[user])
    p.click("#loginBtn")
    p.wait_for_selector("#dashView", state="visible", timeout=WAIT_MS)
    p.wait_for_selector("#live[data-state='online']", timeout=WAIT_MS)
    p.wait_for_selector("#casesBadge:not([hidden])", timeout=WAIT_MS)


def choose(p: Any, kind: str, words: str | None = None) -> None:
    p.check(f"#stepKinds input[value='{kind}']")
    if words is not None:
        p.fill("#stepText", words)


def add_step(p: Any, kind: str, words: str | None = None) -> None:
    before = p.locator("#caseDetail ol.steps li").count()
    choose(p, kind, words)
    p.click("#stepSave")
    p.wait_for_function(
        "n => document.querySelectorAll('#caseDetail ol.steps li').length > n", arg=before, timeout=WAIT_MS
    )


# A speechSynthesis with a network voice listed first and a voice of the machine's own:
# what the kiosk says, and with which voice, is kept in window.__spoken.
FAKE_SPEECH = """
window.__spoken = [];
(() => {
  const network = {name: "Cloud zh", lang: "zh-CN", localService: false, voiceURI: "cloud"};
  const local = {name: "Local zh", lang: "zh-CN", localService: true, voiceURI: "local"};
  const synth = {
    getVoices: () => [network, local],
    speak: (u) => window.__spoken.push({text: u.text, voice: u.voice && u.voice.name}),
    cancel: () => {},
  };
  Object.defineProperty(window, "speechSynthesis", {value: synth, configurable: true});
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
})();
"""
