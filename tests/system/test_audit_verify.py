"""`GET /api/audit/verify` and `clearhall audit verify` (CONTRACT §11): the
running server's sealer chains every action; a superuser's change is named by
both, and the command's exit status says so (0 intact, 1 altered)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import asyncpg

from tests.conftest import Api
from tests.helpers import eventually


async def chained(api: Api, boss: str) -> dict[str, Any]:
    async def all_sealed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get("/api/audit/verify", token=boss)).body
        return body if body["pending"] == 0 and body["entries"] > 0 else None

    return await eventually(all_sealed)


def cli(db_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "clearhall.server.cli",
        "audit",
        "verify",
        "--database-url",
        db_url,
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


async def test_the_server_chains_and_verify_names_a_change(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    boss = await api.login("boss")
    for _ in range(3):
        await api.issue("A")
    intact = await chained(api, boss)
    assert intact["ok"] is True and len(intact["head"]) == 64 and intact["seq"] == intact["entries"]
    assert (await api.get("/api/audit/verify")).status == 401
    assert (await api.get("/api/audit/verify", token=await api.login("s1"))).status == 403

    ok = await asyncio.to_thread(cli, db_url, "--anchor", f"{intact['seq']}:{intact['head']}")
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stderr

    await conn.execute("SET session_replication_role = replica")
    second = await conn.fetchval("SELECT entry_id FROM action_log_chain WHERE seq = 2")
    await conn.execute("UPDATE action_log SET actor_name = '某人' WHERE id = $1", second)
    await conn.execute("SET session_replication_role = DEFAULT")
    altered = (await api.get("/api/audit/verify", token=boss)).body
    assert altered["ok"] is False and altered["first_bad"] == {
        "seq": 2,
        "problem": "changed",
        "entry": second,
    }
    bad = await asyncio.to_thread(cli, db_url)
    assert bad.returncode == 1 and "seq 2 is changed" in bad.stderr


async def test_a_rewritten_chain_fails_against_a_printed_head(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    """An auditor's anchor: rewriting the chain from scratch consistently (as a
    superuser could) still no longer has the day's printed head."""
    boss = await api.login("boss")
    await api.issue("A")
    printed = await chained(api, boss)
    await conn.execute("SET session_replication_role = replica")
    await conn.execute("UPDATE action_log SET reason = 'rewritten'")
    await conn.execute("DELETE FROM action_log_chain")
    await conn.execute("SET session_replication_role = DEFAULT")
    await chained(api, boss)  # the sealer chains the rewritten log afresh: consistent in itself
    anchored = await asyncio.to_thread(cli, db_url, "--anchor", f"{printed['seq']}:{printed['head']}")
    assert anchored.returncode == 1 and "is changed" in anchored.stderr
    assert (await asyncio.to_thread(cli, db_url, "--anchor", "x:y")).returncode == 2
