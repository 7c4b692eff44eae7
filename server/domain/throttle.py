"""Rate limits (CONTRACT §3): failed log-ins, and tickets per kiosk device.

Each limit is a `Rule`: a subject (a username, an address, a device) may make
`burst` attempts at once, and after that one every `every`. The count lives in
the database, one row per subject in `throttles`, bumped by one UPSERT per
attempt (a generic cell rate: the row holds when the allowance is whole
again), so a limit holds across server processes and attempts sent at once
are counted one by one. A refused attempt changes nothing and answers
`429 rate_limited` with the seconds to wait (`retry_after`, which the HTTP
layer turns into `Retry-After`).

A log-in is judged by its username before the password is checked: that
attempt is counted first, in one statement, so guesses at one account sent
in parallel cannot slip past the count; a correct password forgets the
username's failures. The address counts only failures (so a hall whose staff
log in through one address at once is not slowed by its own correct
log-ins): it is checked before the password and counted after a wrong one.
An answer given while the address is over its limit is 429 whether the
password was right or wrong, so guesses that raced past the check learn
nothing.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import timedelta

from clearhall.server.domain import errors, messages
from clearhall.server.domain.errors import DomainError
from clearhall.server.domain.text import Text
from clearhall.server.store.db import Connection


@dataclass(frozen=True)
class Rule:
    scope: str  # what is counted: the `scope` column
    burst: int  # attempts allowed at once
    every: timedelta  # then one attempt per this long

    @classmethod
    def per_minute(cls, scope: str, n: int) -> Rule:
        """n at once, then n a minute."""
        return cls(scope, n, timedelta(minutes=1) / n)


# A person may mistype a few times; after that a username gets 4 tries a
# minute, an address (where a whole hall's staff may sit) 10.
LOGIN_BY_USERNAME = Rule("login_username", 5, timedelta(seconds=15))
LOGIN_BY_ADDRESS = Rule("login_address", 20, timedelta(seconds=6))
KIOSK_TICKETS = "kiosk_tickets"  # a kiosk's rule comes from the hall: policy.kiosk_tickets_per_minute

# -- count one attempt: each pushes full_at one spacing later; an attempt that
# -- would push it more than `burst` spacings ahead of now is refused, and the
# -- row is left as it was (no row returned). {rows}: the attempt (hall, scope,
# -- subject, full_at if it is the first); {every}, {burst}: the rule's
COUNT = """
INSERT INTO throttles AS t (hall_id, scope, subject, full_at)
{rows}
ON CONFLICT (hall_id, scope, subject) DO UPDATE
    SET full_at = greatest(t.full_at, now()) + {every}::interval
    WHERE greatest(t.full_at, now()) + {every}::interval <= now() + {every}::interval * {burst}::int
RETURNING full_at
"""
HIT = COUNT.format(rows="VALUES ($1, $2, $3, now() + $4::interval)", every="$4", burst="$5")

# -- how long until the subject's next attempt would be allowed (not positive: now)
WAIT_S = """
SELECT extract(epoch FROM full_at + $4::interval - (now() + $4::interval * $5::int))
FROM throttles WHERE hall_id = $1 AND scope = $2 AND subject = $3
"""

FORGET = "DELETE FROM throttles WHERE hall_id = $1 AND scope = $2 AND subject = $3"

PURGE = "DELETE FROM throttles WHERE full_at < now()"


async def hit(conn: Connection, hall_id: int, rule: Rule, subject: str) -> int | None:
    """Count one attempt: None when allowed, else the whole seconds to wait."""
    if await conn.fetchval(HIT, hall_id, rule.scope, subject, rule.every, rule.burst) is not None:
        return None
    return await waiting(conn, hall_id, rule, subject) or 1


async def waiting(conn: Connection, hall_id: int, rule: Rule, subject: str) -> int | None:
    """Without counting: None when one more attempt would be allowed, else the whole seconds to wait."""
    wait = await conn.fetchval(WAIT_S, hall_id, rule.scope, subject, rule.every, rule.burst)
    return math.ceil(wait) if wait is not None and wait > 0 else None


async def forget(conn: Connection, hall_id: int, rule: Rule, subject: str) -> None:
    await conn.execute(FORGET, hall_id, rule.scope, subject)


async def purge(conn: Connection) -> int:
    """Remove the rows whose allowance is whole again (they say nothing)."""
    return int((await conn.execute(PURGE)).split()[-1])


def refused(text: Text, seconds: int) -> DomainError:
    return DomainError(errors.RATE_LIMITED, text(seconds=seconds), retry_after=seconds)


def address_key(remote: str | None) -> str:
    """What a client address is counted as: IPv4 as it is, IPv6 by its /64
    (one machine is usually given a whole /64), unknown as one shared subject."""
    if not remote:
        return "unknown"
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return remote[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


# ---------------------------------------------------------------- log-in


async def before_log_in(conn: Connection, hall_id: int, username: str, address: str) -> None:
    """Before the password is checked: 429 while the address is over its limit;
    else the username's attempt is counted, 429 when it is one too many."""
    wait = await waiting(conn, hall_id, LOGIN_BY_ADDRESS, address)
    if wait is None:
        wait = await hit(conn, hall_id, LOGIN_BY_USERNAME, username)
    if wait is not None:
        raise refused(messages.TOO_MANY_LOG_INS, wait)


async def log_in_failed(conn: Connection, hall_id: int, address: str) -> None:
    """A wrong password counts against the address; 429 if it is one too many."""
    wait = await hit(conn, hall_id, LOGIN_BY_ADDRESS, address)
    if wait is not None:
        raise refused(messages.TOO_MANY_LOG_INS, wait)


async def log_in_succeeded(conn: Connection, hall_id: int, username: str, address: str) -> None:
    """A right password: still 429 while the address is over its limit (the answer
    must not tell a right guess from a wrong one); else the username's failures
    are forgotten."""
    wait = await waiting(conn, hall_id, LOGIN_BY_ADDRESS, address)
    if wait is not None:
        raise refused(messages.TOO_MANY_LOG_INS, wait)
    await forget(conn, hall_id, LOGIN_BY_USERNAME, username)


# ---------------------------------------------------------------- kiosks


def kiosk_rule(per_minute: int) -> Rule | None:
    """A kiosk's tickets as the hall limits them; None: no limit (0)."""
    return Rule.per_minute(KIOSK_TICKETS, per_minute) if per_minute > 0 else None


def kiosk_count(rows: str, subject: str, every: str, burst: str) -> str:
    """HIT of a kiosk's ticket as part of a bigger statement (issuing's, which counts the
    ticket in the statement that issues it): one attempt for each row of `rows` (none:
    nothing counted); `subject`, `every`, `burst`: the SQL of the kiosk and of its rule."""
    attempt = f"SELECT $1, '{KIOSK_TICKETS}', {subject}::text, now() + {every}::interval FROM {rows}"
    return COUNT.format(rows=attempt, every=every, burst=burst)


async def kiosk_over(conn: Connection, hall_id: int, per_minute: int, device_id: int) -> DomainError | None:
    """The 429 of a kiosk past its tickets a minute (without counting), else None."""
    rule = kiosk_rule(per_minute)
    wait = await waiting(conn, hall_id, rule, str(device_id)) if rule is not None else None
    return refused(messages.KIOSK_TOO_FAST, wait) if wait is not None else None
