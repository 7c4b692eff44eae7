"""Resident ID numbers (GB 11643-1999) and phone numbers: checking and hiding.

Both are normalised before anything else looks at them (CONTRACT §4): NFKC
(a full-width １ is the digit 1), every space removed, `x` upper-cased; what is
left must be ASCII digits (and a final X), so one person's number in any form
counts against the same limits. Other scripts' digits (٤, ४) are refused, not
read as numbers.

An ID number is checked by its check digit and birth date, then kept only as a
keyed hash (HMAC-SHA256 with the installation secret) and a masked form with
the first 4 and last 4 characters. It is never returned, logged or stored whole.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from clearhall.server.domain import messages
from clearhall.server.domain.text import Text

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CODES = "10X98765432"
# ASCII only: Python's \d would also take other scripts' digits.
ID_FORMAT = re.compile(r"[1-9][0-9]{16}[0-9X]")
PHONE_FORMAT = re.compile(r"1[3-9][0-9]{9}")
SPACES = re.compile(r"[\s\-]+")


def check_digit(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CODES[total % 11]


def normalise_id(value: str) -> str:
    return SPACES.sub("", unicodedata.normalize("NFKC", value)).upper()


def normalise_phone(value: str) -> str:
    return SPACES.sub("", unicodedata.normalize("NFKC", value))


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
    if not PHONE_FORMAT.fullmatch(normalise_phone(value)):
        return messages.PHONE_FORMAT
    return None


def keyed_hash(secret: bytes, kind: str, value: str) -> bytes:
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).digest()


def mask(value: str) -> str:
    """An ID number as staff may see it: the first 4 and last 4 (CONTRACT §4)."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(phone: str) -> str:
    """138****5678: the first three and the last four of a phone number, as is usual in China
    (four of 11 digits hidden: 4+4 would leave only three, 1,000 guesses from the number)."""
    if len(phone) >= 9:
        return phone[:3] + "****" + phone[-4:]
    return phone[:1] + "****" if phone else ""
