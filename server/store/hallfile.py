"""The hall file (CONTRACT §2): read, validate, and apply it to the database.

Validation names the bad key and its line (`hall.toml:12: windows[2].services:
unknown service "Z"`), never shows a secret, and lets through only what can be
served (numbers in range, no control characters, no nesting deeper than the
TOML reader can follow). Applying is idempotent: rows are matched by service
code, window number, username and device name, so loading the same file twice
changes nothing, and a changed file updates in place.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clearhall.server.store.kinds import DeviceKind, Role

DEMO = Path(__file__).resolve().parent / "demo_hall.toml"
ROLES = tuple(Role)
DEVICE_KINDS = tuple(DeviceKind)
PAPERS = ("80mm", "58mm")
ENCODINGS = ("gb18030", "gbk")
PRINT_MODES = ("text", "raster")
# The largest value each number may take: what its use can hold, far below absurd.
MOST_WINDOW = 999_999  # the API's own bound on a window number in a path
MOST_MINUTES = 24 * 60  # a service time limit longer than a day is a typo
MOST_PRIORITY_RUN = 100
MOST_TICKETS_PER_ID = 1_000
MOST_KIOSK_TICKETS = 10_000
MAX_NESTING = 32  # arrays and inline tables inside each other


class HallFileError(ValueError):
    pass


@dataclass(frozen=True)
class ServiceConf:
    code: str
    name: str
    time_limit_minutes: int = 30
    real_name_required: bool = False


@dataclass(frozen=True)
class WindowConf:
    number: int
    services: tuple[str, ...]


@dataclass(frozen=True)
class StaffConf:
    username: str
    name: str
    password: str
    role: str = "staff"
    windows: tuple[int, ...] = ()
    party_member: bool = False


@dataclass(frozen=True)
class DeviceConf:
    name: str
    kind: str
    token: str
    window: int | None = None


@dataclass(frozen=True)
class PrinterConf:
    name: str
    kiosk: str
    address: str
    paper: str = "80mm"
    encoding: str = "gb18030"
    mode: str = "text"


@dataclass(frozen=True)
class HallConf:
    code: str
    name: str
    timezone: str = "Asia/Shanghai"
    public_url: str | None = None
    opens_at: str = "08:30"
    closes_at: str = "17:30"
    max_consecutive_priority: int = 3
    daily_tickets_per_id: int = 5
    kiosk_tickets_per_minute: int = 30  # 0 = no limit
    services: tuple[ServiceConf, ...] = ()
    windows: tuple[WindowConf, ...] = ()
    staff: tuple[StaffConf, ...] = ()
    devices: tuple[DeviceConf, ...] = ()
    printers: tuple[PrinterConf, ...] = field(default=())


class _Reader:
    """Reads one table of the file, remembering where each key stands."""

    def __init__(self, source: str, text: str, table: dict[str, Any], path: str, header: str) -> None:
        self.source, self.text, self.table, self.path, self.header = source, text, table, path, header
        self.used: set[str] = set()

    def line_of(self, key: str | None) -> int | None:
        lines = self.text.splitlines()
        name, _, index = self.header.partition("#")
        start = 0
        if name:
            pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(name) + r"\s*\]\]?\s*(#.*)?$")
            hits = [i for i, line in enumerate(lines) if pattern.match(line)]
            nth = int(index) if index else 0
            if nth >= len(hits):
                return None
            start = hits[nth]
            if key is None:
                return start + 1
        for i in range(start + (1 if name else 0), len(lines)):
            if name and lines[i].lstrip().startswith("["):
                break
            if key and re.match(r"^\s*" + re.escape(key) + r"\s*=", lines[i]):
                return i + 1
        return start + 1 if name else None

    def fail(self, key: str | None, message: str) -> HallFileError:
        where = f"{self.path}.{key}" if key and self.path else (key or self.path)
        line = self.line_of(key)
        at = f"{self.source}:{line}" if line else self.source
        return HallFileError(f"{at}: {where}: {message}")

    def get(
        self, key: str, kind: type | tuple[type, ...], default: Any = ..., *, required: bool = False
    ) -> Any:
        self.used.add(key)
        if key not in self.table:
            if required or default is ...:
                raise self.fail(None, f'missing required key "{key}"')
            return default
        value = self.table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(key, f"expected {_names(kinds)}, got true/false")
        if not isinstance(value, kinds):
            raise self.fail(key, f"expected {_names(kinds)}, got {type(value).__name__}")
        return value

    def text_value(self, key: str, default: Any = ..., *, choices: tuple[str, ...] = ()) -> Any:
        value = self.get(key, str, default)
        if isinstance(value, str):
            if not value.strip():
                raise self.fail(key, "must not be empty")
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                raise self.fail(key, "must not hold control characters")
            if choices and value not in choices:
                raise self.fail(key, f'"{value}" is not one of: {", ".join(choices)}')
        return value

    def number(self, key: str, default: Any = ..., *, least: int, most: int) -> Any:
        value = self.get(key, int, default)
        if isinstance(value, int) and value < least:
            raise self.fail(key, f"must be {least} or more")
        if isinstance(value, int) and value > most:
            raise self.fail(key, f"must be at most {most}")
        return value

    def positive(self, key: str, default: Any = ..., *, most: int) -> Any:
        return self.number(key, default, least=1, most=most)

    def finish(self) -> None:
        for key in self.table:
            if key not in self.used:
                raise self.fail(key, f'unknown key "{key}"')


def _names(kinds: tuple[type, ...]) -> str:
    words = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a table"}
    return " or ".join(words.get(k, k.__name__) for k in kinds)


def parse(text: str, source: str = "hall file") -> HallConf:
    too_deep = _nested_too_deep(text)
    if too_deep is not None:
        line, where = too_deep
        raise HallFileError(f"{source}:{line}: {where}: nested more than {MAX_NESTING} levels deep")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HallFileError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise HallFileError(f"{source}: not valid TOML: nested too deeply") from None
    except ValueError:  # an integer of over 4,300 digits, which Python refuses to read
        long = re.search(r"\d{1000,}", text)
        at = f"{source}:{text[: long.start()].count(chr(10)) + 1}" if long else source
        raise HallFileError(f"{at}: not valid TOML: a number with too many digits") from None

    top = _Reader(source, text, data, "", "")
    for key in data:
        if key not in ("hall", "policy", "services", "windows", "staff", "devices", "printers"):
            raise top.fail(key, f'unknown section "{key}"')

    hall = _Reader(source, text, _table(top, data, "hall", required=True), "hall", "hall")
    name = hall.text_value("name")
    code = hall.text_value("code", "main")
    timezone = hall.text_value("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise hall.fail("timezone", f'unknown time zone "{timezone}"') from None
    public_url = hall.text_value("public_url", None)
    if public_url is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", public_url):
        raise hall.fail("public_url", "must be an http:// or https:// address")
    hours = {}
    for key, default in (("opens_at", "08:30"), ("closes_at", "17:30")):
        hours[key] = hall.text_value(key, default)
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", hours[key]):
            raise hall.fail(key, 'must be a time like "08:30"')
    if hours["opens_at"] >= hours["closes_at"]:  # "HH:MM" strings compare as times
        if "closes_at" in hall.table:
            raise hall.fail("closes_at", f'must be later than opens_at ("{hours["opens_at"]}")')
        raise hall.fail("opens_at", f'must be earlier than closes_at ("{hours["closes_at"]}")')
    hall.finish()

    policy = _Reader(source, text, _table(top, data, "policy"), "policy", "policy")
    max_priority = policy.positive("max_consecutive_priority", 3, most=MOST_PRIORITY_RUN)
    daily = policy.positive("daily_tickets_per_id", 5, most=MOST_TICKETS_PER_ID)
    kiosk_tickets = policy.number("kiosk_tickets_per_minute", 30, least=0, most=MOST_KIOSK_TICKETS)
    policy.finish()

    services: list[ServiceConf] = []
    for i, reader in _array(top, source, text, data, "services"):
        code_ = reader.text_value("code")
        if not re.fullmatch(r"[A-Z]{1,2}", code_):
            raise reader.fail("code", f'"{code_}" must be 1–2 capital letters')
        services.append(
            ServiceConf(
                code=code_,
                name=reader.text_value("name"),
                time_limit_minutes=reader.positive("time_limit_minutes", 30, most=MOST_MINUTES),
                real_name_required=reader.get("real_name_required", bool, False),
            )
        )
        _unique(reader, "code", code_, [s.code for s in services[:i]])
        reader.finish()
    if not services:
        raise top.fail(None, "at least one [[services]] is needed")
    codes = {s.code for s in services}

    windows: list[WindowConf] = []
    for i, reader in _array(top, source, text, data, "windows"):
        number = reader.positive("number", most=MOST_WINDOW)
        _unique(reader, "number", number, [w.number for w in windows[:i]])
        served = _str_list(reader, "services")
        for c in served:
            if c not in codes:
                raise reader.fail("services", f'unknown service "{c}"')
        if not served:
            raise reader.fail("services", "a window needs at least one service")
        windows.append(WindowConf(number, tuple(served)))
        reader.finish()
    numbers = {w.number for w in windows}

    staff: list[StaffConf] = []
    for i, reader in _array(top, source, text, data, "staff"):
        username = reader.text_value("username")
        _unique(reader, "username", username, [s.username for s in staff[:i]])
        where = reader.get("windows", list, [])
        for n in where:
            if isinstance(n, bool) or not isinstance(n, int) or n not in numbers:
                raise reader.fail("windows", f"unknown window {n!r}")
        staff.append(
            StaffConf(
                username=username,
                name=reader.text_value("name"),
                password=reader.text_value("password"),
                role=reader.text_value("role", "staff", choices=ROLES),
                windows=tuple(where),
                party_member=reader.get("party_member", bool, False),
            )
        )
        if len(staff[-1].password) < 8:
            raise reader.fail("password", "must be at least 8 characters")
        reader.finish()

    devices: list[DeviceConf] = []
    for i, reader in _array(top, source, text, data, "devices"):
        device_name = reader.text_value("name")
        _unique(reader, "name", device_name, [d.name for d in devices[:i]])
        token = reader.text_value("token")
        if len(token) < 16:
            raise reader.fail("token", "must be at least 16 characters (use a random string)")
        clash = next((d.name for d in devices[:i] if d.token == token), None)
        if clash is not None:  # named by its devices: the token itself is a secret
            same = f'device "{device_name}" has the same token as device "{clash}"'
            raise reader.fail("token", same + "; each device needs its own")
        window = reader.get("window", int, None)
        if window is not None and window not in numbers:
            raise reader.fail("window", f"unknown window {window}")
        devices.append(
            DeviceConf(device_name, reader.text_value("kind", choices=DEVICE_KINDS), token, window)
        )
        reader.finish()
    kiosks = {d.name for d in devices if d.kind == "kiosk"}

    printers: list[PrinterConf] = []
    for i, reader in _array(top, source, text, data, "printers"):
        printer_name = reader.text_value("name")
        _unique(reader, "name", printer_name, [p.name for p in printers[:i]])
        kiosk = reader.text_value("kiosk")
        if kiosk not in kiosks:
            raise reader.fail("kiosk", f'"{kiosk}" is not a kiosk device of this file')
        address = reader.text_value("address")
        if not re.match(r"^(tcp|usb|serial|file|agent)://", address):
            raise reader.fail("address", "must start with tcp://, usb://, serial://, file:// or agent://")
        printers.append(
            PrinterConf(
                name=printer_name,
                kiosk=kiosk,
                address=address,
                paper=reader.text_value("paper", "80mm", choices=PAPERS),
                encoding=reader.text_value("encoding", "gb18030", choices=ENCODINGS),
                mode=reader.text_value("mode", "text", choices=PRINT_MODES),
            )
        )
        reader.finish()

    return HallConf(
        code=code,
        name=name,
        timezone=timezone,
        public_url=public_url.rstrip("/") if public_url else None,
        opens_at=hours["opens_at"],
        closes_at=hours["closes_at"],
        max_consecutive_priority=max_priority,
        daily_tickets_per_id=daily,
        kiosk_tickets_per_minute=kiosk_tickets,
        services=tuple(services),
        windows=tuple(windows),
        staff=tuple(staff),
        devices=tuple(devices),
        printers=tuple(printers),
    )


def load(path: Path) -> HallConf:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HallFileError(f"{path}: cannot read the hall file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise HallFileError(f"{path}: the hall file must be UTF-8") from None
    return parse(text, str(path))


def _table(top: _Reader, data: dict[str, Any], key: str, required: bool = False) -> dict[str, Any]:
    if key not in data:
        if required:
            raise top.fail(None, f"missing the [{key}] section")
        return {}
    if not isinstance(data[key], dict):
        raise top.fail(key, f"[{key}] must be a table")
    return data[key]


def _array(top: _Reader, source: str, text: str, data: dict[str, Any], key: str) -> list[tuple[int, _Reader]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise top.fail(key, f"must be written as [[{key}]] tables")
    return [(i, _Reader(source, text, item, f"{key}[{i + 1}]", f"{key}#{i}")) for i, item in enumerate(items)]


def _unique(reader: _Reader, key: str, value: Any, before: list[Any]) -> None:
    if value in before:
        raise reader.fail(key, f"{value!r} appears twice")


def _str_list(reader: _Reader, key: str) -> list[str]:
    values = reader.get(key, list)
    if not all(isinstance(v, str) for v in values):
        raise reader.fail(key, "must be a list of strings")
    return values


# Strings and comments, whose brackets are not nesting.
_NOT_NESTING = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*')


def _nested_too_deep(text: str) -> tuple[int, str] | None:
    """The line and key of a value nested more than MAX_NESTING deep, found
    before the TOML reader recurses into it; a malformed file is left to it."""
    plain = _NOT_NESTING.sub(lambda m: re.sub(r"[^\n]", " ", m[0]), text)
    depth = start = 0
    for number, line in enumerate(plain.split("\n"), 1):
        for c in line:
            if c in "[{":
                start = number if depth == 0 else start
                depth += 1
                if depth > MAX_NESTING:
                    return start, _key_at(text.split("\n")[:start])
            elif c in "]}":
                depth = max(0, depth - 1)
    return None


def _key_at(lines: list[str]) -> str:
    """The dotted name of the key on the last of these lines, under its table."""
    match = re.match(r"\s*([^=#\[\]{}]+?)\s*=", lines[-1]) if lines else None
    key = match[1].strip().strip("\"'") if match else "value"
    counts: dict[str, int] = {}
    table = ""
    for text in lines[:-1]:
        header = re.fullmatch(r"\s*(\[\[?)\s*([\w.-]+)\s*\]\]?\s*(#.*)?", text)
        if header:  # [[name]] is the name's next table: name[n]
            counts[header[2]] = n = counts.get(header[2], 0) + 1
            table = f"{header[2]}[{n}]" if header[1] == "[[" else header[2]
    return f"{table}.{key}" if table else key
