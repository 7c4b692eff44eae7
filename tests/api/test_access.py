"""Every endpoint × every kind of credential: the 401/403 matrix of CONTRACT §3,
from the route table's declared access (`x-access` in the OpenAPI document).

A new endpoint must declare its access (the Endpoint has no default), and a new
kind of access fails here until its row is written below.
"""

from __future__ import annotations

import re

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
    "staff": {STAFF, SUPERVISOR},
    "supervisor": {SUPERVISOR},
    "window": {SUPERVISOR},
    "sign_in": {STAFF, SUPERVISOR},
    "issuer": {KIOSK_, STAFF, SUPERVISOR},
    "ticket": {STAFF, SUPERVISOR},
    "rater": {PAD},
    "printer_agent": {KIOSK_},  # then its handler looks for the kiosk's agent:// printer
}


async def token_of(api: Api, kind: str) -> str | None:
    if kind in (STAFF, SUPERVISOR):
        username = "s1" if kind == STAFF else "boss"
        r = await api.post("/api/login", {"username": username, "password": PASSWORDS[username]})
        return str(r.body["token"])
    return {NONE: None, WRONG: "not-a-token", KIOSK_: KIOSK, DISPLAY_: DISPLAY, PAD: RATING}[kind]


async def test_every_endpoint_answers_every_credential_as_declared(api: Api) -> None:
    doc = (await api.get("/api/openapi.json")).body
    tokens = {kind: await token_of(api, kind) for kind in EVERYONE}
    cells = 0
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            access = op["x-access"]
            assert access in PASSES, f"{method.upper()} {path}: access {access!r} has no row in this test"
            concrete = re.sub(r"\{\w+\}", "1", path)
            for kind in sorted(EVERYONE):
                # A body that no endpoint accepts: past the access check, a 400 (or the
                # handler's own answer); before it, 401 or 403.
                junk = "{}" if access == "rater" and kind == NONE else "{not json"
                data = junk if "requestBody" in op else None
                reply = await api.request(method.upper(), concrete, data=data, token=tokens[kind])
                where = (method.upper(), path, kind, reply.status, reply.body)
                assert reply.status < 500, where
                if kind in PASSES[access]:
                    assert reply.status != 401, where
                    if access != "printer_agent":
                        assert reply.status != 403, where
                elif kind in (NONE, WRONG):
                    assert reply.status == 401 and reply.body["error"]["code"] == "unauthorized", where
                else:
                    assert reply.status == 403 and reply.body["error"]["code"] == "forbidden", where
                cells += 1
                if path == "/api/logout" and kind in (STAFF, SUPERVISOR):
                    tokens[kind] = await token_of(api, kind)  # that one just ended
    assert cells >= 7 * 35
