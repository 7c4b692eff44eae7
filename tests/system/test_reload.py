"""Hall-file changes without a restart (issue 13, Production item 4): a real
`clearhall serve` reads its --config again on SIGHUP (`clearhall reload
--pid-file`), and the next requests see the new hall, same process; a broken
file is logged and changes nothing; every other process of the hall follows
(NOTIFY), whatever file it was started with."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.conftest import HALL_FILE
from tests.helpers import http_call, serve_process

ORIGINAL = HALL_FILE.read_text(encoding="utf-8")
CHANGED = (
    ORIGINAL.replace('name = "测试政务服务中心"', 'name = "测试政务服务中心（新址）"')
    .replace('opens_at = "00:00"', 'opens_at = "07:00"')
    .replace('name = "企业开办"', 'name = "企业开办（一窗通办）"')
    .replace("max_consecutive_priority = 3", "max_consecutive_priority = 2")
    + '\n[[windows]]\nnumber = 5\nservices = ["B"]\n'
)


def get(base: str, path: str) -> Any:
    status, body = http_call(base + path)
    assert status == 200, body
    return body


def seen(base: str) -> tuple[str, str, str, list[int], int]:
    """What a reload may change, as clients see it: the hall's name and hours, service
    A's name, the windows, the calling rule's green-channel run."""
    services = get(base, "/api/services")
    windows = [w["number"] for w in get(base, "/api/queue")["windows"]]
    run = get(base, "/api/policy")["policy"]["max_consecutive_priority"]
    return services["hall"]["name"], services["hall"]["hours"], services["services"][0]["name"], windows, run


# the last character should be 2: refused when applied, after the rest of the file was
PROXY_WRONG_CHECK_DIGIT = '\n[[proxies]]\nname = "代办员"\nid_number = "430681195001010000"\n'
BEFORE = ("测试政务服务中心", "00:00–23:59", "企业开办", [1, 2, 3, 4], 3)
AFTER = ("测试政务服务中心（新址）", "07:00–23:59", "企业开办（一窗通办）", [1, 2, 3, 4, 5], 2)


async def until(check: Callable[[], Awaitable[bool] | bool], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


def says(log: Path, text: str) -> Callable[[], bool]:
    return lambda: text in log.read_text(encoding="utf-8")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def reload_command(pid_file: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "clearhall.server", "reload", "--pid-file", str(pid_file)]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


async def test_sighup_reloads_the_hall_file_in_place(db_url: str, tmp_path: Path) -> None:
    hall = tmp_path / "hall.toml"
    hall.write_text(ORIGINAL, encoding="utf-8")
    pid_file, log = tmp_path / "serve.pid", tmp_path / "serve.log"
    options = ("--config", str(hall), "--pid-file", str(pid_file))
    async with serve_process(db_url, log, *options) as base:
        pid = int(pid_file.read_text())
        assert seen(base) == BEFORE

        hall.write_text(CHANGED, encoding="utf-8")
        done = await asyncio.to_thread(reload_command, pid_file)
        assert done.returncode == 0 and f"process {pid}" in done.stdout, done.stderr
        await until(lambda: seen(base) == AFTER, f"the reload did not show; see {log}")
        assert int(pid_file.read_text()) == pid and alive(pid)  # no restart
        assert "hall file reloaded" in log.read_text(encoding="utf-8")

        # a broken file, and a file that would move the hall to another zone: logged, nothing changed
        for broken, reason in (
            (CHANGED.replace('services = ["B"]\n', 'services = ["Z"]\n'), 'unknown service "Z"'),
            (CHANGED.replace('name = "企业开办（一窗通办）"', 'name = "X"').replace(
                'timezone = "Asia/Shanghai"', 'timezone = "Asia/Urumqi"'), "timezone Asia/Urumqi"),
            (CHANGED.replace("（新址）", "（旧址）") + PROXY_WRONG_CHECK_DIGIT, "proxies[1].id_number"),
        ):  # fmt: skip
            hall.write_text(broken, encoding="utf-8")
            os.kill(pid, signal.SIGHUP)
            await until(says(log, reason), f"no word of {reason!r} in {log}")
            assert "nothing changed" in log.read_text(encoding="utf-8")
            assert seen(base) == AFTER  # the server serves on, as it was
        assert alive(pid)
    assert not pid_file.exists()  # removed when the server stopped
    assert "Traceback" not in log.read_text(encoding="utf-8")


async def test_every_process_of_the_hall_follows_one_reload(db_url: str, tmp_path: Path) -> None:
    """Two processes of one hall, each started with its own copy of the file: a SIGHUP
    to the first reaches the second through the database, which does not read its own
    (unchanged) file again."""
    first_file, second_file = tmp_path / "first.toml", tmp_path / "second.toml"
    first_file.write_text(ORIGINAL, encoding="utf-8")
    second_file.write_text(ORIGINAL, encoding="utf-8")
    pid_file = tmp_path / "first.pid"
    async with (
        serve_process(db_url, tmp_path / "first.log", "--config", str(first_file), "--pid-file", str(pid_file))
        as first,
        serve_process(db_url, tmp_path / "second.log", "--config", str(second_file)) as second,
    ):  # fmt: skip
        assert seen(first) == seen(second) == BEFORE
        first_file.write_text(CHANGED, encoding="utf-8")
        os.kill(int(pid_file.read_text()), signal.SIGHUP)
        await until(lambda: seen(second) == AFTER, "the second process did not follow")
        assert seen(first) == AFTER
        assert "another process reloaded" in (tmp_path / "second.log").read_text(encoding="utf-8")
