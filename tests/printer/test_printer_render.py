"""Rendering: the bytes of a ticket, decoded back and checked for what a citizen reads."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

import pytest
from escpos.capabilities import get_profile
from PIL import ImageChops

from clearhall.printer.decode import Command, Cut, Feed, QrCode, Raster, Text, decode, lines, raster_image
from clearhall.printer.draw import qr_image
from clearhall.printer.render import DOT_COLUMN, PAPERS, render
from clearhall.printer.samples import sample_ticket

PAPER_NAMES = sorted(PAPERS)


def chinese_on_index(ops: list) -> int:
    return next(i for i, op in enumerate(ops) if op == Command("chinese_on"))


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_text_ticket_reads_back_in_chinese(paper: str) -> None:
    ticket = sample_ticket()
    ops = decode(render(ticket, paper=paper), strict=True)
    printed = lines(ops)
    joined = "".join(printed)
    assert ticket.hall_name in joined
    assert ticket.service_name in joined
    assert "A023" in printed
    assert "老年人" in printed
    assert "前面等候 7 人" in printed
    assert "取号时间：2024-05-06 09:41" in printed
    assert "请对我们的服务进行评价，谢谢！" in printed
    assert "政务服务便民热线：12345" in printed
    assert "补打" not in joined
    # Chinese mode comes before the first Chinese character.
    first_chinese = next(i for i, op in enumerate(ops) if isinstance(op, Text) and not op.text.isascii())
    assert chinese_on_index(ops) < first_chinese


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_number_is_printed_at_least_four_times_larger(paper: str) -> None:
    ops = decode(render(sample_ticket(number="B117"), paper=paper), strict=True)
    (number,) = [op for op in ops if isinstance(op, Text) and op.text == "B117"]
    assert number.style.width >= 4 and number.style.height >= 4
    others = [op for op in ops if isinstance(op, Text) and op.text != "B117"]
    assert all(op.style.height < number.style.height for op in others)


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_qr_is_native_model_2_carrying_the_url(paper: str) -> None:
    ticket = sample_ticket()
    ops = decode(render(ticket, paper=paper), strict=True)
    (qr,) = [op for op in ops if isinstance(op, QrCode)]
    assert qr.data == ticket.url
    assert qr.model == 2
    assert qr.align == "center"
    assert not [op for op in ops if isinstance(op, Raster)]


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_job_ends_with_a_cut_after_feeding(paper: str) -> None:
    ops = decode(render(sample_ticket(), paper=paper), strict=True)
    assert isinstance(ops[-1], Cut)
    assert any(isinstance(op, Feed) and op.lines >= 3 for op in ops[-3:])
    assert ops[0] == Command("init")


def test_chinese_punctuation_alone_is_not_turned_into_question_marks() -> None:
    ticket = replace(sample_ticket(), hall_name="，：", category="，")
    data = render(ticket)
    assert "，：".encode("gb18030") in data
    assert b"??" not in data
    assert "，：" in lines(decode(data, strict=True))


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_both_encodings_read_back(encoding: str) -> None:
    data = render(sample_ticket(), encoding=encoding)
    assert "不动产登记".encode(encoding) in data
    assert "不动产登记（二手房交易）" in "".join(lines(decode(data, encoding=encoding)))


def test_gb18030_keeps_characters_gbk_lacks() -> None:
    # 𠮷 (U+20BB7) is outside GBK: a person's or a place's rare character.
    ticket = replace(sample_ticket(), hall_name="𠮷祥政务大厅")
    assert "𠮷祥政务大厅" in lines(decode(render(ticket, encoding="gb18030")))
    gbk_lines = lines(decode(render(ticket, encoding="gbk"), encoding="gbk"))
    assert "?祥政务大厅" in gbk_lines


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_long_names_wrap_within_the_paper(paper: str) -> None:
    name = "这是一个非常非常长的服务事项名称ABC用于测试自动换行是否正确"
    ticket = replace(sample_ticket(), service_name=name)
    ops = decode(render(ticket, paper=paper), strict=True)
    dots = PAPERS[paper].dots
    texts = [op for op in ops if isinstance(op, Text)]
    for op in texts:
        columns = sum(1 if ord(ch) < 0x80 else 2 for ch in op.text)
        assert columns * DOT_COLUMN * op.style.width <= dots, op.text
    assert name in "".join(op.text for op in texts)


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_materials_and_place_are_printed_within_the_paper(paper: str) -> None:
    """一次性告知 on the slip: where, then the documents numbered; long ones wrap."""
    long_item = "不动产权证书或购房合同原件及复印件（复印件需加盖单位公章）"
    ticket = replace(sample_ticket(), where="二楼B区 3、4号窗口", materials=("身份证原件", long_item))
    ops = decode(render(ticket, paper=paper), strict=True)
    printed = lines(ops)
    assert "办理地点：二楼B区 3、4号窗口" in printed
    assert printed.index("请备齐以下材料：") < printed.index("1. 身份证原件")
    assert long_item in "".join(printed[printed.index("1. 身份证原件") + 1 :])
    for op in ops:
        if isinstance(op, Text):
            columns = sum(1 if ord(ch) < 0x80 else 2 for ch in op.text)
            assert columns * DOT_COLUMN * op.style.width <= PAPERS[paper].dots, op.text
    plain = lines(decode(render(sample_ticket(), paper=paper), strict=True))
    assert "请备齐以下材料：" not in plain and not any(line.startswith("办理地点") for line in plain)
    assert len(render(ticket, paper=paper, mode="raster")) > len(
        render(sample_ticket(), paper=paper, mode="raster")
    )


def test_reprint_is_marked_bu_da() -> None:
    ops = decode(render(sample_ticket(reprint=True)), strict=True)
    marks = [op for op in ops if isinstance(op, Text) and "补打" in op.text]
    assert marks
    assert marks[0].style.invert  # the first mark stands out, white on black
    assert lines(ops).index(marks[0].text) < lines(ops).index("A023")


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_qr_as_image_draws_the_url_code(paper: str) -> None:
    ticket = sample_ticket()
    roll = PAPERS[paper]
    ops = decode(render(ticket, paper=paper, qr="image"), strict=True)
    assert not [op for op in ops if isinstance(op, QrCode)]
    assert {op.width for op in ops if isinstance(op, Raster)} == {roll.dots}
    image = raster_image(ops)
    assert image is not None
    expected = qr_image(ticket.url, roll.qr_module, quiet=2)
    assert image.height == expected.height
    left = (roll.dots - expected.width) // 2
    drawn = image.crop((left, 0, left + expected.width, expected.height))
    assert ImageChops.difference(drawn.convert("L"), expected.convert("L")).getbbox() is None


@pytest.mark.parametrize("paper", PAPER_NAMES)
def test_raster_mode_is_images_of_the_paper_width(paper: str) -> None:
    ops = decode(render(sample_ticket(), paper=paper, mode="raster"), strict=True)
    rasters = [op for op in ops if isinstance(op, Raster)]
    assert rasters
    assert {r.width for r in rasters} == {PAPERS[paper].dots}
    assert not [op for op in ops if isinstance(op, (Text, QrCode))]
    assert Command("chinese_on") not in ops
    assert isinstance(ops[-1], Cut)
    whole = raster_image(ops)
    assert whole is not None
    ink = whole.convert("L").histogram()[0] / (whole.width * whole.height)
    assert 0.03 < ink < 0.4  # text and a QR code, not blank, not black
    assert whole.height > whole.width  # a ticket is taller than it is wide


@pytest.mark.parametrize(("paper", "profile_dots"), [("80mm", 576), ("58mm", 384)])
def test_papers_use_real_profiles_of_their_width(paper: str, profile_dots: int) -> None:
    roll = PAPERS[paper]
    profile = get_profile(roll.profile)
    assert roll.dots == profile_dots
    assert profile.profile_data["media"]["width"]["pixels"] == profile_dots
    assert profile.supports("qrCode")


@pytest.mark.parametrize(
    "options",
    [
        {"paper": "76mm"},
        {"encoding": "utf-8"},
        {"mode": "pdf"},
        {"qr": "svg"},
    ],
)
def test_bad_options_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="use one of"):
        render(sample_ticket(), **options)


def test_naive_issue_time_is_refused() -> None:
    ticket = replace(sample_ticket(), issued_at=datetime(2024, 5, 6, 9, 41))
    with pytest.raises(ValueError, match="timezone-aware"):
        render(ticket)


def test_text_rendering_is_under_two_milliseconds() -> None:
    ticket = sample_ticket()
    render(ticket)
    count = 200
    start = time.perf_counter()
    for _ in range(count):
        render(ticket)
    per_ticket = (time.perf_counter() - start) / count
    assert per_ticket < 0.002
