"""The OpenAPI 3.1 document, built from the same route table as the router."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from clearhall.server.api.routes import ACCESS_TEXT, Access, Endpoint, Registry
from clearhall.server.domain import events

ERROR = {
    "type": "object",
    "required": ["ok", "error", "status"],
    "properties": {
        "ok": {"const": False},
        "status": {"type": "integer"},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}


def openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)


def operation(e: Endpoint) -> dict[str, Any]:
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses: dict[str, Any] = {str(e.status): {"description": "success"}}
    if e.body is not None:
        responses["400"] = {"description": "invalid_json or invalid_input", **error_ref}
        responses["413"] = {"description": "too_large: body over 64 KiB", **error_ref}
    if e.access is not Access.PUBLIC:
        responses["401"] = {"description": "unauthorized", **error_ref}
        responses["403"] = {"description": "forbidden", **error_ref}
    if e.throttled:
        responses["429"] = {"description": "rate_limited: too many tries; Retry-After says when", **error_ref}
    if e.tag in ("windows", "tickets"):
        responses["404"] = {"description": "not_found", **error_ref}
        responses["409"] = {"description": "conflict or limit_exceeded", **error_ref}
    slug = re.sub(r"\W+", "_", openapi_path(e.path)).strip("_")
    op: dict[str, Any] = {
        "summary": e.summary,
        "description": ACCESS_TEXT[e.access],
        "tags": [e.tag],
        "operationId": f"{e.method.lower()}_{slug}",
        "responses": responses,
        "x-access": str(e.access),
    }
    if e.access is not Access.PUBLIC:
        op["security"] = (
            [{"bearer": []}] if e.access not in (Access.TICKET, Access.RATER) else [{"bearer": []}, {}]
        )
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)", e.path)
    ]
    params += [{"name": q, "in": "query", "schema": {"type": "string"}} for q in e.query]
    params += [{"name": h, "in": "header", "schema": {"type": "string", "maxLength": 200}} for h in e.headers]
    if params:
        op["parameters"] = params
    if e.body is not None:
        op["requestBody"] = {"content": {"application/json": {"schema": e.body.json_schema()}}}
    return op


def document(registry: Registry) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for e in registry.endpoints:
        paths.setdefault(openapi_path(e.path), {})[e.method.lower()] = operation(e)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "clearhall",
            "version": "1",
            "description": "The queue-and-kiosk API of a government service hall. It changes only by adding.",
        },
        "paths": paths,
        # The live events of GET /ws, from the one catalogue (CONTRACT §6).
        "x-events": [
            {
                "name": e.name,
                "fields": list(e.fields),
                "audience": sorted(e.audience),
                "own_window": e.own_window,  # only the sockets of the event's window
                "own_ticket": e.own_ticket,  # a citizen's socket only for its own ticket
                "about": e.about,
            }
            for e in events.CATALOGUE
        ],
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def handler(registry: Registry) -> Any:
    doc = document(registry)

    async def get_openapi(request: web.Request) -> web.Response:
        return web.json_response(doc)

    return get_openapi
