"""Every endpoint × every kind of credential: the 401/403 matrix of CONTRACT §3,
from the route table's declared access (`x-access` in the OpenAPI document).

Each endpoint is called twice over. First with a body no endpoint accepts: the
credentials the access keeps out get 401 or 403 before the body is read. Then,
for the credentials the access lets in, with the smallest body its schema
accepts (built from the OpenAPI requestBody), so that the handler runs: it must
not refuse them either, or declared and enforced access have drifted apart.

A new endpoint must declare its access (the Endpoint has no default), and a new
kind of access fails here until its row is written below.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from clearhall.server.api import routes
from tests.conftest import DISPLAY, KIOSK, PASSWORDS, RATING, Api

NONE, WRONG, KIOSK_, DISPLAY_, PAD, STAFF, SUPERVISOR = (
    "none",
    "wrong",
    "kiosk",
    "display",
    "pad",
    "staff",
    "supervisor",
)
EVERYONE = {NONE, WRONG, KIOSK_, DISPLAY_, PAD, STAFF, SUPERVISOR}
# Who gets past each access (staff = s1, who may work at window 1 but is signed in nowhere).
PASSES = {
    "public": EVERYONE,
    "optional": EVERYONE - {WRONG},  # a token sent must be a valid one
    "staff": {STAFF, SUPERVISOR},
    "supervisor": {SUPERVISOR},
    "window": {SUPERVISOR},
    "sign_in": {STAFF, SUPERVISOR},
    "issuer": {KIOSK_, STAFF, SUPERVISOR},
    "kiosk": {KIOSK_},
    "ticket": {STAFF, SUPERVISOR},
    "rater": {PAD},
    "printer_agent": set(),  # the test hall's kiosk prints over TCP: it has no agent:// printer
}
# Calls that judge a credential: only the guard (server/api/routes.py) makes them.
JUDGING = {"authenticate", "bearer", "require_staff", "require_device", "forbidden"}
# A value for each pattern the API's bodies use: a new pattern fails until it has one.
MATCHING = {"[A-Z]{1,2}": "A", r"[A-Z]{1,2}\d{3,6}": "A001"}


async def token_of(api: Api, kind: str) -> str | None:
    if kind in (STAFF, SUPERVISOR):
        username = "s1" if kind == STAFF else "boss"
        r = await api.post("/api/login", {"username": username, "password": PASSWORDS[username]})
        return str(r.body["token"])
    return {NONE: None, WRONG: "not-a-token", KIOSK_: KIOSK, DISPLAY_: DISPLAY, PAD: RATING}[kind]


def smallest(schema: dict[str, Any]) -> Any:
    """The smallest value `schema` accepts: an object with its required fields only."""
    kind = schema["type"]
    if kind == "object":
        return {name: smallest(schema["properties"][name]) for name in schema.get("required", ())}
    if kind == "string":
        if "enum" in schema:
            return schema["enum"][0]
        if "pattern" in schema:
            value = MATCHING.get(schema["pattern"])
            assert value is not None, f"no value for the pattern {schema['pattern']!r}: add one to MATCHING"
            assert re.fullmatch(schema["pattern"], value)
            return value
        return "x"
    if kind == "integer":
        return schema.get("minimum", 1)
    return {"boolean": False, "array": []}[kind]


def test_the_smallest_bodies_are_what_their_schemas_ask() -> None:
    schema = {
        "type": "object",
        "required": ["service", "score", "kind", "services"],
        "properties": {
            "service": {"type": "string", "pattern": "[A-Z]{1,2}"},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "kind": {"type": "string", "enum": ["fix", "close"]},
            "services": {"type": "array"},
            "note": {"type": "string"},
        },
    }
    assert smallest(schema) == {"service": "A", "score": 1, "kind": "fix", "services": []}


async def test_every_endpoint_answers_every_credential_as_declared(api: Api) -> None:
    doc = (await api.get("/api/openapi.json")).body
    tokens = {kind: await token_of(api, kind) for kind in EVERYONE}
    cells = 0

    async def call(method: str, path: str, kind: str, **body: Any) -> tuple[Any, ...]:
        reply = await api.request(method, re.sub(r"\{\w+\}", "1", path), token=tokens[kind], **body)
        if path == "/api/logout" and kind in (STAFF, SUPERVISOR) and reply.status == 200:
            tokens[kind] = await token_of(api, kind)  # that one just ended
        where = (method, path, kind, reply.status, reply.body)
        assert reply.status < 500, where
        return where

    operations = [(m.upper(), p, op) for p, methods in doc["paths"].items() for m, op in methods.items()]
    for method, path, op in operations:
        access = op["x-access"]
        assert access in PASSES, f"{method} {path}: access {access!r} has no row in this test"
        for kind in sorted(EVERYONE):
            # A body that no endpoint accepts: past the access check, a 400 (or the
            # handler's own answer); before it, 401 or 403.
            junk = "{}" if access == "rater" and kind == NONE else "{not json"
            where = await call(method, path, kind, data=junk if "requestBody" in op else None)
            status, body = where[3:]
            if kind in PASSES[access]:
                assert status not in (401, 403), where
            elif kind in (NONE, WRONG):
                assert status == 401 and body["error"]["code"] == "unauthorized", where
            else:
                assert status == 403 and body["error"]["code"] == "forbidden", where
            cells += 1
    # Then the bodies the handlers take (after every refusal above: a staff member who
    # signs in at window 1 here would have been let in to act there).
    for method, path, op in operations:
        if "requestBody" not in op:
            continue  # its handler has run above, for everyone let in
        access = op["x-access"]
        valid = smallest(op["requestBody"]["content"]["application/json"]["schema"])
        if access == "rater":
            valid.pop("key", None)  # the pad's token is its credential
        # An open endpoint that documents 401 checks a credential of the body's own
        # (a password, a ticket's key): made-up, it is refused, and that is not drift.
        refusals = {403} if access == "public" and "401" in op["responses"] else {401, 403}
        for kind in sorted(PASSES[access]):
            # Whatever the handler answers (404 for ticket 1, 409, 429...), it is not
            # the refusal of a credential the access lets in.
            where = await call(method, path, kind, json=valid, record=False)
            assert where[3] not in refusals, where
            cells += 1
    assert cells >= 7 * 35


def judged_by_hand(path: Path) -> list[str]:
    """The calls in `path` that judge a credential (`errors.forbidden(...)`, `authenticate(...)`...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in JUDGING:
                found.append(f"{path.name}:{node.lineno} {name}()")
    return found


def test_no_handler_judges_a_credential_by_hand() -> None:
    """What a handler refuses by hand the route table does not declare (the matrix above
    cannot see a refusal that only some bodies reach). A ticket's key in ?key= or in the
    body is checked against that ticket by its handler: that is 401, never 403."""
    api = Path(routes.__file__).parent
    modules = [p for p in api.glob("*.py") if p.name != "routes.py"]
    assert len(modules) > 20
    assert not [call for p in modules for call in judged_by_hand(p)]
    assert judged_by_hand(Path(routes.__file__))  # the check sees the guard's own
