"""Resident ID numbers (GB 11643-1999) and phone numbers: checking and hiding.

An ID number is checked by its check digit and birth date, then kept only as a
keyed hash (HMAC-SHA256 with the installation secret) and a masked form with
the first 4 and last 4 characters. It is never returned, logged or stored whole.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from clearhall.server.domain import messages
from clearhall.server.domain.text import Text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CODES = "10X98765432"
ID_FORMAT = re.compile(r"[1-9]\d{16}[\dX]")
PHONE_FORMAT = re.compile(r"1[3-9]\d{9}")


def check_digit(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CODES[total % 11]


def normalise_id(value: str) -> str:
    return value.strip().upper()


def id_problem(value: str) -> Text | None:
    """Why this ID number is not valid, or None when it is."""
    number = normalise_id(value)
    if not ID_FORMAT.fullmatch(number):
        return messages.ID_FORMAT
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return messages.ID_BIRTH_DATE
    if check_digit(number[:17]) != number[17]:
        return messages.ID_CHECK_DIGIT
    return None


def phone_problem(value: str) -> Text | None:
    if not PHONE_FORMAT.fullmatch(value.strip()):
        return messages.PHONE_FORMAT
    return None


def keyed_hash(secret: bytes, kind: str, value: str) -> bytes:
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).digest()


def mask(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)
