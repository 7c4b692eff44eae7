"""Logging for `clearhall`: configured explicitly, one line per record, secrets kept out.

python-escpos calls `logging.basicConfig()` when it is imported, so a
`basicConfig(level=INFO)` of ours would do nothing and INFO (the access log
among it) would vanish: the root logger is set here by hand instead. Every
message is one line: a CR or LF inside it (a path with `%0a`) is written as
`\\r` / `\\n`, so nobody can forge a line. What goes in: see docs/operating.md;
never a password, token, ticket key, ID or phone number (the access log leaves
out query strings; tests grep a whole run's log for every secret it used).

`--log-format json` (or CLEARHALL_LOG_FORMAT=json) writes the same records as
one JSON object per line instead (docs/observability.md): time, level, logger,
message, an access line's fields as keys of their own, a traceback as `trace`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from typing import Any, Final

from aiohttp.http_exceptions import HttpProcessingError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMAT_ENV: Final = "CLEARHALL_LOG_FORMAT"
FORMATS: Final = ("text", "json")
# Line breaks json.dumps leaves as they are (it escapes every control character below 0x20).
OTHER_BREAKS: Final = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


class OneLine(logging.Formatter):
    """A record's message on one line; a traceback after it keeps its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


class JsonLines(logging.Formatter):
    """A record as one JSON object on one line, its traceback inside it."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        access = getattr(record, "access", None)  # the access log's fields (api/middleware.py)
        if isinstance(access, dict):
            line.update(access)
        if record.exc_info:
            line["trace"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str).translate(OTHER_BREAKS)


class MalformedRequests(logging.Filter):
    """aiohttp logs a request it cannot even parse (a NUL in a header, a Content-Length of
    "abc") at ERROR with a traceback whose message quotes the bad line — an Authorization
    header with a stray NUL would put its token in the log. Such a record becomes one
    line naming the kind of fault and the address, nothing of the request itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if record.name == "aiohttp.server" and isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg, record.args = (
                "a malformed HTTP request from %s was refused (%s)",
                (remote, type(exc).__name__),
            )
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure(level: int = logging.INFO, log_format: str | None = None) -> None:
    """Log to standard error, as text (default) or JSON lines: `log_format`, else
    CLEARHALL_LOG_FORMAT; ValueError for another value."""
    chosen = (log_format or os.environ.get(FORMAT_ENV) or "text").strip().lower()
    if chosen not in FORMATS:
        raise ValueError(f"{FORMAT_ENV} is text or json, not {chosen[:20]!r}")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if chosen == "json" else OneLine(FORMAT))
    handler.addFilter(MalformedRequests())
    root.addHandler(handler)
    root.setLevel(level)
