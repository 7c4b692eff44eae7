"""Logging for `clearhall`: configured explicitly, one line per record, secrets kept out.

python-escpos calls `logging.basicConfig()` when it is imported, so a
`basicConfig(level=INFO)` of ours would do nothing and INFO (the access log
among it) would vanish: the root logger is set here by hand instead. Every
message is one line: a CR or LF inside it (a path with `%0a`) is written as
`\\r` / `\\n`, so nobody can forge a line. What goes in: see docs/operating.md;
never a password, token, ticket key, ID or phone number (the access log leaves
out query strings; tests grep a whole run's log for every secret it used).
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLine(logging.Formatter):
    """A record's message on one line; a traceback after it keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


def configure(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLine(FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
