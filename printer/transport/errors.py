"""What goes wrong reaching a printer: `PrintError`, and `AddressError` for an
address that cannot be used at all. Messages name the printer and say what a
hall's IT person can do about it."""

from __future__ import annotations


class PrintError(Exception):
    """A job could not be delivered, or a printer could not be reached."""


class AddressError(PrintError, ValueError):
    """A printer address that cannot be used; raised when it is parsed."""
