"""The hall file's 好差评 keys: [ratings], [ratings.forward], [calendar] and a
service's matter_code — their defaults, what check-config refuses (with the
line), and where loading stores them."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from clearhall.server.store import hall_apply, hallfile
from clearhall.server.store.hall_ratings import DEFAULT_BAD_REASONS
from clearhall.server.store.hall_reader import HallFileError
from tests.conftest import HALL_FILE

BASE = HALL_FILE.read_text(encoding="utf-8")

OWN = """
[ratings]
bad_reasons = ["等候时间长", "窗口无人"]
rate_within_days = 3
follow_up_days = 10
contact_retention_days = 30
default_after_days = 15
default_score = 5

[ratings.forward]
url = "https://hcp.example.gov.cn/api/evaluate"
token_env = "HCP_TOKEN"
region_code = "430681"
dept_code = "11430681MB1234567X"
dept_name = "汨罗市行政审批服务局"

[calendar]
holidays = ["2026-10-01", 2026-10-02]
workdays = ["2026-10-10"]
"""


def with_matter_code(text: str) -> str:
    return text.replace(
        'code = "A"\nname = "企业开办"\n',
        'code = "A"\nname = "企业开办"\nmatter_code = "430681-000-XK-001"\n',
    )


def test_defaults_when_the_file_says_nothing() -> None:
    conf = hallfile.parse(BASE, "hall.toml")
    r = conf.ratings
    assert r.bad_reasons == DEFAULT_BAD_REASONS and "态度冷漠" in r.bad_reasons
    assert (r.rate_within_days, r.follow_up_days, r.contact_retention_days) == (7, 5, 90)
    assert (r.default_after_days, r.default_score) == (0, 3)
    assert r.forward.url is None and r.forward.token_env is None
    assert conf.calendar.holidays == () and conf.calendar.workdays == ()


def test_the_halls_own_settings_are_read() -> None:
    conf = hallfile.parse(with_matter_code(BASE) + OWN, "hall.toml")
    assert conf.ratings.bad_reasons == ("等候时间长", "窗口无人")
    assert conf.ratings.follow_up_days == 10 and conf.ratings.default_score == 5
    assert conf.ratings.forward.url == "https://hcp.example.gov.cn/api/evaluate"
    assert conf.ratings.forward.region_code == "430681" and conf.ratings.forward.token_env == "HCP_TOKEN"
    assert conf.calendar.holidays == (date(2026, 10, 1), date(2026, 10, 2))  # strings or TOML dates
    assert conf.calendar.workdays == (date(2026, 10, 10),)
    assert conf.services[0].matter_code == "430681-000-XK-001" and conf.services[1].matter_code is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[calendar]\nworkdays = ["2026-10-12"]\n', "calendar.workdays: 2026-10-12 is a weekday"),
        ('[calendar]\nholidays = ["2026-10-10"]\nworkdays = ["2026-10-10"]\n', "also listed in holidays"),
        ('[calendar]\nholidays = ["2026-02-30"]\n', "calendar.holidays: '2026-02-30' is not a date"),
        ("[calendar]\nholidays = [20261001]\n", "is not a date"),
        ("[ratings]\ndefault_score = 2\n", "ratings.default_score: must be 3 or more"),
        ("[ratings]\nfollow_up_days = 0\n", "ratings.follow_up_days: must be 1 or more"),
        ("[ratings]\nbad_reasons = []\n", "ratings.bad_reasons"),
        ('[ratings]\nbad_reasons = ["其他", "其他"]\n', "appears twice"),
        ("[ratings]\nrate_within = 3\n", 'unknown key "rate_within"'),
        ('[ratings.forward]\nurl = "ftp://x"\n', "ratings.forward.url: must be an http"),
        ('[ratings.forward]\ntoken_env = "Bearer abc.def"\n', "ratings.forward.token_env: is the NAME"),
        ('[ratings.forward]\nregion_code = "43 06"\n', "ratings.forward.region_code"),
        ('[ratings.forward]\nsecret = "x"\n', 'unknown key "secret"'),
    ],
)
def test_mistakes_are_named_with_their_line(extra: str, message: str) -> None:
    text = BASE + "\n" + extra
    with pytest.raises(HallFileError) as caught:
        hallfile.parse(text, "hall.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("hall.toml:")


def test_the_demo_hall_has_chinas_2026_calendar() -> None:
    demo = hallfile.load(hallfile.DEMO)
    assert date(2026, 10, 1) in demo.calendar.holidays and date(2026, 2, 17) in demo.calendar.holidays
    assert date(2026, 10, 10) in demo.calendar.workdays and date(2026, 2, 14) in demo.calendar.workdays
    assert all(d.weekday() >= 5 for d in demo.calendar.workdays)


async def test_loading_stores_them_where_the_server_reads_them(conn: asyncpg.Connection) -> None:
    conf = hallfile.parse(with_matter_code(BASE) + OWN, "hall.toml")
    await hall_apply.apply(conn, conf)
    hall = await conn.fetchrow("SELECT * FROM halls")
    assert hall is not None
    assert hall["rating_bad_reasons"] == ["等候时间长", "窗口无人"]
    assert (hall["rate_within_days"], hall["follow_up_days"], hall["contact_retention_days"]) == (3, 10, 30)
    assert (hall["default_after_days"], hall["default_score"]) == (15, 5)
    assert hall["calendar_holidays"] == [date(2026, 10, 1), date(2026, 10, 2)]
    assert hall["calendar_workdays"] == [date(2026, 10, 10)]
    forward = (
        hall["forward_url"],
        hall["forward_token_env"],
        hall["region_code"],
        hall["dept_code"],
        hall["dept_name"],
    )
    assert forward == ("https://hcp.example.gov.cn/api/evaluate", "HCP_TOKEN", "430681", "11430681MB1234567X",
                       "汨罗市行政审批服务局")  # fmt: skip
    codes = {r["code"]: r["matter_code"] for r in await conn.fetch("SELECT code, matter_code FROM services")}
    assert codes == {"A": "430681-000-XK-001", "B": None, "C": None}
    # Loading the file without them again puts the defaults back: the file is the truth.
    await hall_apply.apply(conn, hallfile.parse(BASE, "hall.toml"))
    hall = await conn.fetchrow("SELECT * FROM halls")
    assert hall is not None and hall["forward_url"] is None and hall["follow_up_days"] == 5
    assert hall["rating_bad_reasons"] == list(DEFAULT_BAD_REASONS) and hall["calendar_holidays"] == []
