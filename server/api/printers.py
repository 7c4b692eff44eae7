"""HTTP endpoints of printing (CONTRACT §8).

- `GET /api/printers` (supervisor): each printer's state and its job counts.
- `GET /api/printers/{name}/preview.png` (supervisor): a sample ticket with the
  hall's real name, drawn from the bytes that printer would be sent.
- `GET /api/print-jobs` · `POST /api/print-jobs/{id}/cancel` (supervisor).
- `POST /api/tickets/{id}/reprint` (the issuing kiosk, or staff): 补打.
- `GET /api/printer-agent` (WebSocket; a printer or kiosk device token): the
  print agent of an `agent://` printer.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from aiohttp import web

from clearhall.printer.preview import preview_png
from clearhall.printer.render import TicketPrint
from clearhall.server.api.routes import AGENT_PRINTER, WHO, Access, Endpoint, ascii_number, ok
from clearhall.server.api.validate import EMPTY
from clearhall.server.domain import errors, messages
from clearhall.server.domain.tickets import local_iso
from clearhall.server.keys import DB, HALL, PRINTING
from clearhall.server.printing import jobs, labels, print_jobs, printers
from clearhall.server.printing.agents import AGENT_HEARTBEAT_S

JOB_STATUSES: Final = ("queued", "sent", "printed", "failed", "cancelled")


async def get_printers(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    agents = request.app[PRINTING].agents
    async with request.app[DB].acquire() as conn:
        rows = await printers.printers_with_counts(conn, hall.id)
    return ok(
        {
            "printers": [
                {
                    "name": r["name"],
                    "kiosk": r["kiosk"],
                    "address": r["address"],
                    "paper": r["paper"],
                    "encoding": r["encoding"],
                    "mode": r["mode"],
                    "state": r["state"],
                    "changed_at": local_iso(r["state_changed_at"], hall.timezone),
                    "checked_at": local_iso(r["checked_at"], hall.timezone),
                    "last_error": r["last_error"],
                    "last_error_at": local_iso(r["last_error_at"], hall.timezone),
                    "agent_connected": agents.connected(r["id"])
                    if r["address"].startswith("agent:")
                    else None,
                    "jobs": {"queued": r["queued"], "failed": r["failed"]},
                }
                for r in rows
            ]
        }
    )


async def get_preview(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    name = request.match_info["name"]
    async with request.app[DB].acquire() as conn:
        found = await printers.printer_by_name(conn, hall.id, name[:100])
        service = await conn.fetchrow(
            "SELECT code, name FROM services WHERE hall_id = $1 AND active ORDER BY position, code LIMIT 1",
            hall.id,
        )
    if found is None:
        raise errors.not_found(messages.NO_PRINTER(name=name[:100]))
    base = hall.public_url or f"{request.scheme}://{request.host}"
    sample = TicketPrint(
        hall_name=hall.name,
        service_name=service["name"] if service else "企业开办",
        number=f"{service['code'] if service else 'A'}023",
        category=labels.CATEGORY_LABELS["elderly"],
        ahead=7,
        issued_at=datetime.now(ZoneInfo(hall.timezone)),
        url=f"{base}/t/sample-ticket?key=sample-key",
        reprint=request.query.get("reprint") in ("1", "true"),
    )
    # Raster tickets take tens of milliseconds to draw: off the event loop.
    data = await asyncio.to_thread(labels.render_for, found, sample)
    png = await asyncio.to_thread(preview_png, data, found.paper, encoding=found.encoding)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


async def get_jobs(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    status = request.query.get("status")
    if status is not None and status not in JOB_STATUSES:
        raise errors.invalid(messages.NOT_A_JOB_STATUS(choices=", ".join(JOB_STATUSES)), "status")
    async with request.app[DB].acquire() as conn:
        rows = await print_jobs.recent_jobs(conn, hall.id, status)
    return ok(
        {"jobs": [print_jobs.Job.from_row(r).json(hall.timezone) | {"printer": r["printer"]} for r in rows]}
    )


def job_id(request: web.Request) -> int:
    text = request.match_info["id"]
    number = ascii_number(text, 2**62)
    if number is None:
        raise errors.not_found(messages.NO_PRINT_JOB(job_id=text[:40]))
    return number


async def cancel_job(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    job = await jobs.cancel(request.app[DB], hall, request[WHO], job_id(request))
    return ok({"job": job.json(hall.timezone)})


async def reprint(request: web.Request) -> web.Response:
    runtime = request.app[PRINTING]
    pending = await jobs.reprint(
        request.app[DB], request.app[HALL], request[WHO], request.match_info["id"], runtime
    )
    outcome = await runtime.print_now(pending)
    return ok({"print": outcome.json(), "job": {"id": pending.job_id, "printer": pending.printer.name}}, 201)


async def agent_socket(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(heartbeat=AGENT_HEARTBEAT_S)
    if not ws.can_prepare(request).ok:
        raise errors.invalid(messages.WEBSOCKET_ONLY)
    await ws.prepare(request)
    await request.app[PRINTING].agents.serve(ws, request[AGENT_PRINTER])
    return ws


ROUTES = (
    Endpoint(
        "GET", "/api/printers", get_printers, "Printers, their state (ready, paper_out...) and job counts",
        Access.SUPERVISOR, tag="printers",
    ),
    Endpoint(
        "GET", "/api/printers/{name}/preview.png", get_preview,
        "A PNG of a sample ticket as this printer would print it (?reprint=1 for 补打)",
        Access.SUPERVISOR, tag="printers", query=("reprint",),
    ),
    Endpoint(
        "GET", "/api/print-jobs", get_jobs, "The latest 100 print jobs (?status=failed ...)",
        Access.SUPERVISOR, tag="printers", query=("status",),
    ),
    Endpoint(
        "POST", "/api/print-jobs/{id}/cancel", cancel_job, "Cancel a queued or failed print job",
        Access.SUPERVISOR, body=EMPTY, tag="printers",
    ),
    Endpoint(
        "POST", "/api/tickets/{id}/reprint", reprint,
        "补打 Print a ticket again, marked 补打 (the issuing kiosk, or staff); logged",
        Access.ISSUER, body=EMPTY, status=201, tag="printers",
    ),
    Endpoint(
        "GET", "/api/printer-agent", agent_socket,
        "WebSocket of a print agent: receives its printer's jobs, reports results and status",
        Access.PRINTER_AGENT, tag="printers",
    ),
)  # fmt: skip
