"""The hall file's 好差评 settings: `[ratings]`, `[ratings.forward]`, `[calendar]`
and each service's `matter_code` — read (called from `hallfile.parse`) and
stored (called from `hall_apply.apply`), on the hall's row and its services.

`[calendar]` lists closed days (`holidays`) and weekend days that are worked
(`workdays`, 调休); a day in both, or a weekday listed as a workday, is an
error. `[ratings.forward]` is stored for the forwarder to the provincial
platform; its token is never in the file, only the name of the environment
variable that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from clearhall.server.store.db import Connection
from clearhall.server.store.hall_reader import Reader, table

DEFAULT_BAD_REASONS: Final = ("态度冷漠", "办事拖拉", "一次性告知不到位", "多次跑动", "收费不合理", "其他")
MOST_REASONS = 20
MOST_REASON_CHARS = 20
MOST_DAYS_TO_RATE = 365
MOST_FOLLOW_UP_DAYS = 60  # working days
MOST_RETENTION_DAYS = 3650
MOST_CALENDAR_DAYS = 1000
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # 事项编码, 区划代码, 部门编码
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


@dataclass(frozen=True)
class ForwardConf:
    """Where ratings go on the provincial 好差评 platform; no url: forwarding is off."""

    url: str | None = None
    token_env: str | None = None  # the name of the environment variable holding the bearer token
    region_code: str | None = None  # 行政区划代码
    dept_code: str | None = None
    dept_name: str | None = None


@dataclass(frozen=True)
class RatingsConf:
    bad_reasons: tuple[str, ...] = DEFAULT_BAD_REASONS
    rate_within_days: int = 7  # a ticket may be rated this many days after its finish
    follow_up_days: int = 5  # working days to handle a bad rating or a complaint
    contact_retention_days: int = 90  # a case's call-back number is erased this long after it closes
    default_after_days: int = 0  # 0 = no default ratings
    default_score: int = 3
    forward: ForwardConf = field(default_factory=ForwardConf)


@dataclass(frozen=True)
class CalendarConf:
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()


def read_ratings(top: Reader, data: dict[str, Any]) -> RatingsConf:
    reader = Reader(top.source, top.text, table(top, data, "ratings"), "ratings", "ratings")
    reasons = reader.get("bad_reasons", list, list(DEFAULT_BAD_REASONS))
    if not reasons or len(reasons) > MOST_REASONS:
        raise reader.fail("bad_reasons", f"list 1–{MOST_REASONS} reasons")
    for reason in reasons:
        if not isinstance(reason, str) or not reason.strip():
            raise reader.fail("bad_reasons", "each reason is a non-empty string")
        if len(reason.strip()) > MOST_REASON_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in reason):
            raise reader.fail(
                "bad_reasons", f"each reason is one line of at most {MOST_REASON_CHARS} characters"
            )
    cleaned = tuple(r.strip() for r in reasons)
    if len(set(cleaned)) != len(cleaned):
        raise reader.fail("bad_reasons", "a reason appears twice")
    within = reader.positive("rate_within_days", 7, most=MOST_DAYS_TO_RATE)
    follow_up = reader.positive("follow_up_days", 5, most=MOST_FOLLOW_UP_DAYS)
    retention = reader.positive("contact_retention_days", 90, most=MOST_RETENTION_DAYS)
    default_after = reader.number("default_after_days", 0, least=0, most=MOST_DAYS_TO_RATE)
    # A default is never a 差评: nobody gave a reason and there is nobody to call back.
    default_score = reader.number("default_score", 3, least=3, most=5)
    forward = read_forward(reader, reader.get("forward", dict, {}))
    reader.finish()
    return RatingsConf(cleaned, within, follow_up, retention, default_after, default_score, forward)


def read_forward(ratings: Reader, data: dict[str, Any]) -> ForwardConf:
    reader = Reader(ratings.source, ratings.text, data, "ratings.forward", "ratings.forward")
    url = reader.text_value("url", None)
    if url is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise reader.fail("url", "must be an http:// or https:// address")
    token_env = reader.text_value("token_env", None)
    if token_env is not None and not ENV_NAME.fullmatch(token_env):
        raise reader.fail(
            "token_env", "is the NAME of an environment variable (letters, digits, _), not a token"
        )
    conf = ForwardConf(
        url=url,
        token_env=token_env,
        region_code=code_value(reader, "region_code"),
        dept_code=code_value(reader, "dept_code"),
        dept_name=reader.text_value("dept_name", None),
    )
    if conf.dept_name is not None and len(conf.dept_name) > 100:
        raise reader.fail("dept_name", "at most 100 characters")
    reader.finish()
    return conf


def code_value(reader: Reader, key: str) -> str | None:
    value = reader.text_value(key, None)
    if value is not None and not CODE.fullmatch(value):
        raise reader.fail(key, "letters, digits, '.', '_' or '-', at most 64")
    return value


def read_calendar(top: Reader, data: dict[str, Any]) -> CalendarConf:
    reader = Reader(top.source, top.text, table(top, data, "calendar"), "calendar", "calendar")
    holidays = day_list(reader, "holidays")
    workdays = day_list(reader, "workdays")
    for day in workdays:
        if day.weekday() < 5:
            raise reader.fail("workdays", f"{day} is a weekday; list only weekend days worked (调休)")
        if day in holidays:
            raise reader.fail("workdays", f"{day} is also listed in holidays")
    reader.finish()
    return CalendarConf(tuple(sorted(set(holidays))), tuple(sorted(set(workdays))))


def day_list(reader: Reader, key: str) -> list[date]:
    """Dates written as TOML dates (2026-10-01) or strings ("2026-10-01")."""
    values = reader.get(key, list, [])
    if len(values) > MOST_CALENDAR_DAYS:
        raise reader.fail(key, f"at most {MOST_CALENDAR_DAYS} days")
    days = []
    for value in values:
        day = as_date(value)
        if day is None:
            raise reader.fail(key, f'{str(value)[:20]!r} is not a date like "2026-10-01"')
        days.append(day)
    return days


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None  # a moment, not a day
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def matter_code(reader: Reader) -> str | None:
    """A service's 事项编码 on the provincial platform (optional)."""
    return code_value(reader, "matter_code")


# -- the hall row's 好差评 settings
APPLY_HALL = """
UPDATE halls SET rating_bad_reasons = $2, rate_within_days = $3, follow_up_days = $4,
    contact_retention_days = $5, default_after_days = $6, default_score = $7,
    calendar_holidays = $8, calendar_workdays = $9, forward_url = $10, forward_token_env = $11,
    region_code = $12, dept_code = $13, dept_name = $14
WHERE id = $1
"""


async def apply_ratings(
    conn: Connection,
    hall_id: int,
    ratings: RatingsConf,
    calendar: CalendarConf,
    matter_codes: dict[str, str | None],
) -> None:
    """Store the settings on the hall's row and each service's 事项编码 (inside the caller's transaction)."""
    f = ratings.forward
    await conn.execute(
        APPLY_HALL,
        hall_id, list(ratings.bad_reasons), ratings.rate_within_days, ratings.follow_up_days,
        ratings.contact_retention_days, ratings.default_after_days, ratings.default_score,
        list(calendar.holidays), list(calendar.workdays), f.url, f.token_env, f.region_code, f.dept_code,
        f.dept_name,
    )  # fmt: skip
    await conn.executemany(
        "UPDATE services SET matter_code = $3 WHERE hall_id = $1 AND code = $2",
        [(hall_id, code, value) for code, value in matter_codes.items()],
    )
