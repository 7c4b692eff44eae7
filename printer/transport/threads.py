"""Blocking printer I/O (files, USB, serial) run in a thread, on the caller's time."""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from clearhall.printer.transport.address import Address
from clearhall.printer.transport.errors import PrintError

_T = TypeVar("_T")


async def in_thread(target: Address, timeout: float, stage: str, work: Callable[[], _T]) -> _T:
    """`work()` in a thread, or PrintError once `timeout` seconds have passed."""
    # The thread carries its own device timeouts; this bound is for the caller.
    # A thread stuck in the kernel (a wedged device node) cannot be cancelled
    # and finishes on its own, but the caller gets its answer on time.
    try:
        return await asyncio.wait_for(asyncio.to_thread(work), timeout)
    except TimeoutError:
        raise PrintError(f"timed out after {timeout:g} s {stage} printer {target}") from None
