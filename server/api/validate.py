"""Request-body validation: one small schema type that checks bodies and also
describes them in the OpenAPI document, so the two cannot drift apart.

A body is a JSON object; unknown fields, wrong types, nulls, empty required
strings and over-long strings are refused with a 400 that names the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from clearhall.server.api.errors import INVALID_JSON, ApiError, invalid

# Control characters other than tab and newline: never meant in a form field,
# and PostgreSQL cannot store a NUL at all.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Field:
    name: str
    kind: type  # str, int, list (of str), dict (of int)
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
            raise invalid(f"字段 {self.name} 不能为 null (field '{self.name}' must not be null)", self.name)
        if self.kind is str:
            return self._check_str(value, self.name)
        if self.kind is int:
            return self._check_int(value, self.name)
        if self.kind is list:
            if not isinstance(value, list) or len(value) > self.max_items:
                raise invalid(
                    f"字段 {self.name} 应为不超过 {self.max_items} 项的字符串列表 "
                    f"(field '{self.name}' must be a list of at most {self.max_items} strings)",
                    self.name,
                )
            return [self._check_str(item, self.name) for item in value]
        if self.kind is dict:
            if not isinstance(value, dict):
                raise invalid(f"字段 {self.name} 应为对象 (field '{self.name}' must be an object)", self.name)
            out = {}
            for key, item in value.items():
                path = f"{self.name}.{key}"
                if self.keys is not None and key not in self.keys:
                    raise invalid(f"未知字段 {path} (unknown field '{path}')", path)
                out[key] = self._check_int(item, path)
            return out
        raise AssertionError(self.kind)

    def _check_str(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise invalid(f"字段 {path} 应为字符串 (field '{path}' must be a string)", path)
        value = value.strip()
        if CONTROL.search(value):
            raise invalid(f"字段 {path} 含有控制字符 (field '{path}' holds control characters)", path)
        if len(value) > self.max_length:
            raise invalid(
                f"字段 {path} 过长，最多 {self.max_length} 字 "
                f"(field '{path}' is longer than {self.max_length})",
                path,
            )
        if self.required and not value:
            raise invalid(f"字段 {path} 不能为空 (field '{path}' must not be empty)", path)
        if self.choices is not None and value not in self.choices:
            raise invalid(
                f"字段 {path} 的值无效，可选: {', '.join(self.choices)} "
                f"(field '{path}' must be one of {', '.join(self.choices)})",
                path,
            )
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise invalid(f"字段 {path} 格式不正确 (field '{path}' has the wrong format)", path)
        return value

    def _check_int(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"字段 {path} 应为整数 (field '{path}' must be an integer)", path)
        low = self.minimum if self.minimum is not None else -(2**31)
        high = self.maximum if self.maximum is not None else 2**31 - 1
        if not low <= value <= high:
            raise invalid(
                f"字段 {path} 应在 {low} 到 {high} 之间 (field '{path}' must be {low}–{high})", path
            )
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
            raise invalid("请求内容应为 JSON 对象 (the body must be a JSON object)")
        known = {f.name: f for f in self.fields}
        for name in raw:
            if name not in known:
                raise invalid(f"未知字段 {name} (unknown field '{name}')", str(name)[:64])
        out: dict[str, Any] = {}
        for field in self.fields:
            if field.name in raw:
                out[field.name] = field.check(raw[field.name])
            elif field.required:
                raise invalid(f"缺少字段 {field.name} (field '{field.name}' is required)", field.name)
        return out


EMPTY = Body(())


async def read_body(request: web.Request, body: Body) -> dict[str, Any]:
    """Read and validate a JSON body. An empty body is an empty object."""
    return decode(body, await request.read())  # read() raises 413 past client_max_size


def decode(body: Body, data: bytes) -> dict[str, Any]:
    if not data.strip():
        raw: Any = {}
    else:
        try:
            raw = json.loads(data)
        except (ValueError, RecursionError):
            raise ApiError(
                400, INVALID_JSON, "请求内容不是有效的 JSON (the body is not valid JSON)"
            ) from None
    return body.parse(raw)
