"""Status bytes: the replies to DLE EOT 1, 2 and 4 and the state they mean."""

from __future__ import annotations

import pytest

from clearhall.printer.status import (
    PrinterState,
    is_status_byte,
    parse_replies,
    parse_status,
    status_replies,
    status_request,
)

READY = 0x12  # fixed bits only: 0001 0010


def test_requests_are_dle_eot_n() -> None:
    assert status_request(1) == b"\x10\x04\x01"
    assert status_request(2) == b"\x10\x04\x02"
    assert status_request(4) == b"\x10\x04\x04"
    with pytest.raises(ValueError):
        status_request(3)


@pytest.mark.parametrize(
    ("printer", "cause", "paper", "state"),
    [
        (READY, READY, READY, PrinterState.READY),
        (0x16, READY, READY, PrinterState.READY),  # drawer pin high is not trouble
        (0x1A, READY, READY, PrinterState.OFFLINE),  # offline bit
        (0x1A, 0x52, READY, PrinterState.OFFLINE),  # offline with an error
        (0x1A, 0x16, READY, PrinterState.COVER_OPEN),
        (READY, READY, 0x1E, PrinterState.PAPER_NEAR_END),
        (0x1A, 0x32, 0x7E, PrinterState.PAPER_OUT),
        (READY, READY, 0x72, PrinterState.PAPER_OUT),  # sensor says out
        (0x1A, 0x36, 0x7E, PrinterState.PAPER_OUT),  # out beats cover open
        (0x1A, 0x16, 0x1E, PrinterState.COVER_OPEN),  # open beats near end
    ],
)
def test_reply_bits_map_to_states(printer: int, cause: int, paper: int, state: str) -> None:
    assert parse_status(printer, cause, paper) == state


@pytest.mark.parametrize(
    "bad",
    [
        0x00,  # bits 1 and 4 must be set
        0xFF,  # bits 0 and 7 must be clear
        0x10,  # DLE echoed back by a device that is not a printer
        0x13,
        0x92,
        0x02,
    ],
)
@pytest.mark.parametrize("position", [0, 1, 2])
def test_wrong_fixed_bits_are_unknown(bad: int, position: int) -> None:
    replies = [READY, READY, READY]
    replies[position] = bad
    assert not is_status_byte(bad)
    assert parse_status(*replies) == PrinterState.UNKNOWN


def test_a_short_reply_is_unknown() -> None:
    assert parse_replies(bytes([READY, READY])) == PrinterState.UNKNOWN
    assert parse_replies(b"") == PrinterState.UNKNOWN


@pytest.mark.parametrize("state", list(PrinterState))
def test_fake_replies_read_back_as_their_state(state: PrinterState) -> None:
    assert parse_replies(status_replies(state)) == state


def test_states_are_the_contract_strings() -> None:
    assert {s.value for s in PrinterState} == {
        "ready",
        "offline",
        "cover_open",
        "paper_near_end",
        "paper_out",
        "unknown",
    }
