"""Pages and their files are served; the Python beside them is not.

Every page of CONTRACT §9 loads its scripts and styles as /static/<folder>/...,
each <folder> one directory (server/api/pages.py), and each file has one address.
"""

from __future__ import annotations

from html.parser import HTMLParser

from clearhall.server.api.pages import FOLDERS, PAGES, folder_of
from tests.conftest import Api

ADDRESSES = (
    "/kiosk",
    "/display",
    "/display/window/3",
    "/rate/1",
    "/console",
    "/supervisor",
    "/supervisor/wall",
    "/t/abc",
)


class Loads(HTMLParser):
    """The addresses a page loads: every <script src> and <link href>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value is not None:
                self.urls.append(value)


async def test_pages_and_static_files(api: Api) -> None:
    for address in ADDRESSES:
        r = await api.get(address)
        assert r.status == 200 and "<html" in r.body.lower(), address
    assert (await api.get("/static/shared/common.js")).status == 200
    async with api.session.get(api.base + "/static/display/voice/clips/chime.wav") as clip:
        assert clip.status == 200 and (await clip.read())[:4] == b"RIFF"


async def test_everything_a_page_loads_is_served(api: Api) -> None:
    for address in ADDRESSES:
        loads = Loads()
        loads.feed((await api.get(address)).body)
        urls = [u for u in loads.urls if not u.startswith("data:")]  # the empty favicon
        assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls), address
        for url in urls:
            folder = url.split("/")[2] if url.startswith("/static/") else None
            assert folder in FOLDERS and ".." not in url, f"{address} loads {url}"
            r = await api.get(url)
            assert r.status == 200, f"{address} loads {url}: {r.status}"


def test_a_page_loads_code_from_its_own_folder_and_the_shared_ones() -> None:
    """What two folders' pages both load (the voice of the hall screen and the kiosk)
    lives in shared/, not in one of them."""
    for address, path in PAGES.items():
        loads = Loads()
        loads.feed(path.read_text(encoding="utf-8"))
        own = folder_of(path)
        folders = {u.split("/")[2] for u in loads.urls if u.startswith("/static/")}
        assert folders and folders <= {own, "shared", "vendor"}, f"{address} ({own}) loads from {folders}"


async def test_a_file_has_one_address(api: Api) -> None:
    """shared/ and vendor/ lie inside server/pages/, but are not served as /static/pages/…"""
    assert (await api.get("/static/vendor/qrcode/qrcode.js")).status == 200
    for path in ("/static/pages/shared/common.js", "/static/pages/vendor/qrcode/qrcode.js"):
        assert (await api.get(path)).status == 404, path


def test_every_vendored_library_has_its_licence() -> None:
    libraries = [p for p in FOLDERS["vendor"].iterdir() if p.is_dir()]
    assert libraries
    for library in libraries:
        licence = library / "LICENSE"
        assert licence.is_file() and licence.read_text(encoding="utf-8").strip(), library


async def test_source_and_paths_outside_are_not_served(api: Api) -> None:
    for path in (
        "/static/display/voice/make_clips.py",
        "/static/display/__init__.py",
        "/static/pages/../api.py",
        "/static/pages/%2e%2e/api.py",
        "/static/pages/..%2fapi.py",
        "/static/shared/..%2f..%2fapi%2fpages.py",
        "/static/display/..%2fkiosk%2fkiosk.js",
        "/static/vendor/qrcode/LICENSE",
        "/static/nothing/x.js",
        "/static/kiosk/missing.js",
    ):
        r = await api.get(path)
        assert r.status == 404, path
        assert r.body["ok"] is False
