"""HTTP endpoints of printing (CONTRACT §8), added to the route table at import.

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
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiohttp import web
from clearhall.printer.preview import preview_png
from clearhall.printer.render import TicketPrint
from clearhall.server.api import errors
from clearhall.server.api.handlers import ok, principal
from clearhall.server.api.openapi import ACCESS_TEXT
from clearhall.server.api.routes import ISSUER, REGISTRY, SUPERVISOR
from clearhall.server.api.validate import EMPTY, read_body
from clearhall.server.domain import action_log as audit
from clearhall.server.domain import auth
from clearhall.server.domain.tickets import local_iso
from clearhall.server.keys import DB, HALL
from clearhall.server.printing import jobs as printing

# Who may open the agent socket, for the OpenAPI document.
PRINTER_AGENT: Final = "printer_agent"
ACCESS_TEXT.setdefault(
    PRINTER_AGENT, "A printer device token (device named like the printer), or the kiosk's own token."
)
JOB_STATUSES: Final = ("queued", "sent", "printed", "failed", "cancelled")


async def supervisor(request: web.Request) -> auth.Principal:
    p = await principal(request)
    auth.require_staff(p, *auth.SUPERVISORS)
    return p


async def get_printers(request: web.Request) -> web.Response:
    await supervisor(request)
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        rows = await printing.printers_with_counts(conn, hall.id)
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
                    "agent_connected": r["id"] in request.app[printing.PRINTING].agents
                    if r["address"].startswith("agent:")
                    else None,
                    "jobs": {"queued": r["queued"], "failed": r["failed"]},
                }
                for r in rows
            ]
        }
    )


async def get_preview(request: web.Request) -> web.Response:
    await supervisor(request)
    hall = request.app[HALL]
    name = request.match_info["name"]
    async with request.app[DB].acquire() as conn:
        found = await printing.printer_by_name(conn, hall.id, name[:100])
        service = await conn.fetchrow(
            "SELECT code, name FROM services WHERE hall_id = $1 AND active ORDER BY position, code LIMIT 1",
            hall.id,
        )
    if found is None:
        raise errors.not_found(f"没有打印机 {name} (no printer {name!r})")
    base = hall.public_url or f"{request.scheme}://{request.host}"
    sample = TicketPrint(
        hall_name=hall.name,
        service_name=service["name"] if service else "企业开办",
        number=f"{service['code'] if service else 'A'}023",
        category=printing.CATEGORY_LABELS["elderly"],
        ahead=7,
        issued_at=datetime.now(ZoneInfo(hall.timezone)),
        url=f"{base}/t/sample-ticket?key=sample-key",
        reprint=request.query.get("reprint") in ("1", "true"),
    )
    # Raster tickets take tens of milliseconds to draw: off the event loop.
    data = await asyncio.to_thread(printing.render_for, found, sample)
    png = await asyncio.to_thread(preview_png, data, found.paper, encoding=found.encoding)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "no-store"})


async def get_jobs(request: web.Request) -> web.Response:
    await supervisor(request)
    hall = request.app[HALL]
    status = request.query.get("status")
    if status is not None and status not in JOB_STATUSES:
        raise errors.invalid(
            f"status 可选: {', '.join(JOB_STATUSES)} (status must be one of {', '.join(JOB_STATUSES)})",
            "status",
        )
    async with request.app[DB].acquire() as conn:
        rows = await printing.recent_jobs(conn, hall.id, status)
    return ok(
        {"jobs": [printing.Job.from_row(r).json(hall.timezone) | {"printer": r["printer"]} for r in rows]}
    )


def job_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not text.isdigit() or len(text) > 18:
        raise errors.not_found(f"没有这个打印任务 (no print job {text[:40]!r})")
    return int(text)


async def cancel_job(request: web.Request) -> web.Response:
    p = await supervisor(request)
    await read_body(request, EMPTY)
    hall = request.app[HALL]
    number = job_id(request)
    async with request.app[DB].acquire() as conn, conn.transaction():
        before = await printing.fetch_job(conn, hall.id, number)
        job = await printing.cancel(conn, hall.id, number)
        if before is not None and before.status != "cancelled":
            await audit.record(
                conn, hall.id, p.actor, "print_cancel", ticket_id=job.ticket_id,
                ticket_number=job.ticket_number, details={"job": job.id, "was": before.status},
            )  # fmt: skip
    return ok({"job": job.json(hall.timezone)})


async def reprint(request: web.Request) -> web.Response:
    p = await principal(request)
    if p.kind == "device":
        auth.require_device(p, "kiosk")
    await read_body(request, EMPTY)
    hall = request.app[HALL]
    runtime = request.app[printing.PRINTING]
    async with request.app[DB].acquire() as conn, conn.transaction():
        ticket, pending = await printing.queue_reprint(conn, hall, p, request.match_info["id"], runtime)
        await audit.record(
            conn, hall.id, p.actor, "reprint", ticket_id=ticket.id, ticket_number=ticket.number,
            details={"printer": pending.printer.name, "job": pending.job_id},
        )  # fmt: skip
    outcome = await runtime.print_now(pending)
    return ok({"print": outcome.json(), "job": {"id": pending.job_id, "printer": pending.printer.name}}, 201)


async def agent_socket(request: web.Request) -> web.StreamResponse:
    p = await principal(request)
    auth.require_device(p, "printer", "kiosk")
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        found = await printing.agent_printer(conn, hall.id, p)
    if found is None:
        raise errors.forbidden(
            "此设备没有 agent:// 打印机 (this device has no agent:// printer in the hall file)"
        )
    ws = web.WebSocketResponse(heartbeat=printing.AGENT_HEARTBEAT_S)
    if not ws.can_prepare(request).ok:
        raise errors.invalid("此地址只接受 WebSocket 连接 (this endpoint speaks WebSocket only)")
    await ws.prepare(request)
    await request.app[printing.PRINTING].serve_agent(ws, found)
    return ws


def _add(method: str, path: str, handler: Any, summary: str, access: str, **kw: Any) -> None:
    REGISTRY.add(method, path, handler, summary=summary, access=access, tag="printers", **kw)


_add(
    "GET",
    "/api/printers",
    get_printers,
    "Printers, their state (ready, paper_out...) and job counts",
    SUPERVISOR,
)
_add(
    "GET",
    "/api/printers/{name}/preview.png",
    get_preview,
    "A PNG of a sample ticket as this printer would print it (?reprint=1 for 补打)",
    SUPERVISOR,
    query=("reprint",),
)
_add("GET", "/api/print-jobs", get_jobs, "The latest 100 print jobs (?status=failed ...)", SUPERVISOR,
     query=("status",))  # fmt: skip
_add("POST", "/api/print-jobs/{id}/cancel", cancel_job, "Cancel a queued or failed print job", SUPERVISOR,
     body=EMPTY)  # fmt: skip
_add(
    "POST",
    "/api/tickets/{id}/reprint",
    reprint,
    "补打 Print a ticket again, marked 补打 (the issuing kiosk, or staff); logged",
    ISSUER,
    body=EMPTY,
    status=201,
)
_add(
    "GET",
    "/api/printer-agent",
    agent_socket,
    "WebSocket of a print agent: receives its printer's jobs, reports results and status",
    PRINTER_AGENT,
)
