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


def id_problem(value: str) -> str | None:
    """Why this ID number is not valid, or None when it is."""
    number = normalise_id(value)
    if not ID_FORMAT.fullmatch(number):
        return "身份证号应为18位 (an ID number has 17 digits and a digit or X)"
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效 (the birth date in the ID number is not a date)"
    if check_digit(number[:17]) != number[17]:
        return "身份证号校验位不正确 (the ID number's check digit is wrong)"
    return None


def phone_problem(value: str) -> str | None:
    if not PHONE_FORMAT.fullmatch(value.strip()):
        return "手机号应为11位数字 (a phone number has 11 digits starting with 1)"
    return None


def keyed_hash(secret: bytes, kind: str, value: str) -> bytes:
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).digest()


def mask(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)
