"""What the hall's walls show: the queue, each window, the calling rule.

These are public (CONTRACT §6): `GET /api/queue`, the socket's snapshot and
`queue.changed` all carry `queue_state`; no ticket id, key or person in them.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import Ticket, estimate, local_iso, service_load
from clearhall.server.domain.window import Window
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import CALLED_FIRST, GREEN_CHANNEL

WINDOWS_STATE = """
SELECT w.number, w.paused, w.pause_reason, st.name AS staff_name, st.party_member,
       t.number AS current_number,
       ARRAY(SELECT s.code FROM window_services ws JOIN services s ON s.id = ws.service_id
             WHERE ws.window_id = w.id ORDER BY s.position) AS services
FROM windows w
LEFT JOIN staff st ON st.id = w.staff_id
LEFT JOIN tickets t ON t.id = w.current_ticket_id
WHERE w.hall_id = $1 AND w.active
ORDER BY w.number
"""

# -- the newest calls today, one line per ticket (its latest call: a recall
# -- moves it up, never shows it twice); read from the last 100 calls, newest
# -- first along action_log_hall_at, so the cost does not grow with the day
RECENT_CALLS = """
SELECT number, "window", at FROM (
    SELECT DISTINCT ON (ticket_id) ticket_number AS number, window_number AS window, at
    FROM (SELECT ticket_id, ticket_number, window_number, at, id FROM action_log
          WHERE hall_id = $1 AND action IN ('call_next', 'call', 'recall')
            AND at >= (date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2)
          ORDER BY at DESC, id DESC LIMIT 100) calls
    ORDER BY ticket_id, at DESC, id DESC
) latest
ORDER BY at DESC LIMIT 10
"""

NOTICES = """
SELECT id, title, body FROM notices
WHERE hall_id = $1
  AND (starts_on IS NULL OR starts_on <= (now() AT TIME ZONE $2)::date)
  AND (ends_on IS NULL OR ends_on >= (now() AT TIME ZONE $2)::date)
ORDER BY position, id
"""


def public_ticket(t: Ticket) -> dict[str, Any]:
    """What screens may know of a ticket: no id, no key, no person."""
    return {"number": t.number, "service": t.service, "category": t.category}


def _window(r: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    status = "closed" if r["staff_name"] is None else "paused" if r["paused"] else "open"
    return {
        "number": r["number"],
        "status": status,
        "staff": {"name": r["staff_name"], "party_member": r["party_member"]}
        if r["staff_name"] is not None
        else None,
        "current": {"number": r["current_number"]} if r["current_number"] else None,
        "services": list(r["services"]),
        "pause_reason": r["pause_reason"],
    }


def window_view_sql(w: str, current: str) -> str:
    """`window_view` as a SQL expression over `w`, a row with LOCK_WINDOW's columns, and
    `current`, the current ticket's number: for the events a call's own statement sends.
    tests/domain/test_views_sql.py checks that the two agree."""
    return f"""jsonb_build_object(
        'number', {w}.number,
        'status', CASE WHEN {w}.staff_name IS NULL THEN 'closed'
                       WHEN {w}.paused THEN 'paused' ELSE 'open' END,
        'staff', CASE WHEN {w}.staff_name IS NOT NULL
                      THEN jsonb_build_object('name', {w}.staff_name, 'party_member', {w}.party_member) END,
        'current', CASE WHEN {current} IS NOT NULL THEN jsonb_build_object('number', {current}) END,
        'services', to_jsonb({w}.service_codes),
        'pause_reason', {w}.pause_reason)"""


def window_view(w: Window) -> dict[str, Any]:
    """A window as /api/queue shows it."""
    return _window(
        {
            "number": w.number, "paused": w.paused, "pause_reason": w.pause_reason,
            "staff_name": w.staff_name, "party_member": w.party_member,
            "current_number": w.current_number, "services": w.service_codes,
        }
    )  # fmt: skip


async def queue_state(conn: Connection, hall: Hall) -> dict[str, Any]:
    """What the hall screen shows: GET /api/queue, the socket's snapshot, queue.changed."""
    load = await service_load(conn, hall.id)
    windows = await conn.fetch(WINDOWS_STATE, hall.id)
    calls = await conn.fetch(RECENT_CALLS, hall.id, hall.timezone)
    notices = await conn.fetch(NOTICES, hall.id, hall.timezone)
    return {
        "services": [
            {
                "code": s["code"],
                "name": s["name"],
                "waiting": s["waiting"],
                "estimated_wait_s": estimate(s["waiting"], s),
                "served_now": s["open_windows"] > 0,
            }
            for s in load
        ],
        "windows": [_window(w) for w in windows],
        "recent_calls": [
            {"number": c["number"], "window": c["window"], "at": local_iso(c["at"], hall.timezone)}
            for c in calls
        ],
        "notices": [dict(n) for n in notices],
    }


def policy(hall: Hall) -> dict[str, Any]:
    """The calling rule in force, in words a citizen can read (GET /api/policy)."""
    n = hall.max_consecutive_priority
    return {
        "max_consecutive_priority": n,
        "daily_tickets_per_id": hall.daily_tickets_per_id,
        # 叫号提醒: the phone page warns this many tickets before the citizen's turn (0 = off)
        "alert_ahead": hall.alert_ahead,
        # 过号: refused until this many seconds after the call (CONTRACT §5)
        "no_show_after_s": hall.no_show_after_s,
        # issuing for a service no open window serves now: "warn" or "refuse"
        "unstaffed_services": hall.unstaffed_services,
        "green_channel": list(GREEN_CHANNEL),
        # 预约: a checked-in booking is called with the green channel, before walk-ins
        "called_first": list(CALLED_FIRST),
        "text_zh": (
            "叫号规则：每个窗口在其办理的业务中，先叫绿色通道（老年人、残疾人、孕妇、军人）"
            "和已签到的预约号，二者按签到或取号先后排在一起；再按取号先后顺序叫普通号。"
            f"同一窗口连续叫 {n} 个绿色通道或预约号后，若有普通号在等候，下一个先叫普通号。"
            "转移业务的号保留原来的排队位置。"
            "工作人员如需不按顺序叫号，必须填写理由，并记录在案备查。"
        ),
        "text_en": (
            "Calling rule: at each window, among the services it handles, the green channel "
            "(elderly, disabled, pregnant, military) and checked-in appointments are called first, "
            "together in the order they took their numbers or checked in; then everyone else in the "
            f"order they took their numbers. After {n} such calls in a row at one window, a waiting "
            "normal ticket is called next. A transferred ticket keeps its place in line. "
            "Calling anyone out of order needs a written reason, and is logged for review."
        ),
    }
