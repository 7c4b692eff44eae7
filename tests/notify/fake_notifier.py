"""A notifier for the tests: it records every message it is given, and can be told
to fail its first N attempts the way a provider might (echoing the number)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestServer

from clearhall.server.app import create_app
from clearhall.server.notify.conf import NOTIFIER, NOTIFY_CONF, NotifyConf
from clearhall.server.notify.notifiers import Message, Notifier
from tests.conftest import Api, app_client, settings_for

# Short enough for a test to see retries; the sweep is left to the tests that call it.
FAST = NotifyConf(poll_s=0.05, retry_base_s=0.05, retry_max_s=0.1, max_attempts=3, sweep_s=3600.0)


class FakeNotifier:
    def __init__(self, failures: int = 0, pause_s: float = 0.0) -> None:
        self.got: list[Message] = []
        self.tries = 0
        self.failures = failures
        self.pause_s = pause_s

    async def send(self, message: Message) -> None:
        self.tries += 1
        if self.pause_s:
            await asyncio.sleep(self.pause_s)
        if self.tries <= self.failures:
            raise ConnectionError(f"gateway refused {message.address}")
        self.got.append(message)


@asynccontextmanager
async def notifying_server(
    db_url: str, notifier: Notifier, conf: NotifyConf = FAST
) -> AsyncIterator[tuple[TestServer, Api]]:
    """The real app with `notifier` instead of the hall file's."""
    app = create_app(settings_for(db_url))
    app[NOTIFIER] = notifier
    app[NOTIFY_CONF] = conf
    async with app_client(app) as served:
        yield served
