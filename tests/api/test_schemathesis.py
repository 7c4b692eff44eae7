"""Schemathesis fuzzes the API from its own OpenAPI document (issue 13, Production 6).

For every operation of `GET /api/openapi.json`, once per kind of caller (nobody, a
kiosk, a hall screen, a rating pad, staff signed in at window 1, a supervisor), the
schemathesis command line sends its examples, boundary and type-breaking values and
Hypothesis-generated requests to the real server, and checks every answer: no 5xx,
a status the document lists, its content type and schema (the contract's error
shape, with that status's codes), its headers (Retry-After on 429 and 503), unknown
methods answered 405 with Allow, and requests the document forbids refused.
`tests/api/schemathesis.toml` holds the settings; docs/fuzzing.md the longer run.

Fuzzing logs out, signs out, pauses windows and posts notices, so each caller gets a
fresh database (the `server` fixture makes one per test) with four tickets waiting,
and log-out is fuzzed last, in a pass of its own, so it cannot end the credential
under test halfway. Log-in is fuzzed too, but only after the caller has logged in.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.conftest import DISPLAY, KIOSK, RATING, Api

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Test cases per operation and phase: small in CI (about a minute in all); raise it for
# a longer run, e.g. CLEARHALL_FUZZ_EXAMPLES=500 (docs/fuzzing.md).
EXAMPLES = int(os.environ.get("CLEARHALL_FUZZ_EXAMPLES", "5"))
CALLERS = ["anonymous", "kiosk", "display", "rating-pad", "staff-at-window", "supervisor"]
# Everything but log-out first, then log-out alone.
PASSES = (("--exclude-path", "/api/logout"), ("--include-path", "/api/logout"))


async def credential(api: Api, caller: str) -> str | None:
    """The caller's bearer token, in a hall with people waiting (and, for staff, one called)."""
    await api.issue("A")
    await api.issue("A", "elderly")
    await api.issue("B", id_number="440304199001011233")
    await api.issue("C")
    if caller == "staff-at-window":
        await api.sign_in("s1", 1)
        assert (await api.window("s1", 1, "call-next")).status == 200
        return api.tokens["s1"]
    if caller == "supervisor":
        return await api.login("boss")
    return {"anonymous": None, "kiosk": KIOSK, "display": DISPLAY, "rating-pad": RATING}[caller]


async def schemathesis(url: str, token: str | None, *args: str, cwd: Path) -> tuple[int, str]:
    """Run the schemathesis command line against `url`; its exit status and report."""
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color"]
    command += ["run", url, "--max-examples", str(EXAMPLES), *args]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


@pytest.mark.timeout(max(120, EXAMPLES * 30))
@pytest.mark.parametrize("caller", CALLERS)
async def test_schemathesis_finds_nothing_wrong(api: Api, caller: str, tmp_path: Path) -> None:
    token = await credential(api, caller)
    for selection in PASSES:
        status, report = await schemathesis(f"{api.base}/api/openapi.json", token, *selection, cwd=tmp_path)
        assert status == 0, f"schemathesis as {caller}, {' '.join(selection)}:\n{report}"
