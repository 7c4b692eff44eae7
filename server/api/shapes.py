"""How each kind of object looks in the API's JSON: the one place rows become answers."""

from __future__ import annotations

from typing import Any

import asyncpg

from clearhall.server.domain.hall import Hall
from clearhall.server.domain.notices import Notice
from clearhall.server.domain.ratings import SCORE_WORDS, Rating
from clearhall.server.domain.tickets import Ticket, local_iso
from clearhall.server.store.kinds import TicketStatus


def ticket_json(
    t: Ticket,
    hall: Hall,
    *,
    ahead: int = 0,
    wait: int | None = None,
    for_caller: bool = False,
    rated: bool | None = None,
) -> dict[str, Any]:
    """T (CONTRACT §4) without its key. `for_caller`: the staff who called it may see the masks.
    `rated` is for its citizen only (so the phone offers no second rating), never for staff."""
    out: dict[str, Any] = {
        "id": t.id,
        "number": t.number,
        "service": t.service,
        "service_name": t.service_name,
        "category": t.category,
        "green_channel": t.green_channel,
        "status": t.status,
        "issued_at": local_iso(t.issued_at, hall.timezone),
        "ahead": ahead,
        "estimated_wait_s": wait,
        "window": t.window,
        "called_at": local_iso(t.called_at, hall.timezone),
        "started_at": local_iso(t.started_at, hall.timezone),
        "finished_at": local_iso(t.finished_at, hall.timezone),
    }
    if t.status == TicketStatus.SUSPENDED:
        out["missing"] = t.missing or []
    if rated is not None:
        out["rated"] = rated
    if for_caller:
        out["id_masked"] = t.id_masked
        out["phone_masked"] = t.phone_masked
    return out


def waiting_json(r: asyncpg.Record, hall: Hall) -> dict[str, Any]:
    """A line of a window's waiting list: no id, no person."""
    return {
        "number": r["number"],
        "service": r["service"],
        "category": r["category"],
        "green_channel": r["green_channel"],
        "issued_at": local_iso(r["issued_at"], hall.timezone),
    }


def staff_json(row: asyncpg.Record, windows: list[int]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["name"],
        "role": row["role"],
        "party_member": row["party_member"],
        "windows": windows,
    }


def rating_json(r: Rating, hall: Hall) -> dict[str, Any]:
    return {
        "id": r.id,
        "ticket_id": r.ticket_id,
        "score": r.score,
        "dimensions": r.dimensions,
        "comment": r.comment,
        "source": r.source,
        "created_at": local_iso(r.created_at, hall.timezone),
        "words": SCORE_WORDS[r.score],
        "follow_up": r.bad,
    }


def notice_json(n: Notice) -> dict[str, Any]:
    return {
        "id": n.id,
        "title": n.title,
        "body": n.body,
        "starts_on": n.starts_on.isoformat() if n.starts_on else None,
        "ends_on": n.ends_on.isoformat() if n.ends_on else None,
        "position": n.position,
    }


def log_entry_json(r: asyncpg.Record, hall: Hall) -> dict[str, Any]:
    return dict(r) | {"at": local_iso(r["at"], hall.timezone)}
