"""The pages of CONTRACT §9 and their static files, served from the package.

Screens and kiosks are browsers pointed at fixed addresses; each address is one
HTML file, and its scripts and styles come from /static/<folder>/.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from clearhall.server.api.routes import Handler

ROOT = Path(__file__).resolve().parents[2]  # the folder holding server/, kiosk/, display/
FOLDERS = {
    "kiosk": ROOT / "kiosk",
    "display": ROOT / "display",
    "pages": ROOT / "server" / "pages",
}
PAGES = {
    "/kiosk": FOLDERS["kiosk"] / "index.html",
    "/display": FOLDERS["display"] / "hall.html",
    r"/display/window/{n:\d+}": FOLDERS["display"] / "window.html",
    r"/rate/{n:\d+}": FOLDERS["pages"] / "rate.html",
    "/console": FOLDERS["pages"] / "console.html",
    "/supervisor": FOLDERS["pages"] / "supervisor.html",
    "/t/{id}": FOLDERS["pages"] / "phone.html",
}


def page(path: Path) -> Handler:
    async def serve(request: web.Request) -> web.StreamResponse:
        if not path.exists():  # noqa: ASYNC240 (a stat of a local file)
            raise web.HTTPNotFound(reason="this page is not installed")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return serve


# What a page may load; the same folders hold Python, which is not served.
STATIC_TYPES = {".html", ".js", ".css", ".png", ".svg", ".wav", ".woff2", ".ico", ".json"}


async def static(request: web.Request) -> web.StreamResponse:
    folder = FOLDERS.get(request.match_info["folder"])
    if folder is None:
        raise web.HTTPNotFound()
    path = (folder / request.match_info["file"]).resolve()
    if path.suffix not in STATIC_TYPES or not path.is_relative_to(folder) or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


def install(app: web.Application) -> None:
    for address, path in PAGES.items():
        app.router.add_get(address, page(path))
    app.router.add_get("/static/{folder}/{file:.+}", static)
