"""Small helpers the tests share; fixtures are in conftest.py."""

from __future__ import annotations

from datetime import date, timedelta

from clearhall.server.domain.idcard import check_digit


def valid_id(n: int) -> str:
    """A resident ID number with a correct GB 11643 check character (born 1950–1977), one per n < 10,000,000."""
    born = date(1950, 1, 1) + timedelta(days=n % 10_000)
    first17 = f"430681{born:%Y%m%d}{n // 10_000 % 1000:03d}"
    return first17 + check_digit(first17)
