"""Rendering a report (server/api/report_formats.py) without a database: names are shown,
never run as spreadsheet formulas; file names survive any hall name; empty figures are
empty cells."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from urllib.parse import unquote

import openpyxl

from clearhall.server.api.report_formats import content_disposition, report_csv, report_json, report_xlsx
from clearhall.server.domain import reports
from clearhall.server.domain.reports import SERVICE, STAFF, WINDOW, Line, Report

EVIL = '=HYPERLINK("http://example.invalid","点这里")'


def a_report(hall_name: str = "某市政务服务中心", hall_code: str = "main") -> Report:
    values = reports.blank(SERVICE) | {"issued": 3, "served": 2, "good_rate": 0.6667, "wait_avg_min": 12.5}
    return Report(
        kind="monthly", hall_code=hall_code, hall_name=hall_name, timezone="Asia/Shanghai",
        first=date(2026, 3, 1), last=date(2026, 3, 31), generated_at=datetime(2026, 4, 1, 1, tzinfo=UTC),
        complete=True, head=None, unsealed=0,
        total=Line("", "", "合计", reports.blank("") | {"issued": 3, "served": 2}),
        lines={SERVICE: [Line(SERVICE, "A", EVIL, values)], WINDOW: [Line(WINDOW, "7", "7号窗口", reports.blank(WINDOW))],
               STAFF: [Line(STAFF, "+s1", "-李娜", reports.blank(STAFF))]},
    )  # fmt: skip


def test_names_in_a_csv_are_text_and_empty_figures_empty_cells() -> None:
    rows = list(csv.reader(io.StringIO(report_csv(a_report()).decode("utf-8-sig"))))
    service = rows[2]
    assert service[:3] == ["业务", "A", "'" + EVIL]
    assert rows[4][:3] == ["人员", "'+s1", "'-李娜"]
    header = rows[0]
    assert service[header.index("好评率")] == "0.6667" and service[header.index("平均办理(分钟)")] == ""
    assert rows[3][header.index("取号数")] == ""  # a window issues nothing: not broken down


def test_names_in_a_workbook_are_text_not_formulas() -> None:
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(a_report(hall_name="=1+1"))))
    cell = book["按业务"]["B2"]
    assert cell.value == EVIL and cell.data_type == "s"
    assert book["按人员"]["B2"].value == "-李娜" and book["按人员"]["A2"].value == "+s1"
    assert book["按业务"]["B3"].value == "=1+1" and book["按业务"]["B3"].data_type == "s"
    assert book["按窗口"]["A2"].value == 7  # a window's number is a number
    facts = {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert facts["统计期间"] == "2026-03-01 至 2026-03-31" and facts["报表"] == "月报"
    assert facts["完整性日志"] == "本期结束前尚无已链入的操作" and facts["数据状态"] == "期间已结束"


def test_the_file_name_survives_any_hall_name() -> None:
    header = content_disposition(a_report(hall_name='东区/"西区"; 中心', hall_code="城东 1"), "csv")
    plain, _, encoded = header.partition("; filename*=UTF-8''")
    assert plain == 'attachment; filename="clearhall-1-monthly-2026-03.csv"'
    assert encoded.isascii() and " " not in encoded and '"' not in encoded and ";" not in encoded
    assert unquote(encoded) == '东区/"西区"; 中心月报-2026-03.csv'


def test_the_json_names_windows_by_number() -> None:
    body = report_json(a_report())["report"]
    assert body["windows"][0]["window"] == 7 and body["services"][0]["service"] == "A"
    assert body["head"] is None and body["from"] == "2026-03-01" and body["to"] == "2026-03-31"
