"""The file transport keeps what it creates to itself: a spool file holds
phone URLs with ticket keys, so a new one is made 0600 whatever the umask,
an existing file or device node keeps the mode it has, and a file another
user put in the way first (or a link) gets nothing."""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearhall.printer.transport import PrintError, send

TIMEOUT = 2.0


@pytest.fixture
def open_umask() -> Iterator[None]:
    # The usual umask (022) would make a new file world-readable.
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_spool_file_is_private(tmp_path: Path, open_umask: None) -> None:
    spool = tmp_path / "printer.bin"
    await send(f"file://{spool}", b"https://hall.example.cn/t/abc?key=secret", timeout=TIMEOUT)
    assert mode(spool) == 0o600
    await send(f"file://{spool}", b"again", timeout=TIMEOUT)
    assert mode(spool) == 0o600
    assert spool.read_bytes().endswith(b"again")


async def test_an_existing_file_keeps_its_mode(tmp_path: Path, open_umask: None) -> None:
    # Stands for a device node such as /dev/usb/lp0, whose mode is the system's to set.
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    device.chmod(0o660)
    await send(f"file://{device}", b"ticket", timeout=TIMEOUT)
    assert mode(device) == 0o660
    assert device.read_bytes() == b"ticket"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a file of another user")
async def test_a_file_another_user_put_there_first_gets_nothing(tmp_path: Path) -> None:
    # /tmp/clearhall-demo-printer.bin made ahead, world-readable, by someone else
    trap = tmp_path / "printer.bin"
    trap.write_bytes(b"")
    trap.chmod(0o666)
    nobody = pwd.getpwnam("nobody")
    os.chown(trap, nobody.pw_uid, nobody.pw_gid)
    with pytest.raises(PrintError, match="belongs to another user"):
        await send(f"file://{trap}", b"key=secret", timeout=TIMEOUT)
    assert trap.read_bytes() == b""


async def test_a_link_gets_nothing(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    link = tmp_path / "printer.bin"
    link.symlink_to(elsewhere)
    with pytest.raises(PrintError, match="is a link"):
        await send(f"file://{link}", b"key=secret", timeout=TIMEOUT)
    assert elsewhere.read_bytes() == b""
