"""The one error shape of the API, and the middleware that produces it.

Every response that is not 2xx is
`{"ok": false, "error": {"code": ..., "message": ...}, "status": n}`
(CONTRACT §3). Domain code raises `ApiError`; the middleware turns it, the
router's 404/405 and the body-size 413 into that shape. Anything unexpected is
logged with its trace and answered as a plain 500 without internals; a lost
database is a 503 `unavailable` with Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp import web

log = logging.getLogger(__name__)

INVALID_JSON = "invalid_json"
INVALID_INPUT = "invalid_input"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
CONFLICT = "conflict"
LIMIT_EXCEEDED = "limit_exceeded"
TOO_LARGE = "too_large"
UNAVAILABLE = "unavailable"
INTERNAL = "internal_error"


class ApiError(Exception):
    """An expected failure with a stable code, answered in the contract's shape."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def invalid(message: str, field: str | None = None) -> ApiError:
    return ApiError(400, INVALID_INPUT, message, **({"field": field} if field else {}))


def unauthorized(message: str = "需要登录或有效的设备令牌 (a valid credential is required)") -> ApiError:
    return ApiError(401, UNAUTHORIZED, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, FORBIDDEN, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, NOT_FOUND, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, CONFLICT, message)


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message, **extra}
    return web.json_response({"ok": False, "error": error, "status": status}, status=status)


_HTTP_CODES = {
    400: INVALID_INPUT,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    409: CONFLICT,
    413: TOO_LARGE,
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The database went away (restarting, unreachable, out of connections).
DATABASE_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    # a connection cut while PostgreSQL was telling it so can be left mid-state
    asyncpg.InternalClientError,
)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, **exc.extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 413:
            return error_response(413, TOO_LARGE, "请求内容过大 (request body over 64 KiB)")
        code = _HTTP_CODES.get(exc.status, "http_error")
        response = error_response(exc.status, code, exc.reason)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except asyncpg.DataError as exc:
        # A value PostgreSQL cannot hold (a NUL byte, a number out of range) that
        # got past validation: still the request's fault, so a 400, logged to be
        # caught earlier next time.
        log.warning("data error in %s %s: %s", request.method, request.path, exc)
        return error_response(
            400,
            INVALID_INPUT,
            "请求中有无法保存的字符或数值 (the request holds a value that cannot be stored)",
        )
    except DATABASE_DOWN as exc:
        # Not the request's fault, and not a bug: say so, and let the client retry.
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exc)
        response = error_response(
            503, UNAVAILABLE, "数据库暂时无法连接，请稍后再试 (the database is unavailable; try again)"
        )
        response.headers["Retry-After"] = "2"
        return response
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(500, INTERNAL, "服务器内部错误 (internal error)")
