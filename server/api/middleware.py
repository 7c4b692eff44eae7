"""Middleware: every failure in the contract's one shape, and the access log.

Every response that is not 2xx is
`{"ok": false, "error": {"code": ..., "message": ...}, "status": n}`
(CONTRACT §3). Use cases raise `DomainError`; this is the one place its code
becomes an HTTP status and its text the language the request asked for.
The router's 404/405 and the body-size 413 get the same shape. Anything
unexpected is logged with its trace and answered as a plain 500 without
internals; a lost database is a 503 `unavailable` with Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import asyncpg
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from clearhall.server.api.forwarded import client_address
from clearhall.server.api.routes import WHO, Handler
from clearhall.server.domain import errors, messages
from clearhall.server.domain.errors import DomainError
from clearhall.server.domain.text import Text
from clearhall.server.store.db import DATABASE_DOWN

log = logging.getLogger(__name__)

# Each domain error code's HTTP status, once.
STATUS: Final = {
    errors.INVALID_JSON: 400,
    errors.INVALID_INPUT: 400,
    errors.UNAUTHORIZED: 401,
    errors.FORBIDDEN: 403,
    errors.NOT_FOUND: 404,
    errors.METHOD_NOT_ALLOWED: 405,
    errors.CONFLICT: 409,
    errors.LIMIT_EXCEEDED: 409,
    errors.CLOSED: 409,
    errors.REQUEST_TIMEOUT: 408,
    errors.TOO_LARGE: 413,
    errors.RATE_LIMITED: 429,
    errors.UNAVAILABLE: 503,
    errors.INTERNAL: 500,
}

# The router's own refusals, in the same shape.
HTTP_ERRORS: Final = {
    400: (errors.INVALID_INPUT, messages.BAD_REQUEST),
    404: (errors.NOT_FOUND, messages.NO_SUCH_ADDRESS),
    405: (errors.METHOD_NOT_ALLOWED, messages.METHOD_NOT_ALLOWED),
    413: (errors.TOO_LARGE, messages.BODY_TOO_LARGE),
}


def language(request: web.Request) -> str:
    """ "en" when Accept-Language prefers English over Chinese, else "zh"."""
    ranked = []
    for part in request.headers.get("Accept-Language", "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, tag.strip().lower()))
    for _, tag in sorted(ranked):
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh"
    return "zh"


def error_response(
    request: web.Request, code: str, text: Text, status: int | None = None, **extra: Any
) -> web.Response:
    status = status or STATUS.get(code, 400)
    error: dict[str, Any] = {"code": code, "message": text.pick(language(request)), **extra}
    return web.json_response({"ok": False, "error": error, "status": status}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        response = error_response(request, exc.code, exc.text, **exc.extra)
        if "retry_after" in exc.extra:  # 429: when to try again, in whole seconds
            response.headers["Retry-After"] = str(max(1, int(exc.extra["retry_after"])))
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code, text = HTTP_ERRORS.get(exc.status, ("http_error", Text(exc.reason, exc.reason)))
        response = error_response(request, code, text, exc.status)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except asyncpg.DataError as exc:
        # A value PostgreSQL cannot hold (a NUL byte, a number out of range) that
        # got past validation: still the request's fault, so a 400, logged to be
        # caught earlier next time.
        log.warning("data error in %s %s: %s", request.method, request.path, exc)
        return error_response(request, errors.INVALID_INPUT, messages.UNSTORABLE_VALUE)
    except DATABASE_DOWN as exc:
        # Not the request's fault, and not a bug: say so, and let the client retry.
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exc)
        response = error_response(request, errors.UNAVAILABLE, messages.DATABASE_DOWN)
        response.headers["Retry-After"] = "2"
        return response
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response(request, errors.INTERNAL, messages.INTERNAL)


class AccessLogger(AbstractAccessLogger):
    """One line per request (CONTRACT §3): address, method, path without its query
    (query strings carry ticket keys), status, duration, and who asked, by kind
    only (`staff`, `kiosk`, `display`, …, `key` for a citizen's ticket key, `-`)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        kind, ms = credential_kind(request), round(time * 1000, 1)
        remote = client_address(request)  # behind a trusted proxy: its client
        fields = {
            "remote": remote,
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": ms,
            "credential": kind,
        }  # keys in JSON logs
        self.logger.info(
            "%s %s %s %d %.1fms %s",
            remote, request.method, request.path, response.status, ms, kind,
            extra={"access": fields},
        )  # fmt: skip


def credential_kind(request: BaseRequest) -> str:
    who = request.get(WHO)
    if who is not None:
        return str(who.device_kind or who.kind)
    return "key" if "key" in request.query else "-"


# Pages load only the server's own scripts, styles, images, sounds and socket
# (CONTRACT §3); nothing inline, nothing from elsewhere, never inside a frame.
PAGE_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",  # the supervisor's receipt preview is a fetched blob
        "media-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# The kiosk page also reaches its ID card reader's bridge on the kiosk PC itself
# (kiosk/bridge, docs/card-reader.md): a WebSocket to the loopback address, no other.
KIOSK_POLICY: Final = PAGE_POLICY.replace(
    "connect-src 'self'", "connect-src 'self' ws://127.0.0.1:* ws://localhost:*"
)


async def security_headers(request: web.Request, response: StreamResponse) -> None:
    """on_response_prepare: on every response, pages included, WebSocket upgrades too."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # phone URLs carry ticket keys
    if response.content_type == "text/html":
        kiosk = request.path == "/kiosk"
        response.headers["Content-Security-Policy"] = KIOSK_POLICY if kiosk else PAGE_POLICY
