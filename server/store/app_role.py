"""The role the server works as: everything it needs, and on the action log and
its chain only SELECT and INSERT (CONTRACT §11). The log's triggers refuse
UPDATE, DELETE and TRUNCATE too, but a superuser can switch triggers off; a
role without the privilege cannot change the record whatever it sends.

At start, on the connection that applied the schema (the tables' owner), the
role `clearhall_app` is made (once per cluster) and given its privileges (again
at every start, so tables of new migrations are covered); the pool then opens
its connections as it: the embedded database logs the server in as the role
itself (pg_ident.conf maps the server's OS user to it); a DATABASE_URL's user
works as it through the startup parameter `role` (SET ROLE, which SQL on the
connection could undo: a warning at start says to give the server a login role
of its own). A user that may not make the role (no CREATEROLE) keeps working as
itself, with a warning: see docs/operating.md, "The database role". An owner
that may not join a role a superuser made (the least-privilege setup, where the
server logs in as clearhall_app) still gives it its privileges, which is all
`clearhall migrate` needs of it.
"""

from __future__ import annotations

import logging
from typing import Final

import asyncpg

from clearhall.server.store.db import SCHEMA_LOCK, Connection

log = logging.getLogger(__name__)

APP_ROLE: Final = "clearhall_app"
APPEND_ONLY: Final = ("action_log", "action_log_chain", "cards", "card_notes")

MAKE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- another database of this cluster made it at the same moment
END
$$;
"""

GRANTS = f"""
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
REVOKE UPDATE, DELETE, TRUNCATE ON {", ".join(APPEND_ONLY)} FROM {APP_ROLE};
"""

# -- who the connection is (session_user) and works as (current_user): SET ROLE
# -- can be undone by RESET ROLE, so the one it logged in as is what counts
WHO = """
SELECT session_user AS name, current_user AS works_as, r.rolsuper AS superuser,
       pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = 'action_log'::regclass), 'USAGE')
           AS owns_log
FROM pg_roles r WHERE r.rolname = session_user
"""


OWNS_SCHEMA = """
SELECT coalesce((SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class
                 WHERE oid = to_regclass('public.action_log')), true)
"""


async def owns_schema(conn: Connection) -> bool:
    """Whether this connection may apply the schema: it owns the tables (or there are none yet)."""
    return bool(await conn.fetchval(OWNS_SCHEMA))


# a user works as the role (SET ROLE, the pool's startup parameter) as its member; the
# grant is given anew at every start, as a user that made the role may (PostgreSQL 16:
# whose own membership may not allow SET)
JOIN = f"GRANT {APP_ROLE} TO CURRENT_USER"


async def grant(conn: Connection, *, login: bool = False) -> bool:
    """Make the role (when it is not there yet) and give it its privileges on the
    tables, which their owner may always do; False (with a warning) when the role
    is not there and this user may not make it. `login`: the embedded database,
    where the server's OS user logs in as the role (pg_ident.conf)."""
    try:
        async with conn.transaction():
            # one process at a time: two GRANTs on one table at once fail ("tuple concurrently updated")
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
            await conn.execute(MAKE_ROLE)
            await conn.execute(GRANTS)
            if login:
                await conn.execute(f"ALTER ROLE {APP_ROLE} LOGIN")
    except asyncpg.InsufficientPrivilegeError as exc:
        log.warning(
            "the database user may not create the role %s (%s): the server works as itself, and the"
            " action log is protected by its triggers only; see docs/operating.md, 'The database role'",
            APP_ROLE, exc,
        )  # fmt: skip
        return False
    return True


async def prepare(conn: Connection, *, login: bool = False) -> str | None:
    """The role made and given its privileges (`grant`): the role to work as, or None
    (with a warning) when this user may not work as it. A tables' owner without the
    right to join the role (the least-privilege setup of docs/operating.md, where
    the server logs in as clearhall_app itself) has still given it its privileges."""
    if not await grant(conn, login=login):
        return None
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SCHEMA_LOCK)
            await conn.execute(JOIN)
    except asyncpg.InsufficientPrivilegeError as exc:
        log.warning(
            "%s has its privileges, but this database user may not work as it (%s): the server works"
            " as itself; log it in as %s instead (docs/operating.md, 'The database role')",
            APP_ROLE, exc, APP_ROLE,
        )  # fmt: skip
        return None
    return APP_ROLE


async def check(conn: Connection) -> dict[str, object]:
    """Who the pool works as: a warning at start when it could change the log."""
    row = await conn.fetchrow(WHO)
    who = dict(row) if row else {}
    if who.get("superuser") or who.get("owns_log"):
        log.warning(
            "the server logs in to the database as %s, which %s (it works as %s, but SQL sent on its"
            " connections could undo that): give it a login role of its own (docs/operating.md,"
            " 'The database role')",
            who.get("name"), "is a superuser" if who.get("superuser") else "owns the action log",
            who.get("works_as"),
        )  # fmt: skip
    return who
