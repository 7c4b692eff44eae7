"""Typed application keys: everything the app shares lives under one of these."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web

from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.token_cache import TokenCache
from clearhall.server.settings import Settings
from clearhall.server.store.read_pool import ReadPool

if TYPE_CHECKING:
    from clearhall.server.live.hub import Hub
    from clearhall.server.metrics import Metrics
    from clearhall.server.printing.worker import Printing

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", asyncpg.Pool)
HALL = web.AppKey("hall", Hall)
SECRET = web.AppKey("secret", bytes)  # keys the ID-number and phone hashes
DB_URL = web.AppKey("db_url", str)  # the database the pool uses
LISTEN_URL = web.AppKey("listen_url", str)  # the event listener's: directly, never through a pooler
READ_DB = web.AppKey("read_db", ReadPool)  # reads that may lag: from a replica if given (docs/replica.md)
HUB: web.AppKey[Hub] = web.AppKey("hub")
TOKENS: web.AppKey[TokenCache[Principal]] = web.AppKey("tokens")  # bearer tokens remembered (token_cache.py)
PRINTING: web.AppKey[Printing] = web.AppKey("printing")  # this process's print worker and agents
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")  # this app's Prometheus registry (metrics.py)
