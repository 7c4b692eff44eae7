"""The voice announcement: which clips, in which order, and that every clip is a
usable WAV. The hall screen's JavaScript must build the same sequence as the
Python rule."""

from __future__ import annotations

import wave
from typing import Any

import pytest

from clearhall.display.voice import ALL_CLIPS, clip_path, clip_sequence, number_clips, sentence
from tests.pages.helpers import REPO


def test_a_call_is_the_chime_then_the_sentence_twice() -> None:
    once = [
        "qing", "letter-a", "digit-0", "digit-0", "digit-1", "hao", "dao",
        "shi", "digit-2", "hao-chuangkou", "banli",
    ]  # fmt: skip
    assert sentence("A001", 12) == once
    assert clip_sequence("A001", 12) == ["chime", *once, *once]


@pytest.mark.parametrize(
    ("window", "spoken"),
    [
        (1, ["digit-1"]),
        (3, ["digit-3"]),
        (10, ["shi"]),
        (12, ["shi", "digit-2"]),
        (20, ["digit-2", "shi"]),
        (35, ["digit-3", "shi", "digit-5"]),
        (100, ["digit-1", "bai"]),
        (105, ["digit-1", "bai", "digit-0", "digit-5"]),
        (112, ["digit-1", "bai", "digit-1", "shi", "digit-2"]),
    ],
)
def test_window_numbers_are_read_as_numbers(window: int, spoken: list[str]) -> None:
    assert number_clips(window) == spoken


def test_two_letter_services_and_odd_characters() -> None:
    assert sentence("ab-120", 5)[:7] == [
        "qing", "letter-a", "letter-b", "digit-1", "digit-2", "digit-0", "hao",
    ]  # fmt: skip


def test_every_clip_of_every_sequence_exists() -> None:
    for n in ["A001", "Z999", "QX042"]:
        for w in range(1, 130):
            assert set(clip_sequence(n, w)) <= set(ALL_CLIPS)


@pytest.mark.parametrize("name", ALL_CLIPS)
def test_clip_is_a_short_valid_wav(name: str) -> None:
    path = clip_path(name)
    assert path.is_file(), f"missing clip {path}"
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() in (1, 2)
        assert w.getsampwidth() == 2
        assert 8000 <= w.getframerate() <= 48000
        frames = w.getnframes()
        seconds = frames / w.getframerate()
        data = w.readframes(frames)
    assert 0.1 <= seconds <= 2.0, f"{name} lasts {seconds:.2f} s"
    assert any(data), f"{name} is silent"


def test_javascript_builds_the_same_sequences(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>voice</title>")
        page.add_script_tag(path=str(REPO / "server" / "pages" / "shared" / "voice.js"))
        windows = [1, 9, 10, 12, 20, 47, 100, 105, 112, 250, 1001]
        cases = [(n, w) for n in ["A001", "B120", "AB007", "z9"] for w in windows]
        got = page.evaluate("cases => cases.map(([n, w]) => ClearhallVoice.clipSequence(n, w))", cases)
        assert got == [clip_sequence(n, w) for n, w in cases]
    finally:
        page.close()


def test_the_queue_never_overlaps_announcements(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>voice</title>")
        page.add_script_tag(path=str(REPO / "server" / "pages" / "shared" / "voice.js"))
        log = page.evaluate(
            """async () => {
                const log = [];
                const q = new ClearhallVoice.VoiceQueue();
                let playing = 0;
                q.playClip = (name) => new Promise(res => {
                    playing += 1; log.push([name, playing]);
                    setTimeout(() => { playing -= 1; res(); }, 1);
                });
                q.announce("A001", 3);
                q.announce("B002", 12);
                await new Promise(r => { const t = setInterval(() => {
                    if (!q.busy && !q.pending.length) { clearInterval(t); r(); } }, 5); });
                return {log, played: q.played};
            }"""
        )
        names = [name for name, _ in log["log"]]
        assert names == clip_sequence("A001", 3) + clip_sequence("B002", 12)
        assert all(depth == 1 for _, depth in log["log"])
        assert log["played"] == ["A001@3", "B002@12"]
    finally:
        page.close()
