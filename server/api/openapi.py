"""The OpenAPI 3.1 document, built from the same route table as the router.

Each operation lists every status it may answer, derived from its row (access,
body, parameters, throttling): the errors are `components/responses`, each the
contract's one shape with the codes of its status from the middleware's table,
so a client and schemathesis (tests/api/test_schemathesis.py) can hold the
server to them.
"""

from __future__ import annotations

import re
from typing import Any, Final

from aiohttp import web

from clearhall.server.api.middleware import STATUS
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
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z]+(_[a-z]+)*$"},
                "message": {"type": "string"},
            },
        },
    },
}


def openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)


# A path parameter's schema, from its route pattern: `{n:\d+}` takes ASCII digits
# only (aiohttp's `\d` also matches other scripts' digits; those answer 404).
PATH_PATTERNS: Final = {r"\d+": {"type": "string", "pattern": "^[0-9]+$"}}


def path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": PATH_PATTERNS.get(rx, {"type": "string"})}
        for name, rx in re.findall(r"\{(\w+)(?::([^}]*))?\}", path)
    ]


# Open endpoints whose body carries a credential to check: a password, a ticket's or a case's key.
PROVEN_IN_BODY: Final = {
    ("POST", "/api/login"),
    ("POST", "/api/complaints"),
    ("POST", "/api/follow-ups/{id}/satisfaction"),
}


# The error answers, each once under components/responses: what it means, and
# whether it says when to try again (Retry-After, in seconds).
ERRORS: Final = {
    400: ("`error.field` names the field or parameter", False),
    401: ("no valid credential (or a wrong password or key)", False),
    403: ("this credential may not do this", False),
    404: ("no such thing", False),
    408: ("the body did not arrive in time", False),
    409: ("not now: the state or the hall's hours do not allow it", False),
    413: ("a body over 64 KiB", False),
    429: ("too many tries", True),
    503: ("the database cannot be reached", True),
}


def error(status: int) -> dict[str, Any]:
    """An error answer: the one shape (CONTRACT §3) with the codes of its status, from
    the middleware's one table."""
    text, retry = ERRORS[status]
    codes = sorted(code for code, s in STATUS.items() if s == status)
    schema = {
        "allOf": [{"$ref": "#/components/schemas/Error"}],
        "properties": {"status": {"const": status}, "error": {"properties": {"code": {"enum": codes}}}},
    }
    answer: dict[str, Any] = {
        "description": f"{', '.join(codes)}: {text}",
        "content": {"application/json": {"schema": schema}},
    }
    if retry:
        answer["headers"] = {
            "Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "string"}}
        }
    return answer


def responses(e: Endpoint) -> dict[str, Any]:
    """Every status the endpoint may answer, from what the route table declares of it."""
    errors = [503]  # any endpoint, when the database cannot be reached
    names_a_ticket = e.body is not None and any(f.name == "ticket" for f in e.body.fields)
    if e.body is not None or e.query or e.headers or "{" in e.path:
        errors.append(400)
    if e.access is not Access.PUBLIC or (e.method, openapi_path(e.path)) in PROVEN_IN_BODY:
        errors.append(401)
    if e.access not in (Access.PUBLIC, Access.OPTIONAL):
        errors.append(403)
    if "{" in e.path or e.tag in ("windows", "tickets") or names_a_ticket:
        errors.append(404)
    if e.body is not None:
        errors += [408, 413]
    if e.method != "GET" or e.tag in ("windows", "tickets"):
        errors.append(409)
    if e.throttled:
        errors.append(429)
    answers: dict[str, Any] = {str(e.status): {"description": "success"}}
    answers.update({str(n): {"$ref": f"#/components/responses/Error{n}"} for n in sorted(errors)})
    return answers


def operation(e: Endpoint) -> dict[str, Any]:
    slug = re.sub(r"\W+", "_", openapi_path(e.path)).strip("_")
    op: dict[str, Any] = {
        "summary": e.summary,
        "description": ACCESS_TEXT[e.access],
        "tags": [e.tag],
        "operationId": f"{e.method.lower()}_{slug}",
        "responses": responses(e),
        "x-access": str(e.access),
    }
    if e.access is not Access.PUBLIC:  # {}: the credential may be left out
        may_omit = e.access in (Access.TICKET, Access.RATER, Access.OPTIONAL)
        op["security"] = [{"bearer": []}, {}] if may_omit else [{"bearer": []}]
    params = path_parameters(e.path)
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
            "responses": {f"Error{n}": error(n) for n in ERRORS},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def handler(registry: Registry) -> Any:
    doc = document(registry)

    async def get_openapi(request: web.Request) -> web.Response:
        return web.json_response(doc)

    return get_openapi
