"""How credentials are stored: passwords as argon2id, bearer tokens as SHA-256;
and how a bearer token is presented.

Never the password or the token itself. Shared by the hall file (which stores
them) and log-in (which checks them); `bearer` by the API's guard and the live
sockets, which both read a token from a request's `Authorization` header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Protocol

from argon2 import PasswordHasher

# argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Headed(Protocol):
    """Anything with HTTP headers, such as an aiohttp request, which this layer does not import."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def bearer(request: Headed) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
