"""The hub's own watch over staff log-ins (server/live/hub.py, `session_watch`):
every SESSION_CHECK_S it closes, with 4401, the sockets whose session expired or
whose staff member a supervisor disabled (removed from the hall file, which a
reload deactivates). Nothing here calls `check_sessions`; the watch does."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from aiohttp import WSMsgType

from clearhall.server.app import create_app
from clearhall.server.live import hub
from clearhall.server.reload import RELOADER
from clearhall.server.reload import install as install_reload
from clearhall.server.store.credentials import token_hash
from tests.conftest import DISPLAY, HALL_FILE, app_client, settings_for
from tests.helpers import connect, next_event
from tests.live.helpers import closed, still_open

S2 = '[[staff]]\nusername = "s2"\nname = "王强"\npassword = "password-s2"\nwindows = [2, 1]\n\n'


async def test_the_watch_closes_expired_and_disabled_log_ins_by_itself(
    db_url: str, conn: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub, "SESSION_CHECK_S", 0.2)  # read by the watch before each round
    hall_file = tmp_path / "hall.toml"
    text = HALL_FILE.read_text(encoding="utf-8")
    assert S2 in text
    hall_file.write_text(text, encoding="utf-8")
    app = create_app(settings_for(db_url, config=hall_file))
    install_reload(app, signals=False)
    async with app_client(app) as (_, api):
        expiring, disabled = await api.login("s1"), await api.login("s2")
        sockets = {
            "expiring": await connect(api, f"token={expiring}"),
            "disabled": await connect(api, f"token={disabled}"),
            "boss": await connect(api, f"token={await api.login('boss')}"),
            "screen": await connect(api, f"token={DISPLAY}"),
        }
        for ws in sockets.values():
            await next_event(ws, "snapshot")
        await asyncio.sleep(1.0)  # several rounds of the watch: a live log-in is left alone
        for ws in sockets.values():
            await still_open(ws, api)

        await conn.execute(
            "UPDATE sessions SET expires_at = now() WHERE token_hash = $1", token_hash(expiring)
        )
        hall_file.write_text(text.replace(S2, ""), encoding="utf-8")  # a supervisor removes s2
        assert await app[RELOADER].reload_file() is not None
        assert await conn.fetchval("SELECT active FROM staff WHERE username = 's2'") is False

        for name in ("expiring", "disabled"):
            end = await closed(sockets[name], within=3.0)
            assert end.type == WSMsgType.CLOSE and end.data == hub.SESSION_ENDED_CLOSE, (name, end)
        for name in ("boss", "screen"):
            await still_open(sockets[name], api)
            await sockets[name].close()
