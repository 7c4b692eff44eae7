"""Numbered migrations (CONTRACT §1): run once each, in order, after schema.sql.

The test folders' migrations are numbered from 9001, past the real ones, which the
test database has already applied.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from clearhall.server.store import db


async def test_migrations_run_once_in_order(
    conn: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "9002_second.sql").write_text("INSERT INTO migration_probe VALUES (2);", encoding="utf-8")
    (tmp_path / "9001_first.sql").write_text(
        "CREATE TABLE migration_probe (n int); INSERT INTO migration_probe VALUES (1);", encoding="utf-8"
    )
    (tmp_path / "notes.sql").write_text("this is not a migration", encoding="utf-8")
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path)

    assert await db.apply_schema(conn) == [9001, 9002]
    assert await db.apply_schema(conn) == []  # a second start changes nothing
    assert [r["n"] for r in await conn.fetch("SELECT n FROM migration_probe")] == [1, 2]
    recorded = await conn.fetch(
        "SELECT version, name FROM schema_migrations WHERE version > 9000 ORDER BY version"
    )
    assert [(r["version"], r["name"]) for r in recorded] == [(9001, "first"), (9002, "second")]


async def test_a_failing_migration_leaves_nothing_half_done(
    conn: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "9001_broken.sql").write_text(
        "CREATE TABLE half_done (n int); SELECT no_such_function();", encoding="utf-8"
    )
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path)
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await db.apply_schema(conn)
    assert await conn.fetchval("SELECT to_regclass('half_done')") is None
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE version = 9001") == 0


async def test_the_real_migrations_leave_an_old_database_like_a_new_one(conn: asyncpg.Connection) -> None:
    """0001 adds the ratings' issuer columns to a database made before them."""
    await conn.execute("ALTER TABLE ratings DROP COLUMN issued_by_device, DROP COLUMN issued_by_staff")
    await conn.execute("DELETE FROM schema_migrations")
    assert 1 in await db.apply_schema(conn)
    columns = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'ratings' AND column_name LIKE 'issued_by%'"
    )
    assert {c["column_name"] for c in columns} == {"issued_by_device", "issued_by_staff"}
