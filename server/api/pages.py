"""The pages of CONTRACT §9 and their static files, served from the package.

Screens and kiosks are browsers pointed at fixed addresses; each address is one
HTML file. A page loads its scripts and styles only as /static/<folder>/<file>,
and each <folder> below names exactly one directory:

    /static/shared/   server/pages/shared/   what pages of several folders load: words,
                                             page helpers, base styles, voice
    /static/vendor/   server/pages/vendor/   third-party code, each beside its licence
    /static/kiosk/    kiosk/                 the kiosk
    /static/display/  display/               hall screen, window screen, rating pad, voice clips
    /static/pages/    server/pages/          staff console, supervisor dashboard, phone page

A file has one address: the folder that holds it most closely serves it, so
server/pages/shared/common.js is /static/shared/common.js and never
/static/pages/shared/common.js. A page loads code from its own folder, shared/
and vendor/ only. Only page file types are served; the same folders hold
Python, which is not.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from clearhall.server.api.routes import Handler

ROOT = Path(__file__).resolve().parents[2]  # the folder holding server/, kiosk/, display/
PAGES_DIR = ROOT / "server" / "pages"
FOLDERS = {
    "shared": PAGES_DIR / "shared",
    "vendor": PAGES_DIR / "vendor",
    "kiosk": ROOT / "kiosk",
    "display": ROOT / "display",
    "pages": PAGES_DIR,
}
PAGES = {
    "/kiosk": FOLDERS["kiosk"] / "index.html",
    "/display": FOLDERS["display"] / "hall.html",
    r"/display/window/{n:\d+}": FOLDERS["display"] / "window.html",
    r"/rate/{n:\d+}": FOLDERS["display"] / "rate.html",
    "/console": FOLDERS["pages"] / "console.html",
    "/supervisor": FOLDERS["pages"] / "supervisor.html",
    "/supervisor/wall": FOLDERS["pages"] / "supervisor-wall.html",  # 数据大屏: a supervisor's log-in
    "/t/{id}": FOLDERS["pages"] / "phone.html",
    "/book": FOLDERS["pages"] / "book.html",  # 预约: the public booking page, phone-sized
    "/b/{id}": FOLDERS["pages"] / "book.html",  # one booking: its code, QR, cancel
}

# What a page may load; the same folders hold Python, which is not served.
STATIC_TYPES = {".html", ".js", ".css", ".png", ".svg", ".wav", ".woff2", ".ico", ".json"}


def page(path: Path) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        if not path.exists():  # noqa: ASYNC240 (a stat of a local file)
            raise web.HTTPNotFound(reason="this page is not installed")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return serve


def folder_of(path: Path) -> str | None:
    """The name of the innermost served folder holding `path`, or None."""
    holding = [name for name, folder in FOLDERS.items() if path.is_relative_to(folder)]
    return max(holding, key=lambda name: len(FOLDERS[name].parts), default=None)


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["folder"]
    folder = FOLDERS.get(name)
    if folder is None:
        raise web.HTTPNotFound()
    file = request.match_info["file"]
    if "\x00" in file:  # a path the operating system cannot even look up
        raise web.HTTPNotFound()
    path = (folder / file).resolve()
    if path.suffix not in STATIC_TYPES or folder_of(path) != name or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


def install(app: web.Application) -> None:
    for address, path in PAGES.items():
        app.router.add_get(address, page(path))
    app.router.add_get("/static/{folder}/{file:.+}", static)
