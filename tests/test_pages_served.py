"""Pages and their files are served; the Python beside them is not."""

from __future__ import annotations

from tests.conftest import Api


async def test_pages_and_static_files(api: Api) -> None:
    for address in ("/kiosk", "/display", "/display/window/3", "/rate/1", "/console", "/t/abc"):
        r = await api.get(address)
        assert r.status == 200 and "<html" in r.body.lower(), address
    assert (await api.get("/static/pages/common.js")).status == 200
    async with api.session.get(api.base + "/static/display/voice/clips/chime.wav") as r:
        assert r.status == 200 and (await r.read())[:4] == b"RIFF"


async def test_source_and_paths_outside_are_not_served(api: Api) -> None:
    for path in (
        "/static/display/voice/make_clips.py",
        "/static/display/__init__.py",
        "/static/pages/../api.py",
        "/static/pages/%2e%2e/api.py",
        "/static/pages/..%2fapi.py",
        "/static/nothing/x.js",
        "/static/kiosk/missing.js",
    ):
        r = await api.get(path)
        assert r.status == 404, path
        assert r.body["ok"] is False
