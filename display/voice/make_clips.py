"""Generate the hall screen's voice clips once, offline, with espeak-ng and sox.

    python -m display.voice.make_clips [--out DIR]

Each clip is spoken by espeak-ng's ``cmn-latn-pinyin`` voice from tone-numbered
pinyin (the plain ``cmn`` voice reads some hanzi wrongly), then trimmed of
silence, resampled to 22 050 Hz mono 16-bit and normalised to -1 dBFS with sox.
The chime is synthesised with sox: two soft bell tones, high then low.

The results are committed under ``display/voice/clips/``; the hall does not
need espeak-ng or sox to run. Replace any clip with a human recording of the
same name (docs/voice.md).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from clearhall.display.voice import (
    BAI,
    BANLI,
    CHIME,
    CLIP_DIR,
    DAO,
    HAO,
    HAO_CHUANGKOU,
    QING,
    SHI,
    digit_clip,
    letter_clip,
)

VOICE = "cmn-latn-pinyin"
SPEED_WPM = "140"  # a little slower than espeak's default: a hall echoes
RATE = "22050"

WORDS: dict[str, str] = {
    QING: "qing3",
    HAO: "hao4",
    DAO: "dao4",
    HAO_CHUANGKOU: "hao4 chuang1kou3",
    BANLI: "ban4li3",
    SHI: "shi2",
    BAI: "bai3",
}

DIGIT_PINYIN = ["ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"]

# Letters as a Chinese hall says them: the English letter names in Mandarin sounds.
LETTER_PINYIN: dict[str, str] = {
    "A": "ei1",
    "B": "bi4",
    "C": "xi1",
    "D": "di4",
    "E": "yi4",
    "F": "ai2fu1",
    "G": "ji4",
    "H": "ai2qi1",
    "I": "ai4",
    "J": "jie4",
    "K": "kai4",
    "L": "ai2le1",
    "M": "ai2mu3",
    "N": "en1",
    "O": "ou1",
    "P": "pi1",
    "Q": "qiu1",
    "R": "a1er3",
    "S": "ai2si1",
    "T": "ti4",
    "U": "you1",
    "V": "wei1",
    "W": "da2bu3liu2",
    "X": "ai2ke4si1",
    "Y": "wai4",
    "Z": "zei4",
}


def spoken_clips() -> dict[str, str]:
    """Clip name → the pinyin text espeak-ng speaks for it."""
    clips = dict(WORDS)
    for d, text in enumerate(DIGIT_PINYIN):
        clips[digit_clip(str(d))] = text
    for letter, text in LETTER_PINYIN.items():
        clips[letter_clip(letter)] = text
    return clips


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def speak(text: str, out: Path, tmp: Path) -> None:
    raw = tmp / "raw.wav"
    run("espeak-ng", "-v", VOICE, "-s", SPEED_WPM, "-w", str(raw), text)
    # trim leading and trailing silence, keep a few ms of air, normalise
    run(
        "sox", str(raw), "-r", RATE, "-c", "1", "-b", "16", str(out),
        "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
        "pad", "0.02", "0.04", "norm", "-1",
    )  # fmt: skip


def chime(out: Path, tmp: Path) -> None:
    """A two-tone 'ding-dong': E6 then C6, each a sine with a soft octave and a bell decay."""
    notes = [(1318.5, tmp / "hi.wav"), (1046.5, tmp / "lo.wav")]
    for freq, path in notes:
        run(
            "sox", "-n", "-r", RATE, "-c", "1", "-b", "16", str(path),
            "synth", "0.7", "sine", f"{freq}", "sine", f"{freq * 2}",
            "remix", "1-2", "fade", "l", "0.01", "0.7", "0.65", "vol", "0.5",
        )  # fmt: skip
    run(
        "sox", str(notes[0][1]), str(notes[1][1]), str(out),
        "splice", "-q", "0.45,0.2", "norm", "-3",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CLIP_DIR)
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed to make the clips (apt-get install {tool})")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        chime(out / f"{CHIME}.wav", tmp)
        for name, text in spoken_clips().items():
            speak(text, out / f"{name}.wav", tmp)
    print(f"wrote {len(spoken_clips()) + 1} clips to {out}")


if __name__ == "__main__":
    main()
