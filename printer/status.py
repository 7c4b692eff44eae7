"""What a printer's status bytes mean.

Owns `PrinterState` (the states of CONTRACT.md section 8) and the reading of the
one-byte replies to the real-time status requests ``DLE EOT n``:

- n=1 printer status: bit 3 set means offline;
- n=2 offline cause: bit 2 cover open, bit 5 stopped at paper end, bit 6 error;
- n=4 roll paper sensor: bits 2-3 paper near end, bits 5-6 paper out.

Every reply has fixed bits (bit 1 and 4 set, bits 0 and 7 clear). A reply whose
fixed bits are wrong is not a status byte (a printer that echoes, or stray job
data), so the state is ``unknown`` rather than a guess.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DLE_EOT: Final = b"\x10\x04"
STATUS_PRINTER: Final = 1
STATUS_OFFLINE_CAUSE: Final = 2
STATUS_PAPER: Final = 4
# The requests a probe sends, in order, each answered by one byte.
STATUS_REQUESTS: Final = (STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER)

_FIXED_MASK: Final = 0b1001_0011
_FIXED_VALUE: Final = 0b0001_0010

_OFFLINE: Final = 0b0000_1000  # n=1
_COVER_OPEN: Final = 0b0000_0100  # n=2
_STOPPED_AT_PAPER_END: Final = 0b0010_0000  # n=2
_ERROR: Final = 0b0100_0000  # n=2
_NEAR_END: Final = 0b0000_1100  # n=4
_PAPER_OUT: Final = 0b0110_0000  # n=4


class PrinterState(StrEnum):
    """A printer's state as shown to supervisors; the value is the API string."""

    READY = "ready"
    OFFLINE = "offline"
    COVER_OPEN = "cover_open"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    UNKNOWN = "unknown"


def status_request(n: int) -> bytes:
    """The ``DLE EOT n`` bytes asking for status `n` (1, 2 or 4)."""
    if n not in STATUS_REQUESTS:
        raise ValueError(f"unsupported status request {n}: use 1, 2 or 4")
    return DLE_EOT + bytes((n,))


def is_status_byte(value: int) -> bool:
    """Whether `value` has the fixed bits every DLE EOT reply carries."""
    return 0 <= value <= 0xFF and value & _FIXED_MASK == _FIXED_VALUE


def parse_status(printer: int, offline_cause: int, paper: int) -> PrinterState:
    """The state from the replies to DLE EOT 1, 2 and 4.

    The most specific trouble wins: paper out, then cover open, then offline
    (for any other reason), then paper near end, which still prints.
    """
    if not all(is_status_byte(b) for b in (printer, offline_cause, paper)):
        return PrinterState.UNKNOWN
    if paper & _PAPER_OUT or offline_cause & _STOPPED_AT_PAPER_END:
        return PrinterState.PAPER_OUT
    if offline_cause & _COVER_OPEN:
        return PrinterState.COVER_OPEN
    if printer & _OFFLINE or offline_cause & _ERROR:
        return PrinterState.OFFLINE
    if paper & _NEAR_END:
        return PrinterState.PAPER_NEAR_END
    return PrinterState.READY


def parse_replies(replies: bytes) -> PrinterState:
    """The state from the three reply bytes in request order (1, 2, 4)."""
    if len(replies) != len(STATUS_REQUESTS):
        return PrinterState.UNKNOWN
    return parse_status(replies[0], replies[1], replies[2])


def status_replies(state: PrinterState) -> bytes:
    """The three reply bytes a printer in `state` sends; for fakes and tests."""
    printer, cause, paper = _FIXED_VALUE, _FIXED_VALUE, _FIXED_VALUE
    if state is PrinterState.PAPER_OUT:
        printer |= _OFFLINE
        cause |= _STOPPED_AT_PAPER_END
        paper |= _PAPER_OUT | _NEAR_END
    elif state is PrinterState.COVER_OPEN:
        printer |= _OFFLINE
        cause |= _COVER_OPEN
    elif state is PrinterState.OFFLINE:
        printer |= _OFFLINE
        cause |= _ERROR
    elif state is PrinterState.PAPER_NEAR_END:
        paper |= _NEAR_END
    elif state is PrinterState.UNKNOWN:
        return b"\x00\x00\x00"
    return bytes((printer, cause, paper))
