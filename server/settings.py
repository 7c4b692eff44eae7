"""Settings for one server process, built from the command line or by tests."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path


def default_data_dir() -> Path:
    """Where the embedded database lives unless --data-dir says otherwise.

    root (a service install): /var/lib/clearhall; anyone else:
    $XDG_DATA_HOME/clearhall, i.e. ~/.local/share/clearhall.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/clearhall")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clearhall"


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # None: start the embedded PostgreSQL
    # A streaming replica for the reads that may lag (reports, charts, figures,
    # signals, the log's listing), used while at most reports_max_lag_s behind
    # (docs/replica.md); None: they read the primary.
    reports_database_url: str | None = None
    reports_max_lag_s: float = 10.0
    listen_database_url: str | None = None  # the event listener's direct connection (default: database_url)
    pgbouncer: bool = False  # database_url is a pooler in transaction mode: no prepared statements kept
    data_dir: Path = field(default_factory=default_data_dir)
    config: Path | None = None  # the hall file
    hall: str | None = None  # which hall of the database to serve, by code (default: the only one)
    demo: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    pool_size: int = 8
    session_hours: int = 12  # a staff log-in lasts one working day
    max_body: int = 64 * 1024
    # How long a client may stay silent: before its request's headers are in,
    # between requests on a kept-alive connection, and in the middle of a body.
    # Slow or silent clients are cut off after it (a screen's socket is kept
    # alive by its own heartbeat instead).
    idle_timeout_s: float = 15.0
    # Proxies whose X-Forwarded-For names the client (--trusted-proxy; api/forwarded.py).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # Child K of `serve --workers N` (server/workers.py): the embedded database,
    # if used, is its parent's to start and to stop.
    worker: int | None = None
