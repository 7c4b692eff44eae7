"""Typed application keys: everything the app shares lives under one of these."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from .hall import Hall
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", asyncpg.Pool)
HALL = web.AppKey("hall", Hall)
SECRET = web.AppKey("secret", bytes)  # keys the ID-number and phone hashes
