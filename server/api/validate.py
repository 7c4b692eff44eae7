"""Request-body validation: one small schema type that checks bodies and also
describes them in the OpenAPI document, so the two cannot drift apart.

A body is a JSON object; unknown fields, wrong types, nulls, empty required
strings and over-long strings are refused with a 400 that names the field.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from clearhall.server.domain import errors, messages
from clearhall.server.domain.errors import invalid

# Control characters other than tab and newline: never meant in a form field,
# and PostgreSQL cannot store a NUL at all.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Field:
    name: str
    kind: type  # str, int, bool, list (of str), dict (of int)
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_items: int = 20
    keys: tuple[str, ...] | None = None  # for dict: the allowed keys
    description: str = ""

    def check(self, value: Any) -> Any:
        if value is None:
            raise invalid(messages.NULL_FIELD(field=self.name), self.name)
        if self.kind is str:
            return self._check_str(value, self.name)
        if self.kind is int:
            return self._check_int(value, self.name)
        if self.kind is bool:
            if not isinstance(value, bool):
                raise invalid(messages.NOT_BOOLEAN(field=self.name), self.name)
            return value
        if self.kind is list:
            if not isinstance(value, list) or len(value) > self.max_items:
                raise invalid(messages.NOT_STRING_LIST(field=self.name, most=self.max_items), self.name)
            return [self._check_str(item, self.name) for item in value]
        if self.kind is dict:
            if not isinstance(value, dict):
                raise invalid(messages.NOT_OBJECT_FIELD(field=self.name), self.name)
            out = {}
            for key, item in value.items():
                path = f"{self.name}.{key}"
                if self.keys is not None and key not in self.keys:
                    raise invalid(messages.UNKNOWN_FIELD(field=path), path)
                out[key] = self._check_int(item, path)
            return out
        raise AssertionError(self.kind)

    def _check_str(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise invalid(messages.NOT_STRING(field=path), path)
        value = value.strip()
        if CONTROL.search(value):
            raise invalid(messages.CONTROL_CHARACTERS(field=path), path)
        if len(value) > self.max_length:
            raise invalid(messages.TOO_LONG(field=path, most=self.max_length), path)
        if self.required and not value:
            raise invalid(messages.EMPTY_FIELD(field=path), path)
        if self.choices is not None and value not in self.choices:
            raise invalid(messages.NOT_A_CHOICE(field=path, choices=", ".join(self.choices)), path)
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise invalid(messages.WRONG_FORMAT(field=path), path)
        return value

    def _check_int(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(messages.NOT_INTEGER(field=path), path)
        low = self.minimum if self.minimum is not None else -(2**31)
        high = self.maximum if self.maximum is not None else 2**31 - 1
        if not low <= value <= high:
            raise invalid(messages.OUT_OF_RANGE(field=path, low=low, high=high), path)
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any]
        if self.kind is str:
            schema = {"type": "string", "maxLength": self.max_length}
            if self.choices:
                schema["enum"] = list(self.choices)
            if self.pattern:
                schema["pattern"] = self.pattern
        elif self.kind is int:
            schema = {"type": "integer"}
            if self.minimum is not None:
                schema["minimum"] = self.minimum
            if self.maximum is not None:
                schema["maximum"] = self.maximum
        elif self.kind is bool:
            schema = {"type": "boolean"}
        elif self.kind is list:
            schema = {
                "type": "array",
                "maxItems": self.max_items,
                "items": {"type": "string", "maxLength": self.max_length},
            }
        else:
            item = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
            schema = {"type": "object", "additionalProperties": False}
            schema["properties"] = {key: item for key in self.keys or ()}
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True)
class Body:
    fields: tuple[Field, ...]

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {f.name: f.json_schema() for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
        }

    def parse(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise invalid(messages.NOT_OBJECT)
        known = {f.name: f for f in self.fields}
        for name in raw:
            if name not in known:
                raise invalid(messages.UNKNOWN_FIELD(field=str(name)[:64]), str(name)[:64])
        out: dict[str, Any] = {}
        for field in self.fields:
            if field.name in raw:
                out[field.name] = field.check(raw[field.name])
            elif field.required:
                raise invalid(messages.MISSING_FIELD(field=field.name), field.name)
        return out


EMPTY = Body(())


async def read_body(request: web.Request, body: Body, within: float) -> dict[str, Any]:
    """Read and validate a JSON body. An empty body is an empty object."""
    return decode(body, await read_raw(request, within))


async def read_raw(request: web.Request, within: float) -> bytes:
    """The whole body, if it arrives within `within` seconds (a half-sent body must
    not hold the connection); read() raises 413 past client_max_size."""
    try:
        async with asyncio.timeout(within):
            return await request.read()
    except TimeoutError:
        raise errors.DomainError(errors.REQUEST_TIMEOUT, messages.BODY_TOO_SLOW) from None


def decode(body: Body, data: bytes) -> dict[str, Any]:
    return body.parse(load_json(data))


def load_json(data: bytes) -> Any:
    """The JSON in a body; an empty body is an empty object."""
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise errors.DomainError(errors.INVALID_JSON, messages.NOT_JSON) from None
