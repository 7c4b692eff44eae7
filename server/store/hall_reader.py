"""Reading one TOML table of the hall file, with errors that name the key and line.

`Reader` remembers which keys were read (any other is an error), checks each
value's type and range, and says where a bad value stands:
`hall.toml:12: windows[2].services: unknown service "Z"`. The hall file's
shape itself is `hallfile`'s.
"""

from __future__ import annotations

import re
from typing import Any

MAX_NESTING = 32  # arrays and inline tables inside each other


class HallFileError(ValueError):
    pass


class Reader:
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


def table(top: Reader, data: dict[str, Any], key: str, required: bool = False) -> dict[str, Any]:
    if key not in data:
        if required:
            raise top.fail(None, f"missing the [{key}] section")
        return {}
    if not isinstance(data[key], dict):
        raise top.fail(key, f"[{key}] must be a table")
    return data[key]


def array(top: Reader, source: str, text: str, data: dict[str, Any], key: str) -> list[tuple[int, Reader]]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise top.fail(key, f"must be written as [[{key}]] tables")
    return [(i, Reader(source, text, item, f"{key}[{i + 1}]", f"{key}#{i}")) for i, item in enumerate(items)]


def unique(reader: Reader, key: str, value: Any, before: list[Any]) -> None:
    if value in before:
        raise reader.fail(key, f"{value!r} appears twice")


def str_list(reader: Reader, key: str) -> list[str]:
    values = reader.get(key, list)
    if not all(isinstance(v, str) for v in values):
        raise reader.fail(key, "must be a list of strings")
    return values


# Strings and comments, whose brackets are not nesting.
_NOT_NESTING = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*')


def nested_too_deep(text: str) -> tuple[int, str] | None:
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
