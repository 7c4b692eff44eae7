"""How credentials are stored: passwords as argon2id, bearer tokens as SHA-256.

Never the password or the token itself. Shared by the hall file (which stores
them) and log-in (which checks them).
"""

from __future__ import annotations

import hashlib

from argon2 import PasswordHasher

# argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
