"""Three processes behind Debian's nginx (issue 13): `clearhall serve --workers 3` on
one database, and nginx in front with docs/nginx/clearhall.conf, only its ports changed.

Everything goes through nginx. A screen's socket on each process sees calls
answered by every process. Kiosks and windows then storm it, and one process
is killed with -9 in the middle: the calls were spread over all three, nginx
routes around the dead one, a POST lost with it is sent again by its client
with the same Idempotency-Key (nginx never repeats a POST), every ticket a kiosk
was answered for is in the database, no ticket is called twice. The process,
started again by its parent, rejoins: it answers, and its screens see the
others' calls. Last, the client's address: each process counts failed log-ins
by the address nginx saw (`--trusted-proxy`), not by a header a client wrote."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from clearhall.server.domain.throttle import LOGIN_BY_ADDRESS
from clearhall.server.workers import HEADER
from tests.conftest import SECRETS
from tests.helpers import alive, eventually, free_port, free_ports, keep_log, worker_pids
from tests.system.conftest import debian_binary

NGINX = Path("/usr/sbin/nginx")
SITE = Path(__file__).resolve().parents[2] / "docs" / "nginx" / "clearhall.conf"
WINDOWS, KIOSKS, TICKETS_EACH = 8, 6, 30  # 180 tickets in the storm
KILL_AFTER = 60  # tickets answered before one process is killed
KIOSK, SCREEN = "nginx-kiosk-token", "nginx-screen-token"
TICKETS = "SELECT t.id, t.status FROM tickets t JOIN halls h ON h.id = t.hall_id WHERE h.code = 'nginx'"
CALLS_LOGGED = "SELECT ticket_id FROM action_log WHERE action = 'call_next'"

pytestmark = pytest.mark.timeout(180)  # about 25 s on two shared cores


def hall_file(folder: Path) -> Path:
    """One service, WINDOWS windows with a staff member each, a kiosk and a hall screen."""
    lines = [
        '[hall]\ncode = "nginx"\nname = "三进程大厅"\nopens_at = "00:00"\ncloses_at = "23:59"\nopen_days = "all"',
        '[policy]\nkiosk_tickets_per_minute = 1000\n[[services]]\ncode = "A"\nname = "综合受理"',
        f'[[devices]]\nname = "kiosk"\nkind = "kiosk"\ntoken = "{KIOSK}"',
        f'[[devices]]\nname = "screen"\nkind = "display"\ntoken = "{SCREEN}"',
    ]
    lines += [f'[[windows]]\nnumber = {n}\nservices = ["A"]\n[[staff]]\nusername = "w{n}"\nname = "窗口{n}"\n'
              f'password = "pw-nginx-{n}"\nwindows = [{n}]' for n in range(1, WINDOWS + 1)]  # fmt: skip
    SECRETS.update({KIOSK, SCREEN})  # no log of the run may hold them, nginx's included
    (folder / "hall.toml").write_text("\n".join(lines) + "\n")
    return folder / "hall.toml"


def nginx_conf(folder: Path, listen: int, upstream: list[int]) -> Path:
    """docs/nginx/clearhall.conf on these ports, in a main nginx.conf of its own whose pid,
    logs and temporary files are in `folder`: it needs no root (on a free port), and the
    machine's own nginx, if any, is left alone."""
    site = SITE.read_text()
    ports = re.findall(r"^    server 127\.0\.0\.1:(\d+) ", site, re.M)
    assert len(ports) == len(upstream), ports
    for old, new in zip(ports, upstream, strict=True):
        site = site.replace(f"127.0.0.1:{old} ", f"127.0.0.1:{new} ")
    site, changed = re.subn(r"^    listen 80;$", f"    listen 127.0.0.1:{listen};", site, flags=re.M)
    assert changed == 1
    site, changed = re.subn(r"^    listen \[::\]:80;\n", "", site, flags=re.M)
    assert changed == 1
    (folder / "clearhall.conf").write_text(site.replace("/var/log/nginx/", f"{folder}/"))
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n" for kind in ("proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # else its workers are nobody, locked out of here
        + f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        + f"error_log {folder / 'error.log'} info;\nevents {{ worker_connections 512; }}\n"
        + f"http {{\n    access_log {folder / 'access.log'};\n    client_body_temp_path {folder / 'body'};\n"
        + f"{temp}    include {folder / 'clearhall.conf'};\n}}\n"
    )
    return folder / "nginx.conf"


class Hall:
    """The processes under test: the `--workers 3` parent (its log shows its children's
    pids) and nginx. Everything it started is killed on the way out, whatever happened."""

    def __init__(self, folder: Path, db_url: str) -> None:
        self.folder, self.db_url = folder, db_url
        self.base_port, self.listen = free_ports(3), free_port()
        self.log = folder / "serve.log"
        self.url = f"http://127.0.0.1:{self.listen}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def workers(self) -> dict[int, int]:  # each worker's number → the pid it was last started with
        return worker_pids(self.log.read_text())

    def spawn(self, *command: str | Path, log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(c) for c in command], stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True
            )  # fmt: skip
        self.processes.append(process)
        return process

    def launch(self) -> None:
        config = hall_file(self.folder)
        self.parent = self.spawn(
            sys.executable, "-m", "clearhall.server", "serve", "--config", config, "--database-url", self.db_url,
            "--workers", "3", "--port", str(self.base_port), "--trusted-proxy", "127.0.0.1", log=self.log,
        )  # fmt: skip
        conf = nginx_conf(self.folder, self.listen, [self.base_port + i for i in range(3)])
        check = subprocess.run([NGINX, "-t", "-p", self.folder, "-c", conf], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.nginx = self.spawn(NGINX, "-p", self.folder, "-c", conf, log=self.folder / "nginx.out")

    async def __aenter__(self) -> Hall:
        try:
            self.launch()
            for port in [*range(self.base_port, self.base_port + 3), self.listen]:
                await answering(self, f"http://127.0.0.1:{port}/healthz")
        except BaseException:
            self.kill_all()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.kill_all()

    def kill_all(self) -> None:
        """Each process started here with its process group: nginx's workers are in its master's,
        and each child of the parent has a group of its own."""
        leaders = [p.pid for p in self.processes]
        with contextlib.suppress(FileNotFoundError):
            leaders += list(self.workers().values())
        for pid in leaders:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        for p in self.processes:
            p.wait(10)
        for log in (self.log, self.folder / "clearhall.access.log"):  # for the session's check
            keep_log(log)  # that no log holds a secret: nginx's own access log too


async def answering(hall: Hall, url: str, worker: str | None = None, within: float = 60) -> None:
    """Until GET `url` is answered 200 (by `worker`, when given)."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as r:
                    if r.status == 200 and worker in (None, r.headers.get(HEADER)):
                        return
            alive_and_in_time = hall.parent.poll() is None and time.monotonic() < deadline
            assert alive_and_in_time, f"{url} not answered by {worker}: {hall.log.read_text()[-3000:]}"
            await asyncio.sleep(0.2)


class Clients:
    """The hall's clients, through nginx: each POST has an Idempotency-Key and is sent again
    with it until answered. It keeps who answered each, and every ticket issued."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        self.tokens: dict[int, str] = {}
        self.answered: list[str] = []  # the worker that answered each POST, in order
        self.issued: list[dict[str, Any]] = []
        self.resent = Counter[int]()  # what made a client send a POST again: a status, 0 for no answer
        self.keys = itertools.count()

    async def post(self, path: str, token: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"key-{next(self.keys)}"}
        body = {"service": "A"} if path == "/api/tickets" else None
        for _ in range(100):
            try:
                async with self.session.post(self.url + path, json=body, headers=headers) as r:
                    if r.status < 300:
                        self.answered.append(r.headers[HEADER])
                        return dict(await r.json())
                    # 502: nginx lost the process with the request (and never sends a POST again)
                    assert r.status in (502, 503, 504), (r.status, await r.text())
                    self.resent[r.status] += 1
            except aiohttp.ClientConnectionError:
                self.resent[0] += 1
            await asyncio.sleep(0.1)
        raise AssertionError(f"{path} never answered")

    async def issue(self) -> dict[str, Any]:
        self.issued.append(dict((await self.post("/api/tickets", KIOSK))["ticket"]))
        return self.issued[-1]

    async def log_in(self, n: int) -> None:
        login = {"username": f"w{n}", "password": f"pw-nginx-{n}"}
        async with self.session.post(self.url + "/api/login", json=login) as r:
            assert r.status == 200, await r.text()
            self.tokens[n] = (await r.json())["token"]
        await self.post(f"/api/windows/{n}/sign-in", self.tokens[n])

    async def call(self, n: int) -> dict[str, Any] | None:
        ticket = (await self.post(f"/api/windows/{n}/call-next", self.tokens[n]))["ticket"]
        return dict(ticket) if ticket else None

    async def finish(self, n: int) -> None:
        await self.post(f"/api/windows/{n}/finish", self.tokens[n])


class Screen:
    """A display's socket through nginx, on whichever process nginx chose; the numbers it saw called."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, worker: str) -> None:
        self.worker, self.called = worker, set[str]()
        self.reader = asyncio.create_task(self.read(ws))

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            data = message.json() if message.type is aiohttp.WSMsgType.TEXT else {}
            if data.get("event") == "ticket.called":
                self.called.add(data["ticket"]["number"])


class Upgrades(aiohttp.TraceConfig):
    """Which process each WebSocket upgrade was answered by (its X-Clearhall-Worker)."""

    def __init__(self) -> None:
        super().__init__()
        self.workers: list[str] = []
        self.on_request_end.append(self.ended)

    async def ended(self, _s: Any, _c: Any, params: aiohttp.TraceRequestEndParams) -> None:
        if params.url.path == "/ws":
            self.workers.append(params.response.headers.get(HEADER, "?"))


async def screens_on(clients: Clients, upgrades: Upgrades, workers: set[str]) -> list[Screen]:
    """A screen's socket on each of `workers`: opened through nginx until it put one on each."""
    found: dict[str, Screen] = {}
    for _ in range(30):
        ws = await clients.session.ws_connect(clients.url.replace("http", "ws", 1) + f"/ws?token={SCREEN}")
        assert (await ws.receive_json())["type"] == "snapshot"
        worker = upgrades.workers[-1]
        if worker in workers and worker not in found:
            found[worker] = Screen(ws, worker)
            if len(found) == len(workers):
                return list(found.values())
        else:
            await ws.close()
    raise AssertionError(f"nginx put no socket on {workers - set(found)}")


async def calls_seen_everywhere(clients: Clients, screens: list[Screen]) -> None:
    """Calls at window 1, one at a time, until each process has answered one; every
    screen, whichever process it is on, sees every one of them."""
    numbers: dict[str, str] = {}  # a number called → the worker that answered the call
    while set(numbers.values()) != {"1", "2", "3"}:
        assert len(numbers) < 30, numbers
        await clients.issue()
        ticket = await clients.call(1)
        assert ticket is not None
        seen = clients.answered[-1] in numbers.values()
        numbers[ticket["number"]] = clients.answered[-1]
        await clients.finish(1)
        if seen:  # round robin over three, three requests a round: one more to move on
            async with clients.session.get(clients.url + "/healthz") as r:
                assert r.status == 200

    async def all_seen() -> bool:
        return all(set(numbers) <= s.called for s in screens)

    await eventually(all_seen, within=20)


async def storm(clients: Clients, hall: Hall, victim: int) -> tuple[list[str], int]:
    """Kiosks issue and every window calls and finishes until the queue is empty; the
    process `victim` is killed once KILL_AFTER tickets are answered. The tickets called
    (by id), and how many answers came before the kill."""
    called: list[str] = []
    killed_at: list[int] = []
    kill_now, kiosks_done = asyncio.Event(), asyncio.Event()

    async def killer() -> None:
        await kill_now.wait()
        # Its parent is held still until the storm is over, so that the rest of the
        # storm surely meets a dead process; then it is let go, to start it again.
        os.kill(hall.parent.pid, signal.SIGSTOP)
        # Frozen first, so that requests are surely inside it when it dies: nginx
        # takes the three processes in turn, so of the requests that brought the next
        # six answers, some went to it and wait there.
        os.kill(victim, signal.SIGSTOP)
        frozen = len(clients.answered)

        async def six_more() -> bool:
            return len(clients.answered) >= frozen + 6

        await eventually(six_more, within=60)
        killed_at.append(len(clients.answered))
        os.kill(victim, signal.SIGKILL)

    async def kiosk() -> None:
        for _ in range(TICKETS_EACH):
            await clients.issue()
            if len(clients.issued) - issued_before >= KILL_AFTER:
                kill_now.set()

    async def window(n: int) -> None:
        while True:
            ticket = await clients.call(n)
            if ticket is not None:
                called.append(ticket["id"])
                await clients.finish(n)
            elif kiosks_done.is_set():
                return  # no more tickets come, and none waits
            else:
                await asyncio.sleep(0.05)

    issued_before = len(clients.issued)
    tasks = [asyncio.create_task(window(n)) for n in range(1, WINDOWS + 1)]
    tasks.append(asyncio.create_task(killer()))
    try:
        await asyncio.gather(*(kiosk() for _ in range(KIOSKS)))
        kiosks_done.set()
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
        os.kill(hall.parent.pid, signal.SIGCONT)
    assert killed_at and not alive(victim)
    return called, killed_at[0]


async def throttled_by_nginx_address(url: str, hall: Hall) -> None:
    """Failed log-ins through nginx from 127.0.0.2, each claiming another address in
    X-Forwarded-For, all count for 127.0.0.2 (nginx appends the address it saw, the one
    `--trusted-proxy 127.0.0.1` believes): once over its limit it is refused even the
    right password, while 127.0.0.3, through the same nginx, logs in."""

    def client(address: str) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))

    right = {"username": "w1", "password": "pw-nginx-1"}
    async with client("127.0.0.2") as liar, client("127.0.0.3") as other:
        for i in itertools.count():
            assert i < 60, "never throttled"
            wrong = {"username": f"nobody-{i}", "password": "wrong"}
            async with liar.post(
                url + "/api/login", json=wrong, headers={"X-Forwarded-For": f"198.51.100.{i}"}
            ) as r:
                if r.status == 429:
                    break
                assert r.status == 401, await r.text()
        assert i >= LOGIN_BY_ADDRESS.burst
        async with liar.post(url + "/api/login", json=right) as r:
            assert r.status == 429
        async with other.post(url + "/api/login", json=right) as r:
            assert r.status == 200
    text = hall.log.read_text()
    assert "'nobody-0' from 127.0.0.2" in text and "198.51.100." not in text


async def test_three_processes_behind_nginx_survive_a_kill(
    db_url: str, conn: asyncpg.Connection, tmp_path: Path
) -> None:
    debian_binary(NGINX, "nginx")
    upgrades = Upgrades()
    async with Hall(tmp_path, db_url) as hall, aiohttp.ClientSession(trace_configs=[upgrades]) as session:
        clients = Clients(session, hall.url)
        for n in range(1, WINDOWS + 1):
            await clients.log_in(n)
        async with session.get(hall.url + "/metrics") as r:
            assert r.status == 404  # scraped on each process's own port, never through nginx

        # a screen on each process sees the calls every process answered
        screens = await screens_on(clients, upgrades, {"1", "2", "3"})
        await calls_seen_everywhere(clients, screens)

        # the storm, with worker 2 killed in the middle of it
        began, victim = len(clients.answered), hall.workers()[2]
        called, killed_at = await storm(clients, hall, victim)
        assert set(clients.answered[began:killed_at]) == {"1", "2", "3"}  # spread over all three
        after = Counter(clients.answered[killed_at:])
        assert after["1"] and after["3"], after  # nginx sent the rest to the living
        # POSTs lost with it were answered 502 by nginx, which never sends a POST twice;
        # their clients sent them again with the same Idempotency-Key
        assert clients.resent[502] >= 1, clients.resent
        assert sorted(called) == sorted(t["id"] for t in clients.issued[-KIOSKS * TICKETS_EACH :])

        # its parent starts it again, and it rejoins: it answers, its screens see the others' calls
        await answering(hall, f"http://127.0.0.1:{hall.base_port + 1}/healthz")
        assert hall.workers()[2] != victim and "worker 2 (port" in hall.log.read_text()
        await answering(hall, hall.url + "/healthz", "2")  # nginx tries it again after fail_timeout (5 s)
        screens = [s for s in screens if s.worker != "2"] + await screens_on(clients, upgrades, {"2"})
        await calls_seen_everywhere(clients, screens)

        # exactly once: every ticket a kiosk was answered for is there, once; each was called once
        ids = [t["id"] for t in clients.issued]
        assert len(set(ids)) == len(ids)
        rows = await conn.fetch(TICKETS)
        assert sorted(r["id"] for r in rows) == sorted(ids) and {r["status"] for r in rows} == {"done"}
        logged = Counter(r["ticket_id"] for r in await conn.fetch(CALLS_LOGGED))
        assert sorted(logged) == sorted(ids) and set(logged.values()) == {1}

        # the client's address is the one nginx saw, whatever a client writes
        await throttled_by_nginx_address(hall.url, hall)

        hall.parent.send_signal(signal.SIGTERM)
        assert hall.parent.wait(60) == 0
        assert not any(alive(pid) for pid in hall.workers().values())
        log = hall.log.read_text()
        assert not any(s in log for s in (KIOSK, SCREEN, "pw-nginx-", *clients.tokens.values()))
        assert not any(t["key"] in log for t in clients.issued)
