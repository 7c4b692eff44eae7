"""Numbered migrations (CONTRACT §1): run once each, in order, after schema.sql."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from clearhall.server.store import db


async def test_migrations_run_once_in_order(
    conn: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "0002_second.sql").write_text("INSERT INTO migration_probe VALUES (2);", encoding="utf-8")
    (tmp_path / "0001_first.sql").write_text(
        "CREATE TABLE migration_probe (n int); INSERT INTO migration_probe VALUES (1);", encoding="utf-8"
    )
    (tmp_path / "notes.sql").write_text("this is not a migration", encoding="utf-8")
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path)

    assert await db.apply_schema(conn) == [1, 2]
    assert await db.apply_schema(conn) == []  # a second start changes nothing
    assert [r["n"] for r in await conn.fetch("SELECT n FROM migration_probe")] == [1, 2]
    recorded = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["name"]) for r in recorded] == [(1, "first"), (2, "second")]


async def test_a_failing_migration_leaves_nothing_half_done(
    conn: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "0001_broken.sql").write_text(
        "CREATE TABLE half_done (n int); SELECT no_such_function();", encoding="utf-8"
    )
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path)
    with pytest.raises(asyncpg.UndefinedFunctionError):
        await db.apply_schema(conn)
    assert await conn.fetchval("SELECT to_regclass('half_done')") is None
    assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 0
