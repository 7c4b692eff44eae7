"""Bearer tokens remembered in this process: a principal without a database
round trip on every request (issue 13: the session lookup was one of the
call's six round trips).

A token's principal is kept for at most REMEMBER_S seconds and never past its
session's expiry, keyed by the token's hash (the token itself is not kept).
The cache answers only while this process's hub listens on the events
channel, since that is how it hears of a change; a lost listener empties it
and switches it off until it listens again (a change may have been missed).

What empties it, in every process:
- a log-out anywhere (`session.ended` on the events channel; the process that
  logs out also forgets at once, before it answers);
- a hall file applied (staff or devices added, disabled or given new tokens):
  each process reads its hall again (`reload`) and forgets.

What it may hold stale, and why that is safe:
- where a staff member is signed in (`Principal.window`), for a moment after a
  sign-in or sign-out in another process. A stale "signed in here" is caught
  by the window call, which checks under the window's lock; a stale "not here"
  is never believed (`routes.judge_window` asks the database before refusing).
- a log-out in one process reaches the others' caches with its notification,
  about a millisecond later on one database; a hall-file change whose
  notification is lost is forgotten after REMEMBER_S at the latest.
"""

from __future__ import annotations

import time
from typing import Final, Generic, TypeVar

P = TypeVar("P")  # auth.Principal

REMEMBER_S: Final = 30.0
MOST: Final = 20_000  # entries; past this the cache starts again (only valid tokens get in)


class TokenCache(Generic[P]):
    def __init__(self) -> None:
        self.entries: dict[bytes, tuple[P, float]] = {}
        self.enabled = False

    def get(self, digest: bytes) -> P | None:
        if not self.enabled:
            return None
        found = self.entries.get(digest)
        if found is None:
            return None
        principal, until = found
        if time.monotonic() >= until:
            del self.entries[digest]
            return None
        return principal

    def put(self, digest: bytes, principal: P, expires_in_s: float | None) -> None:
        if not self.enabled:
            return
        if len(self.entries) >= MOST:
            self.entries.clear()
        keep = REMEMBER_S if expires_in_s is None else min(REMEMBER_S, expires_in_s)
        self.entries[digest] = (principal, time.monotonic() + keep)

    def forget(self) -> None:
        self.entries.clear()

    def listening(self, on: bool) -> None:
        """The hub's listener is up (`on`) or lost: off, the cache forgets and stays off."""
        self.entries.clear()
        self.enabled = on
