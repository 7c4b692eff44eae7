"""A report (`domain/reports.py`) as JSON, CSV or an .xlsx workbook: rendering only.

Every format shows the same `Line`s with the same values (counts, minutes to
one decimal, rates as fractions to 4 places), so the figures add up the same
way in each; the workbook only formats rates as percentages.

- JSON: `{"report": {...}}` with the period, the integrity log's head, the
  columns (key, Chinese title, kind), `total`, `services`, `windows`, `staff`.
- CSV: one table, UTF-8 with a BOM (Excel then reads the Chinese), CRLF; a
  `分组` column says which grouping a row is (合计 first, then 业务, 窗口,
  人员), `编号` and `名称` which service, window or person; the rest are the
  columns' Chinese titles. The period and the head are in the JSON and the
  workbook, not in the CSV.
- xlsx: a 汇总 sheet (the hall, the period, the totals, the head) and one sheet
  per grouping (按业务, 按窗口, 按人员) ending with the hall's 合计 row; Chinese
  headers, the header row (and the name columns) frozen, widths to fit.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from typing import Any, Final
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from clearhall.server.domain.reports import (
    COLUMNS,
    GROUPINGS,
    MINUTES,
    RATE,
    SERVICE,
    STAFF,
    WINDOW,
    Line,
    Report,
)
from clearhall.server.domain.tickets import local_iso

CSV_TYPE: Final = "text/csv"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KIND_TITLES: Final = {"daily": "日报", "monthly": "月报"}
GROUP_TITLES: Final = {"": "合计", SERVICE: "业务", WINDOW: "窗口", STAFF: "人员"}
KEY_TITLES: Final = {SERVICE: ("业务代码", "业务名称"), WINDOW: ("窗口号", "窗口"), STAFF: ("用户名", "姓名")}
NUMBER_FORMATS: Final = {RATE: "0.00%", MINUTES: "0.0"}
HEADER_FONT: Final = Font(bold=True)
HEADER_FILL: Final = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN: Final = Alignment(horizontal="center", vertical="center", wrap_text=True)
VERIFY_HINT: Final = "clearhall audit verify --anchor {seq}:{hash}"
# A text cell starting so is a formula to a spreadsheet (CSV injection): names come from the hall
# file, and a name is shown as written, never run.
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def period(r: Report) -> str:
    return r.first.isoformat() if r.kind == "daily" else f"{r.first:%Y-%m}"


# ---------------------------------------------------------------- JSON


def report_json(r: Report) -> dict[str, Any]:
    names = {SERVICE: "services", WINDOW: "windows", STAFF: "staff"}
    lines = {
        names[grouping]: [{grouping: key_value(x), "name": x.name} | x.values for x in r.lines[grouping]]
        for grouping, _ in GROUPINGS
    }
    head = r.head and {"seq": r.head.seq, "hash": r.head.hash, "at": local_iso(r.head.at, r.timezone)}
    return {
        "report": {
            "kind": r.kind,
            "hall": {"code": r.hall_code, "name": r.hall_name},
            "timezone": r.timezone,
            "from": r.first.isoformat(),
            "to": r.last.isoformat(),
            "generated_at": local_iso(r.generated_at, r.timezone),
            "complete": r.complete,
            "head": head,
            "unsealed": r.unsealed,
            "columns": [{"field": c.key, "title": c.title, "kind": c.kind} for c in COLUMNS],
            "total": dict(r.total.values),
            **lines,
        }
    }


def key_value(line: Line) -> str | int:
    return int(line.key) if line.grouping == WINDOW else line.key


# ---------------------------------------------------------------- CSV


def csv_header() -> list[str]:
    return ["分组", "编号", "名称", *(c.title for c in COLUMNS)]


def report_csv(r: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_header())
    for line in [r.total, *(line for grouping, _ in GROUPINGS for line in r.lines[grouping])]:
        cells = ["" if v is None else v for v in line.values.values()]
        writer.writerow([GROUP_TITLES[line.grouping], inert(line.key), inert(line.name), *cells])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def inert(text: str) -> str:
    """A CSV text cell that a spreadsheet shows and does not run."""
    return "'" + text if text.startswith(FORMULA_START) else text


# ---------------------------------------------------------------- xlsx


def report_xlsx(r: Report) -> bytes:
    book = Workbook()
    book.properties.creator = "clearhall"
    book.properties.title = f"{r.hall_name}{KIND_TITLES[r.kind]} {period(r)}"
    summary = book.active
    assert isinstance(summary, Worksheet)
    summary.title = "汇总"
    write_summary(summary, r)
    for grouping, title in GROUPINGS:
        sheet = book.create_sheet(title)
        key_title, name_title = KEY_TITLES[grouping]
        sheet.append([key_title, name_title, *(c.title for c in COLUMNS)])
        for line in r.lines[grouping]:
            sheet.append([key_value(line), line.name, *line.values.values()])
        sheet.append(["合计", r.hall_name, *r.total.values.values()])
        keep_text(sheet, 2)
        for cell in sheet[sheet.max_row]:
            cell.font = HEADER_FONT
        for i, column in enumerate(COLUMNS, start=3):
            if column.kind in NUMBER_FORMATS:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = NUMBER_FORMATS[column.kind]
        style_header(sheet)
        sheet.freeze_panes = "C2"
        fit_widths(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_summary(sheet: Worksheet, r: Report) -> None:
    last = r.last.isoformat()
    rows: list[tuple[str, Any, str | None]] = [
        ("大厅", f"{r.hall_name}（{r.hall_code}）", None),
        ("报表", KIND_TITLES[r.kind], None),
        ("统计期间", r.first.isoformat() if r.first == r.last else f"{r.first} 至 {last}", None),
        ("时区", r.timezone, None),
        ("生成时间", local_iso(r.generated_at, r.timezone), None),
        ("数据状态", "期间已结束" if r.complete else "期间未结束，数字截至生成时间", None),
    ]
    rows += [(f"合计：{c.title}", r.total.values[c.key], NUMBER_FORMATS.get(c.kind)) for c in COLUMNS]
    if r.head is None:
        rows.append(("完整性日志", "本期结束前尚无已链入的操作", None))
    else:
        rows += [
            ("完整性日志末条序号 (seq)", r.head.seq, None),
            ("完整性日志末条哈希 (hash)", r.head.hash, None),
            ("末条操作时间", local_iso(r.head.at, r.timezone), None),
            ("核验命令", VERIFY_HINT.format(seq=r.head.seq, hash=r.head.hash), None),
        ]
    rows.append(("本期未链入的操作", r.unsealed, None))
    sheet.append(["项目", "值"])
    for title, value, number_format in rows:
        sheet.append([title, value])
        if number_format:
            sheet.cell(sheet.max_row, 2).number_format = number_format
    keep_text(sheet, 2)
    style_header(sheet)
    sheet.freeze_panes = "A2"
    fit_widths(sheet)


def keep_text(sheet: Worksheet, columns: int) -> None:
    """Text in the first `columns` columns stays text: openpyxl would store "=…" as a formula."""
    for row in sheet.iter_rows(max_col=columns):
        for cell in row:
            if isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"


def style_header(sheet: Worksheet) -> None:
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, HEADER_ALIGN


def text_width(value: Any) -> int:
    """Columns a value takes: a Chinese character is two."""
    text = f"{value:.2%}" if isinstance(value, float) and value <= 1 else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit_widths(sheet: Worksheet) -> None:
    for i, column in enumerate(sheet.iter_cols(), start=1):
        longest = max((text_width(c.value) for c in column if c.value is not None), default=4)
        sheet.column_dimensions[get_column_letter(i)].width = min(max(longest + 2, 6), 72)


# ---------------------------------------------------------------- the file's name


def content_disposition(r: Report, extension: str) -> str:
    """An attachment named in ASCII for old clients and, RFC 5987 / 6266, in UTF-8 for the rest:
    `clearhall-main-daily-2026-03-02.xlsx` and `某某政务服务中心日报-2026-03-02.xlsx`."""
    code = re.sub(r"[^A-Za-z0-9_-]", "", r.hall_code) or "hall"
    plain = f"clearhall-{code}-{r.kind}-{period(r)}.{extension}"
    chinese = f"{r.hall_name}{KIND_TITLES[r.kind]}-{period(r)}.{extension}"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(chinese, safe='')}"
