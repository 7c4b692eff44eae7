"""Start-up against a database that does not answer: `clearhall serve` tries
for a while, logging each attempt, then stops with one sentence naming where
it looked (exit code 1), never a traceback and never the URL's password."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.helpers import free_port


def test_unreachable_database_url_ends_in_a_sentence() -> None:
    closed = free_port()  # nothing listens there
    env = {**os.environ, "CLEARHALL_DATABASE_WAIT": "3"}
    env.pop("DATABASE_URL", None)
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "clearhall.server",
            "serve",
            "--database-url",
            f"postgresql://user:secret@127.0.0.1:{closed}/x",
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    took = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "secret" not in output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("clearhall: "), output
    assert f"127.0.0.1:{closed}" in last and "database x" in last, last
    # it tried more than once, said so each time, and gave up about when told
    assert output.count("retrying") >= 2, output
    assert 3 <= took < 30, took
