"""Voice announcements for the hall screen: which recorded clips, in which order.

A call is announced as a chime and then the sentence twice:
"请 A 零 零 一 号 到 十二 号窗口 办理". The ticket number is read character by
character (letters by their names, digits one by one, as halls read "A零零一");
the window number is read as a number (12 → 十二).

Clips are short WAV files in ``display/voice/clips/`` named by the stems below
(``qing.wav``, ``letter-a.wav``, ``digit-0.wav`` …). A hall can replace any of
them with a human recording of the same name; see docs/voice.md. The
JavaScript the hall screen and the kiosk share, ``server/pages/shared/voice.js``,
builds the same sequence, and a test checks that both agree.
"""

from __future__ import annotations

from pathlib import Path

CLIP_DIR = Path(__file__).resolve().parent / "clips"
CLIP_SUFFIX = ".wav"

CHIME = "chime"
QING = "qing"  # 请
HAO = "hao"  # 号
DAO = "dao"  # 到
HAO_CHUANGKOU = "hao-chuangkou"  # 号窗口
BANLI = "banli"  # 办理
SHI = "shi"  # 十
BAI = "bai"  # 百

LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]
DIGITS = [str(d) for d in range(10)]


def letter_clip(letter: str) -> str:
    return f"letter-{letter.lower()}"


def digit_clip(digit: str) -> str:
    return f"digit-{digit}"


ALL_CLIPS: list[str] = [
    CHIME,
    QING,
    HAO,
    DAO,
    HAO_CHUANGKOU,
    BANLI,
    SHI,
    BAI,
    *(letter_clip(x) for x in LETTERS),
    *(digit_clip(d) for d in DIGITS),
]


def number_clips(n: int) -> list[str]:
    """Read a window number the way it is said: 1 → 一, 10 → 十, 12 → 十二,
    20 → 二十, 105 → 一百零五. Numbers of 1000 and more are read digit by digit."""
    if n < 0:
        raise ValueError("window numbers are not negative")
    if n < 10:
        return [digit_clip(str(n))]
    if n < 20:
        return [SHI] + ([digit_clip(str(n % 10))] if n % 10 else [])
    if n < 100:
        tens, ones = divmod(n, 10)
        return [digit_clip(str(tens)), SHI] + ([digit_clip(str(ones))] if ones else [])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        clips = [digit_clip(str(hundreds)), BAI]
        if rest == 0:
            return clips
        if rest < 10:
            return [*clips, digit_clip("0"), digit_clip(str(rest))]
        tens, ones = divmod(rest, 10)
        # 一百一十二: after 百 the tens digit is always said, even when it is 1
        return [*clips, digit_clip(str(tens)), SHI] + ([digit_clip(str(ones))] if ones else [])
    return [digit_clip(d) for d in str(n)]


def ticket_clips(number: str) -> list[str]:
    """Read a ticket number character by character; anything but A–Z and 0–9 is skipped."""
    clips: list[str] = []
    for ch in number.upper():
        if "A" <= ch <= "Z":
            clips.append(letter_clip(ch))
        elif "0" <= ch <= "9":
            clips.append(digit_clip(ch))
    return clips


def sentence(number: str, window: int) -> list[str]:
    """请 <number> 号 到 <window> 号窗口 办理."""
    return [QING, *ticket_clips(number), HAO, DAO, *number_clips(window), HAO_CHUANGKOU, BANLI]


def clip_sequence(number: str, window: int) -> list[str]:
    """The whole announcement of one call (or recall): the chime, then the sentence twice."""
    once = sentence(number, window)
    return [CHIME, *once, *once]


def clip_path(name: str) -> Path:
    return CLIP_DIR / f"{name}{CLIP_SUFFIX}"
