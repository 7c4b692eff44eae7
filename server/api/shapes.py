"""How each kind of object looks in the API's JSON: the one place rows become answers."""

from __future__ import annotations

from typing import Any

import asyncpg

from clearhall.server.domain.figures import Counts, Figures
from clearhall.server.domain.follow_up_views import Case, appeal_state
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
        "proxy": t.proxy_masked is not None,  # 帮代办: taken by someone for the applicant
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
        out["proxy_masked"] = t.proxy_masked
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
    """R (CONTRACT §7), and: `ticket_id`, `words` (the level in words), `follow_up`
    (whether it opened a case) and, for a 差评, `case` {id, due_at} — the case whose
    handling its citizen may rate later."""
    return {
        "id": r.id,
        "ticket": r.ticket,
        "ticket_id": r.ticket_id,
        "score": r.score,
        "words": SCORE_WORDS[r.score],
        "dimensions": r.dimensions,
        "reasons": r.reasons,
        "comment": r.comment,
        "channel": r.channel,
        "service": r.service,
        "window": r.window,
        "staff": r.staff,
        "case_number": r.case_number,
        "rated_at": local_iso(r.rated_at, hall.timezone),
        "follow_up": r.bad,
        "case": (
            {"id": r.follow_up_id, "due_at": local_iso(r.follow_up_due_at, hall.timezone)}
            if r.follow_up_id is not None
            else None
        ),
    }


def follow_up_json(c: Case, hall: Hall) -> dict[str, Any]:
    """A 差评整改 case (CONTRACT §10), for supervisors only: it carries the call-back number."""
    row, tz = c.row, hall.timezone
    out: dict[str, Any] = {
        "id": row["id"],
        "kind": row["kind"],
        "state": row["state"],
        "opened_at": local_iso(row["opened_at"], tz),
        "due_at": local_iso(row["due_at"], tz),
        "closed_at": local_iso(row["closed_at"], tz),
        "overdue_since": local_iso(row["overdue_at"], tz),
        "staff": (
            {"username": row["staff_username"], "name": row["staff_name"]} if row["staff_name"] else None
        ),
        "window": row["window"],
        "rating": rating_json(c.rating, hall) | {"excluded": c.rating.excluded} if c.rating else None,
        "complaint": (
            {
                "id": row["complaint_id"],
                "text": row["complaint_text"],
                "ticket": row["complaint_ticket"],
                "window": row["complaint_window"],
                "created_at": local_iso(row["complaint_at"], tz),
            }
            if row["complaint_id"] is not None
            else None
        ),
        "contact": row["contact"],
        "steps": [
            {
                "id": s["id"],
                "kind": s["kind"],
                "text": s["text"],
                "upheld": s["upheld"],
                "by": {"username": s["username"], "name": s["name"]},
                "at": local_iso(s["at"], tz),
            }
            for s in c.steps
        ],
        "appeal": appeal_state(c.steps),
        "satisfaction": (
            {"result": row["satisfaction"], "at": local_iso(row["satisfaction_at"], tz)}
            if row["satisfaction"]
            else None
        ),
    }
    if c.history is not None:
        out["history"] = [
            {
                "at": local_iso(h["at"], tz),
                "action": h["action"],
                "actor": h["actor_name"],
                "actor_kind": h["actor_kind"],
                "window": h["window"],
                "reason": h["reason"],
            }
            for h in c.history
        ]
    return out


def counts_json(c: Counts) -> dict[str, Any]:
    """One line of the 好差评 figures (docs/haochaping.md#the-figures)."""
    return {
        "finished": c.finished,
        "rated": c.rated,
        "unrated": c.unrated,
        "excluded": c.excluded,
        "levels": {str(n): c.levels[n] for n in range(5, 0, -1)},
        "good": c.good,
        "bad": c.bad,
        "by_person": c.by_person,
        "person_good": c.person_good,
        "default": c.defaults,
        "replied": c.replied,
        "fixed": c.fixed,
        "satisfaction_answers": c.answered,
        "satisfied": c.satisfied,
        **c.rates(),
        "open_cases": c.open_cases,
        "overdue_cases": c.overdue_cases,
    }


def figures_json(f: Figures) -> dict[str, Any]:
    return {
        "from": f.first.isoformat(),
        "to": f.last.isoformat(),
        "total": counts_json(f.total),
        "windows": [{"window": n} | counts_json(c) for n, c in f.windows],
        "staff": [{"staff": {"username": u, "name": name}} | counts_json(c) for u, name, c in f.staff],
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
