"""One error shape everywhere, never a 500; the OpenAPI document is the real API;
the 401/403 matrix of CONTRACT §3."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import DISPLAY, KIOSK, RATING, Api


def assert_error(reply: Any, status: int, code: str | None = None) -> None:
    assert reply.status == status, (reply.status, reply.body)
    body = reply.body
    assert isinstance(body, dict), body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", body["error"]["code"])
    if code:
        assert body["error"]["code"] == code, body


async def operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    doc = (await api.get("/api/openapi.json")).body
    assert doc["openapi"].startswith("3.1")
    ops = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            concrete = re.sub(r"\{\w+\}", "1", path)  # window 1, ticket "1", printer "1", ...
            ops.append((method.upper(), concrete, op))
    return ops


async def test_openapi_matches_the_router(api: Api, server: TestServer) -> None:
    doc = (await api.get("/api/openapi.json")).body
    documented = {(m.upper(), p) for p, ms in doc["paths"].items() for m in ms}
    routed = set()
    for route in server.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if path.startswith("/api/") and route.method != "HEAD" and path != "/api/openapi.json":
            routed.add((route.method, re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)))
    assert routed == {(m, p) for m, p in documented if p.startswith("/api/")}
    assert ("GET", "/healthz") in documented


async def test_every_endpoint_refuses_without_credentials_in_shape(api: Api) -> None:
    for method, path, op in await operations(api):
        reply = await api.request(method, path)
        if op["x-access"] == "public":
            assert reply.status < 500, (method, path, reply.status)
            continue
        if op["x-access"] == "optional":  # a token may be left out, but not be wrong
            assert reply.status < 500, (method, path, reply.status)
        else:
            assert_error(reply, 401, "unauthorized")
        bad = await api.request(method, path, token="not-a-real-token")
        assert_error(bad, 401, "unauthorized")


JUNK_BODIES: list[tuple[bytes | str, int, str]] = [
    ("{not json", 400, "invalid_json"),
    ("[1, 2, 3]", 400, "invalid_input"),
    ('"a string"', 400, "invalid_input"),
    ('{"unknown_field": 1}', 400, "invalid_input"),
    ("null", 400, "invalid_input"),
    ("\x00\xff\xfe", 400, "invalid_json"),
    ("[" * 100_000, 413, "too_large"),
    ('{"a": "' + "x" * 70_000 + '"}', 413, "too_large"),
]


async def test_declared_access_is_what_is_enforced(api: Api) -> None:
    """A hall screen's token may do only what is public: every other endpoint, as the
    route table declares it (x-access), answers 403 before it looks at the body."""
    checked = 0
    for method, path, op in await operations(api):
        if op["x-access"] in ("public", "optional"):
            continue
        reply = await api.request(method, path, data="{not json", token=DISPLAY)
        assert_error(reply, 403, "forbidden")
        checked += 1
    assert checked >= 30


async def test_junk_bodies_get_clear_errors_on_every_endpoint(api: Api) -> None:
    boss = await api.login("boss")
    for method, path, op in await operations(api):
        if "requestBody" not in op:
            continue
        for junk, status, code in JUNK_BODIES:
            token = {"/api/tickets": KIOSK, "/api/guide-calls": KIOSK, "/api/ratings": RATING}.get(path, boss)
            reply = await api.request(method, path, data=junk, token=token,
                                      headers={"Content-Type": "application/json"})  # fmt: skip
            if path.startswith("/api/windows/") and status == 400 and "sign-in" not in path:
                # The window is judged first (closed window 1: not signed in, but a supervisor
                # may act), then the body: either way a 4xx in shape, never a 500.
                assert 400 <= reply.status < 500, (path, junk[:20], reply.body)
                assert reply.body["ok"] is False
                continue
            assert_error(reply, status, code)


async def test_wrong_types_nulls_and_huge_strings_name_the_field(api: Api) -> None:
    cases = [
        ({"service": 5}, "service"),
        ({"service": None}, "service"),
        ({"service": "A", "category": ["elderly"]}, "category"),
        ({"service": "A", "phone": 13812345678}, "phone"),
        ({"service": "A", "id_number": "1" * 5000}, "id_number"),
        ({"service": "A", "category": True}, "category"),
        ({"category": "normal"}, "service"),
        ({"service": "A", "phone": "1381234\x005678"}, "phone"),
    ]
    for body, field in cases:
        reply = await api.post("/api/tickets", body, token=KIOSK)
        assert_error(reply, 400, "invalid_input")
        assert reply.body["error"]["field"] == field
    login = await api.post("/api/login", {"username": "s1", "password": 12345})
    assert_error(login, 400, "invalid_input")
    assert login.body["error"]["field"] == "password"


async def test_unknown_paths_and_methods_use_the_shape(api: Api) -> None:
    assert_error(await api.get("/api/nothing-here"), 404, "not_found")
    assert_error(await api.request("DELETE", "/api/tickets"), 405, "method_not_allowed")
    assert_error(await api.post("/api/windows/abc/call-next", token=KIOSK), 404, "not_found")
    huge = await api.post("/api/windows/99999999999/call-next", token=await api.login("boss"))
    assert_error(huge, 404, "not_found")


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status"),
    [
        ("kiosk", "POST", "/api/windows/1/call-next", None, 403),
        ("kiosk", "POST", "/api/windows/1/sign-in", None, 403),
        ("display", "POST", "/api/tickets", {"service": "A"}, 403),
        ("rating", "POST", "/api/tickets", {"service": "A"}, 403),
        ("display", "POST", "/api/windows/1/finish", None, 403),
        ("kiosk", "GET", "/api/windows/1/waiting", None, 403),
        ("kiosk", "GET", "/api/me", None, 403),
        ("kiosk", "POST", "/api/logout", None, 403),
        ("s3", "POST", "/api/windows/1/sign-in", None, 403),  # not one of s3's windows
        ("s2", "POST", "/api/windows/1/call-next", None, 403),  # not signed in there
        ("s1", "POST", "/api/windows/1/call-next", None, 200),  # signed in below
        ("boss", "POST", "/api/windows/1/recall", None, 409),  # allowed; nothing to recall
        ("nobody", "POST", "/api/windows/1/call-next", None, 401),
        ("nobody", "POST", "/api/tickets", {"service": "A"}, 401),
        ("nobody", "GET", "/api/queue", None, 200),
        ("nobody", "GET", "/api/policy", None, 200),
    ],
)
async def test_401_403_matrix(api: Api, who: str, method: str, path: str, body: Any, status: int) -> None:
    await api.sign_in("s1", 1)
    tokens = {"kiosk": KIOSK, "display": DISPLAY, "rating": RATING, "nobody": None}
    token = tokens[who] if who in tokens else await api.login(who)
    reply = await api.request(method, path, body, token=token)
    assert reply.status == status, reply.body
    if status >= 400:
        assert_error(reply, status)


async def test_credentials_are_judged_before_the_body(api: Api) -> None:
    assert_error(await api.request("POST", "/api/tickets", data="{oops", token=DISPLAY), 403)
    assert_error(await api.request("POST", "/api/tickets", data="{oops"), 401)
    junk = {"reason": 5}
    assert_error(await api.post("/api/windows/1/pause", junk, token=await api.login("s2")), 403)


async def test_login_and_logout(api: Api) -> None:
    assert_error(await api.post("/api/login", {"username": "s1", "password": "wrong"}), 401, "unauthorized")
    assert_error(await api.post("/api/login", {"username": "ghost", "password": "x"}), 401)
    r = await api.post("/api/login", {"username": "s1", "password": "password-s1"})
    assert r.status == 200 and r.body["staff"]["name"] == "李娜" and r.body["staff"]["windows"] == [1, 2]
    token = r.body["token"]
    assert "password" not in str(r.body["staff"])
    assert (await api.get("/api/me", token=token)).status == 200
    assert (await api.post("/api/logout", token=token)).status == 200
    assert_error(await api.get("/api/me", token=token), 401)


async def test_expired_tokens_are_refused(api: Api, conn: Any) -> None:
    token = await api.login("s1")
    await conn.execute("UPDATE sessions SET expires_at = now() - interval '1 second'")
    assert_error(await api.get("/api/me", token=token), 401)
    stored = await conn.fetch("SELECT token_hash FROM sessions")
    assert token.encode() not in b"".join(r["token_hash"] for r in stored)


async def test_no_secret_reaches_the_access_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    t = await api.issue("A")
    await api.get(f"/api/tickets/{t['id']}?key={t['key']}")
    await api.login("s1")
    text = caplog.text
    assert t["key"] not in text and "password-s1" not in text and KIOSK not in text


async def test_a_lost_database_is_503_then_recovers(api: Api, conn: Any) -> None:
    await api.issue("A")
    # Cut every connection the server holds, as a database restart would.
    killed = await conn.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    assert killed >= 1
    statuses = []
    for _ in range(12):
        r = await api.get("/api/queue")
        statuses.append(r.status)
        if r.status == 503:
            assert_error(r, 503, "unavailable")
            assert r.headers["Retry-After"] == "2"
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[-1] == 200  # the pool reconnects by itself


async def test_database_errors_map_to_503_not_500() -> None:
    import asyncpg
    from aiohttp import ClientSession, web
    from aiohttp.test_utils import TestServer

    from clearhall.server.api.middleware import AccessLogger, error_middleware

    async def lost(request: web.Request) -> web.Response:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    async def bug(request: web.Request) -> web.Response:
        raise KeyError("a bug")

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/lost", lost)
    app.router.add_get("/bug", bug)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log_class=AccessLogger)
    try:
        async with ClientSession() as session:
            async with session.get(server.make_url("/lost")) as r:
                assert r.status == 503 and (await r.json())["error"]["code"] == "unavailable"
            async with session.get(server.make_url("/bug")) as r:
                body = await r.json()
                assert r.status == 500 and body["error"]["code"] == "internal_error"
                assert "KeyError" not in str(body)  # no internals
    finally:
        await server.close()


async def test_nul_bytes_never_reach_the_database(api: Api) -> None:
    await api.sign_in("s1", 1)
    r = await api.window("s1", 1, "pause", {"reason": "午休\x00"})
    assert_error(r, 400, "invalid_input")
    assert r.body["error"]["field"] == "reason"
    for path in ("/api/tickets/%00", "/api/tickets/a%00b?key=x", "/api/printers/%00/preview.png"):
        reply = await api.get(path, token=await api.login("boss"))
        assert 400 <= reply.status < 500, (path, reply.body)
        assert reply.body["ok"] is False


async def test_messages_follow_accept_language_one_language_each(api: Api) -> None:
    path = "/api/windows/99/call-next"
    boss = await api.login("boss")
    zh = await api.post(path, token=boss)
    en = await api.post(path, token=boss, headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    preferred_zh = await api.post(path, token=boss, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert zh.body["error"]["message"] == "没有 99 号窗口" == preferred_zh.body["error"]["message"]
    assert en.body["error"]["message"] == "There is no window 99"
    assert zh.body["error"]["code"] == en.body["error"]["code"] == "not_found"


def test_every_catalogue_text_is_in_one_language_each() -> None:
    from clearhall.server.domain import messages
    from clearhall.server.domain.text import Text

    han = re.compile(r"[\u4e00-\u9fff]")
    texts = {name: t for name, t in vars(messages).items() if isinstance(t, Text)}
    assert len(texts) > 40
    for name, t in texts.items():
        assert han.search(t.zh) and not han.search(t.en), name
        # One call fills both languages: whatever either side names, both accept.
        names = set(re.findall(r"\{(\w+)\}", t.zh + t.en))
        filled = t(**dict.fromkeys(names, "1"))
        assert "{" not in filled.zh + filled.en, name


HUGE = "9" * 5000  # Python refuses to turn more than 4,300 digits into an int
NOT_QUITE_DIGITS = [
    HUGE,
    "\u00b2",  # "²": str.isdigit() says yes, int() refuses (found by the fuzz test in CI)
    "\u0663",  # Arabic-Indic three: a regex \d and int() both accept it
    "\uff13",  # full-width three
]


@pytest.mark.parametrize("odd", NOT_QUITE_DIGITS, ids=["huge", "superscript", "arabic", "fullwidth"])
async def test_odd_numbers_in_paths_and_queries_are_not_500s(api: Api, odd: str) -> None:
    """Issue 8, finding 3: every path parameter and every query parameter, as a
    5,000-digit number or a character that only looks like a digit, with the most
    powerful credential: a 4xx in shape, never a 500 and never the number it resembles."""
    boss = await api.login("boss")
    doc = (await api.get("/api/openapi.json")).body
    tried = 0
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            concrete = re.sub(r"\{\w+\}", quote(odd), path)
            plain = re.sub(r"\{\w+\}", "1", path)
            queries = [q["name"] for q in op.get("parameters", []) if q["in"] == "query"]
            for target in [concrete, *(f"{plain}?{q}={quote(odd)}" for q in queries)]:
                if target == path:
                    continue  # no parameter to fill
                reply = await api.request(method.upper(), target, token=boss)
                assert reply.status < 500, (method, target[:80], reply.status, reply.body)
                if reply.status >= 400:
                    assert reply.body["ok"] is False
                tried += 1
    for page in ("/display/window/" + quote(odd), "/rate/" + quote(odd)):
        assert (await api.get(page)).status < 500
    assert tried > 15
    assert (await api.get(f"/api/windows/{quote(odd)}/waiting", token=boss)).status == 404


async def test_nul_bytes_in_static_paths_are_404(api: Api) -> None:
    for path in ("/static/kiosk/a%00b.js", "/static/shared/%00", "/static/display/%00/x.css"):
        reply = await api.get(path)
        assert reply.status in (400, 404), (path, reply.status)


async def test_sign_in_judges_the_person_before_the_body(api: Api) -> None:
    """Issue 8, finding 14: s3 may not work at window 1, whatever the body says."""
    s3 = await api.login("s3")
    junk = await api.request("POST", "/api/windows/1/sign-in", data="{not json", token=s3)
    assert_error(junk, 403, "forbidden")
    assert_error(await api.post("/api/windows/1/sign-in", {"x": 1}, token=s3), 403, "forbidden")
    assert_error(await api.post("/api/windows/77/sign-in", token=s3), 404, "not_found")
    allowed = await api.login("s1")
    assert_error(await api.request("POST", "/api/windows/1/sign-in", data="{not json", token=allowed), 400)


async def test_every_response_carries_the_security_headers(api: Api) -> None:
    """Issue 8, finding 8 (CONTRACT §3): nosniff and no-referrer everywhere, a strict CSP on pages."""
    for path in ("/healthz", "/api/queue", "/api/nothing", "/static/shared/common.js", "/kiosk", "/t/abc"):
        reply = await api.get(path)
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert reply.headers["Referrer-Policy"] == "no-referrer", path
    for page in ("/kiosk", "/display", "/console", "/supervisor", "/t/abc", "/rate/1", "/display/window/1"):
        policy = (await api.get(page)).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, page
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, page
