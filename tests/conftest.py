"""Test fixtures: a real PostgreSQL and the real app on a real socket.

The database is the one DATABASE_URL names, or else an embedded PostgreSQL
started once for the session in a temporary folder. A template database is
loaded once from schema.sql and tests/hall.toml; every test gets its own
`CREATE DATABASE … TEMPLATE` copy, so tests never see each other's rows.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse, ClientSession, web
from aiohttp.test_utils import TestServer

from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import create_app
from clearhall.server.settings import Settings
from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.embedded_pg import EmbeddedPostgres

HALL_FILE = Path(__file__).parent / "hall.toml"
TEMPLATE = "clearhall_test_template"
PASSWORDS = {s.username: s.password for s in hallfile.load(HALL_FILE).staff}
KIOSK = "test-kiosk-token-1"
DISPLAY = "test-display-token"
RATING = "test-rating-token-1"
_numbers = itertools.count()


def with_database(url: str, name: str) -> str:
    """The same server URL, naming another database (keeps ?host= for sockets)."""
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="clearhall-test-") as folder:
        os.chmod(folder, 0o755)  # the embedded server's system user walks in here when we are root
        pg = EmbeddedPostgres(Path(folder))
        yield pg.start()
        pg.stop()
        keep_log(pg.pgdata / "server.log", "the test PostgreSQL's server.log")


@pytest.fixture(scope="session")
async def template(pg_url: str) -> str:
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
        conn = await asyncpg.connect(with_database(pg_url, TEMPLATE))
        await db.init_connection(conn)
        try:
            await db.apply_schema(conn)
            await db.installation_secret(conn)
            await hall_apply.apply(conn, hallfile.load(HALL_FILE))
        finally:
            await conn.close()
    finally:
        await admin.close()
    return TEMPLATE


@pytest.fixture
async def db_url(pg_url: str, template: str) -> AsyncIterator[str]:
    name = f"clearhall_test_{os.getpid()}_{next(_numbers)}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        yield with_database(pg_url, name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(db_url)
    await db.init_connection(connection)
    yield connection
    await connection.close()


# Every secret the tests send or are given: passwords, tokens, ticket keys and
# phone URLs, ID and phone numbers. None may be in the log of the whole run.
SECRETS: set[str] = set()
SECRET_FIELDS = {"password", "token", "key", "url", "id_number", "phone", "contact"}
SHORTEST_SECRET = 6  # a shorter value ("wrong", "1234") is a word any log may hold

# The logs of the processes the tests start (`clearhall serve`, the kiosk bridge,
# PostgreSQL), by whose they are: kept for the end of the session, as their folders
# are gone by then. A log kept again (it grew) replaces what was kept of it.
PROCESS_LOGS: dict[str, str] = {}
# What `clearhall serve --demo` prints before it starts: every page's address with its
# device token, and the demo's log-ins. Telling them is what the demo is for (they are
# public: server/store/demo_hall.toml); it is the demo's banner, not its log.
DEMO_BANNER = re.compile(r"^clearhall demo hall: .*?^receipts of .*?$", re.MULTILINE | re.DOTALL)
WORDS = re.compile(rf"[A-Za-z0-9_-]{{{SHORTEST_SECRET},}}")


def remember_secrets(value: Any) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            # the server's own masked form of one ("4306**********123X") is not one
            if name in SECRET_FIELDS and isinstance(item, str) and len(item) >= SHORTEST_SECRET:
                if "***" not in item:
                    SECRETS.add(item)
            remember_secrets(item)
    elif isinstance(value, list):
        for item in value:
            remember_secrets(item)


def current_test() -> str:
    """The test running now, and in which phase: "tests/x.py::test_y (call)"."""
    return os.environ.get("PYTEST_CURRENT_TEST", "the session")


def keep_log(log: Path, whose: str = "") -> None:
    """Keep the text of a process's log for the end-of-session check, before its folder
    goes; `whose` names it (by default, the file and the current test)."""
    with contextlib.suppress(FileNotFoundError):  # a process that never started
        text = log.read_text(encoding="utf-8", errors="replace")
        keep_output(whose or f"{log}, of {current_test()}", text)


def keep_output(whose: str, text: str) -> None:
    PROCESS_LOGS[whose] = DEMO_BANNER.sub("[the demo's banner]", text)


def masked(secret: str) -> str:
    return f"{secret[: min(4, len(secret) // 4)]}…({len(secret)} characters)"


def leaks(secrets: set[str], logs: list[tuple[str, str]]) -> list[str]:
    """Where each secret is in the logs: its mask, the log, the line (secrets masked).

    A secret is looked for in the logs' text only when its longest word (a run of letters,
    digits, `_` and `-`) is in one of the logs' words: a secret in a log has each of its
    words inside a word of the log, and the logs' distinct words are far fewer than the
    megabytes of their text, which each of some thousands of secrets would be looked for in."""
    words = "\n".join({word for _, text in logs for word in WORDS.findall(text)})
    found: list[str] = []
    for secret in sorted(s for s in secrets if len(s) >= SHORTEST_SECRET):
        longest = max(WORDS.findall(secret), key=len, default="")
        if longest and longest not in words:
            continue
        for whose, text in logs:
            at = text.find(secret)
            if at < 0:
                continue
            start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
            line = text[start : end if end >= 0 else len(text)]
            for other in sorted((s for s in secrets if s in line), key=len, reverse=True):
                line = line.replace(other, masked(other))
            number = text.count("\n", 0, at) + 1
            found.append(f"{masked(secret)} in {whose}, line {number}: {line[:300]}")
    return found


class LogRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def log_holds_no_secret() -> Iterator[None]:
    """The log of the whole test run must not hold one secret the tests used (issue 8,
    finding 4): the test process's own (every in-process server's, the access log with it,
    at INFO) and every process's the tests started (PROCESS_LOGS: `clearhall serve`'s, the
    test PostgreSQL's). Torn down last of the session's fixtures (autouse, asked first),
    so after the servers and the database have stopped and their logs are kept."""
    root = logging.getLogger()
    recorder, level = LogRecorder(), root.level
    root.addHandler(recorder)
    root.setLevel(logging.INFO)
    SECRETS.update(PASSWORDS.values())
    SECRETS.update({KIOSK, DISPLAY, RATING})
    yield
    root.removeHandler(recorder)
    root.setLevel(level)
    logs = [("the test process's log", "\n".join(recorder.lines)), *PROCESS_LOGS.items()]
    found = leaks(SECRETS, logs)
    if found:  # masked: a failing run's report is itself read and kept
        pytest.fail(
            f"{len(found)} places in the test run's logs hold a secret:\n" + "\n".join(found[:20]),
            pytrace=False,
        )


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


class Api:
    """A client of one running server, speaking HTTP over a real socket."""

    def __init__(self, base: str, session: ClientSession) -> None:
        self.base = base
        self.session = session
        self.tokens: dict[str, str] = {}

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        token: str | None = None,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        record: bool = True,
    ) -> Reply:
        """`record`: remember the secrets the body holds (`False` for made-up bodies, whose
        "key" may be any word — the fuzzers' — that a log line may well hold)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        kwargs: dict[str, Any] = {"headers": sent}
        if json is not None:
            kwargs["json"] = json
            if record:
                remember_secrets(json)
        if data is not None:
            kwargs["data"] = data
        if token is not None:
            SECRETS.add(token)
        async with self.session.request(method, self.base + path, **kwargs) as r:
            reply = Reply(r.status, await _body(r), r.headers)
        remember_secrets(reply.body)
        return reply

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.request("POST", path, json, **kw)

    async def login(self, username: str) -> str:
        if username not in self.tokens:
            r = await self.post("/api/login", {"username": username, "password": PASSWORDS[username]})
            assert r.status == 200, r.body
            self.tokens[username] = r.body["token"]
        return self.tokens[username]

    async def issue(self, service: str = "A", category: str = "normal", **fields: Any) -> dict[str, Any]:
        r = await self.post("/api/tickets", {"service": service, "category": category, **fields}, token=KIOSK)
        assert r.status == 201, r.body
        return r.body["ticket"]

    async def window(self, username: str, n: int, action: str, json: Any = None, **kw: Any) -> Reply:
        token = await self.login(username)
        return await self.post(f"/api/windows/{n}/{action}", json, token=token, **kw)

    async def sign_in(self, username: str, n: int) -> None:
        r = await self.window(username, n, "sign-in")
        assert r.status == 200, r.body


async def _body(r: ClientResponse) -> Any:
    if r.content_type == "application/json":
        return await r.json()
    return await r.text()


def settings_for(url: str, **changes: Any) -> Settings:
    return replace(Settings(database_url=url, pool_size=4), **changes)


@asynccontextmanager
async def app_client(app: web.Application) -> AsyncIterator[tuple[TestServer, Api]]:
    """The real app on a real socket, with clearhall's own access log, and a client of it."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=AccessLogger)
    try:
        async with ClientSession() as session:
            yield server, Api(str(server.make_url("")).rstrip("/"), session)
    finally:
        await server.close()


@pytest.fixture
async def server(db_url: str) -> AsyncIterator[TestServer]:
    # The same access logger as `clearhall serve` uses.
    test_server = TestServer(create_app(settings_for(db_url)), host="127.0.0.1")
    await test_server.start_server(access_log_class=AccessLogger)
    yield test_server
    await test_server.close()


@pytest.fixture
async def api(server: TestServer) -> AsyncIterator[Api]:
    async with ClientSession() as session:
        yield Api(str(server.make_url("")).rstrip("/"), session)
