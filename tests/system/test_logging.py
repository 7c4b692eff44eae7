"""The log of a real `clearhall serve` (issue 8, finding 4): an access line per request
with the credential's kind, INFO on although python-escpos calls basicConfig, no line
forged by a CR/LF in a path, and not one secret the run used."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import ClientSession

from tests.conftest import KIOSK, PASSWORDS
from tests.helpers import serve_process, valid_id


async def test_the_log_has_every_request_and_no_secret(db_url: str, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    secrets = {KIOSK, *PASSWORDS.values()}
    async with serve_process(db_url, log) as base, ClientSession() as session:
        person, phone = valid_id(31337), "13912345678"
        secrets |= {person, phone}
        async with session.post(
            base + "/api/tickets", json={"service": "B", "id_number": person, "phone": phone},
            headers={"Authorization": f"Bearer {KIOSK}"},
        ) as r:  # fmt: skip
            ticket = (await r.json())["ticket"]
        secrets |= {ticket["key"], ticket["url"]}
        async with session.get(f"{base}/api/tickets/{ticket['id']}?key={ticket['key']}") as r:
            assert r.status == 200
        async with session.post(
            base + "/api/login", json={"username": "s1", "password": PASSWORDS["s1"]}
        ) as r:
            token = (await r.json())["token"]
        secrets.add(token)
        async with session.post(
            base + "/api/login", json={"username": "s1", "password": "wrong-guess-42"}
        ) as r:
            assert r.status == 401
        secrets.add("wrong-guess-42")
        async with session.get(f"{base}/ws?token={token}"):
            pass
        async with session.get(base + "/api/nothing%0a2026-01-01 00:00:00,000 INFO forged: admin logged in"):
            pass
    text = log.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert any(" GET /healthz 200 " in line for line in lines), text[-2000:]
    assert any(" POST /api/tickets 201 " in line and line.endswith(" kiosk") for line in lines), text[-2000:]
    assert any(" POST /api/login 401 " in line for line in lines)
    assert not any(line.startswith("2026-01-01") for line in lines), "a path forged a log line"
    assert any("\\n2026-01-01" in line for line in lines)  # it is there, escaped, on its own line
    for secret in secrets:
        assert secret not in text, f"a secret is in the log: {secret[:4]}…"


async def test_a_request_aiohttp_cannot_parse_leaves_no_header_in_the_log(
    db_url: str, tmp_path: Path
) -> None:
    """A token with a stray NUL (a kiosk's firmware, a fuzzer) makes the request unreadable:
    aiohttp answers 400 itself and would log the bad header line, token and all. The log
    says a malformed request was refused, by whom and what kind, and nothing of it."""
    log = tmp_path / "serve.log"
    async with serve_process(db_url, log) as base:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"GET /api/me HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KIOSK}\x00\r\n\r\n".encode()
        )
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        assert status_line.split()[1] == b"400", status_line
    text = log.read_text(encoding="utf-8")
    assert KIOSK not in text, "the token of a malformed request is in the log"
    assert "a malformed HTTP request from 127.0.0.1 was refused (" in text, text[-2000:]
    assert "Traceback" not in text
