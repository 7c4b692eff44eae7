"""The time limits of printing, one frozen `PrintConf` per app (tests shorten them)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class PrintConf:
    """Time limits of printing; tests shorten them through `PRINT_CONF`."""

    issue_budget_s: float = 1.5  # POST /api/tickets spends at most this on printing
    issue_step_s: float = 0.7  # probe, then send: each bounded by this at issue time
    worker_step_s: float = 10.0  # the same, for background retries (raster jobs are big)
    poll_s: float = 1.0  # how often the worker looks for due jobs
    state_poll_s: float = 15.0  # how often each direct printer is asked its state
    probe_timeout_s: float = 2.0
    retry_base_s: float = 5.0  # first retry after this, doubling each time
    retry_max_s: float = 60.0
    max_attempts: int = 8
    # A ticket not printed after this is given up: the citizen has long left the
    # kiosk with the number on screen, and a late ticket would confuse the next one.
    max_age_s: float = 600.0
    lease_s: float = 30.0  # a sent job whose sender vanished is due again after this
    agent_result_s: float = 30.0  # how long an agent may take to report a job
    keep_data_s: float = 86400.0  # job bytes and phone URLs are wiped after this


PRINT_CONF = web.AppKey("print_conf", PrintConf)
