"""Every bench in one go, and one table of the targets in docs/benchmarks.md.

    bench/run_all                 # full scale: 10 s phases, 5,000 sockets, 5,000 tickets, 1M/5M history
    bench/run_all --quick         # a functional check at reduced scale (a few minutes)
    bench/run_all --no-write      # print the table, leave docs/benchmarks.md alone

Runs bench/engine.py (ratios against the bare minimum), fanout.py, render.py,
busy_day.py and history.py one after another, each its own process (its own
embedded PostgreSQL), showing their output as it comes; reads each one's
target table back (scratch.read_targets) and writes a table of every target,
MET / NOT MET with its measured value, and the machine it ran on, between the
`<!-- run_all -->` markers of docs/benchmarks.md (replaced each time; added at
the end the first time). Exit status 0 only when every target was met.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import tree_version
from bench.scratch import Target, read_targets

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- run_all -->", "<!-- /run_all -->"
RENDER_LINE = re.compile(r"^(text \S+)\s+([\d.]+)\s+([\d.]+)\s+\d+\s+(met|MISSED)\s*$")

FULL = {
    "engine": ["--seconds", "10"],
    "fanout": ["--sockets", "5000", "--calls", "50"],
    "render": ["--count", "1000"],
    "busy_day": ["--tickets", "5000", "--minutes", "2"],
    "history": ["--tickets", "1000000", "--entries", "5000000", "--seconds", "10"],
}
QUICK = {
    "engine": ["--seconds", "2"],
    "fanout": ["--sockets", "500", "--calls", "20"],
    "render": ["--count", "200"],
    "busy_day": ["--tickets", "500", "--minutes", "1"],
    "history": ["--tickets", "20000", "--entries", "100000", "--seconds", "2"],
}


def machine() -> dict[str, str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    kib = int(
        next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    )
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "RAM": f"{kib / 1024 / 1024:.1f} GiB",
        "Python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "tree": tree_version(),
    }


def run_one(name: str, args: list[str]) -> tuple[list[Target], str, float]:
    """A bench's targets (render's lines made targets), its whole output, and its seconds."""
    command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args]
    print(f"\n=== {' '.join(['bench/' + name + '.py', *args])}", flush=True)
    began = time.monotonic()
    out: list[str] = []
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as p:
        assert p.stdout is not None
        for line in p.stdout:
            print(line, end="", flush=True)
            out.append(line)
    text = "".join(out)
    targets = [Target(f"{name}: {t.label}", t.wanted, t.measured, t.met) for t in read_targets(text)]
    for line in text.splitlines():
        if m := RENDER_LINE.match(line):
            targets.append(
                Target(f"render: {m[1]} per ticket", "< 2 ms", f"{float(m[2]):.3f} ms", m[4] == "met")
            )
    if not targets:
        targets.append(Target(f"{name}: ran", "targets printed", f"exit {p.returncode}, none", False))
    return targets, text, time.monotonic() - began


def table(results: dict[str, tuple[list[Target], str, float]], quick: bool, load: tuple[str, str]) -> str:
    info = machine()
    versions = {m for _, text, _ in results.values() for m in re.findall(r"^PostgreSQL (.+)$", text, re.M)}
    info["PostgreSQL"] = ", ".join(sorted(versions)) or "n/a"
    info["load average"] = f"{load[0]} at the start, {load[1]} at the end"
    lines = [BEGIN, "", f"### bench/run_all{' --quick' if quick else ''} — {info['date']}", ""]
    if quick:
        lines += [
            "**A functional check at reduced scale, not a measurement** (see each bench for its scale).",
            "",
        ]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "| bench | target | wanted | measured | verdict |", "|---|---|---|---|---|"]
    for name, (targets, _, seconds) in results.items():
        args = " ".join((QUICK if quick else FULL)[name])
        for t in targets:
            label = t.label.removeprefix(f"{name}: ")
            verdict = "MET" if t.met else "**NOT MET**"
            lines.append(
                f"| {name} `{args}` ({seconds:.0f} s) | {label} | {t.wanted} | {t.measured} | {verdict} |"
            )
    return "\n".join([*lines, "", END])


def write(section: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n## All benches (bench/run_all)\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="reduced scale: a functional check")
    parser.add_argument("--only", nargs="+", choices=list(FULL), help="these benches only")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = f"{os.getloadavg()[0]:.1f}"
    results = {name: run_one(name, plan[name]) for name in plan if not args.only or name in args.only}
    section = table(results, args.quick, (started, f"{os.getloadavg()[0]:.1f}"))
    print("\n" + section)
    if not args.no_write:
        write(section)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0 if all(t.met for targets, _, _ in results.values() for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
