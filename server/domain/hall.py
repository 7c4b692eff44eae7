"""The hall this process serves, as read from its row in `halls`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

import asyncpg

from clearhall.server.domain.workdays import Calendar
from clearhall.server.store.db import Connection


@dataclass(frozen=True)
class Hall:
    id: int
    code: str
    name: str
    timezone: str
    public_url: str | None
    max_consecutive_priority: int
    daily_tickets_per_id: int
    opens_at: time
    closes_at: time
    kiosk_tickets_per_minute: int  # tickets one kiosk device may issue a minute; 0 = no limit
    no_show_after_s: int  # seconds after a call before 过号 is allowed; 0 = at once
    no_show_comeback_behind: int  # 过号顺延: a missed ticket comes back once, N behind; 0 = never
    unstaffed_services: str  # issuing for a service no open window serves: "warn" or "refuse"
    alert_ahead: int = 3  # 叫号提醒: warn a citizen this many tickets before their turn; 0 = off
    open_days: str = "workdays"  # the [calendar]'s working days, or "all"
    calendar: Calendar = field(default_factory=Calendar)  # holidays and 调休 workdays

    @property
    def refuses_unstaffed(self) -> bool:
        return self.unstaffed_services == "refuse"


SELECT_HALL = """
SELECT id, code, name, timezone, public_url, max_consecutive_priority,
       daily_tickets_per_id, opens_at, closes_at, kiosk_tickets_per_minute,
       no_show_after_s, no_show_comeback_behind, unstaffed_services, alert_ahead, open_days,
       calendar_holidays, calendar_workdays
FROM halls WHERE code = $1
"""


async def load_hall(conn: Connection, code: str) -> Hall | None:
    row = await conn.fetchrow(SELECT_HALL, code)
    if row is None:
        return None
    fields = dict(row)
    calendar = Calendar.of(fields.pop("calendar_holidays"), fields.pop("calendar_workdays"))
    return Hall(**fields, calendar=calendar)


async def only_hall_code(conn: Connection) -> str | None:
    """The code of the one hall in the database, when there is exactly one."""
    rows = await conn.fetch("SELECT code FROM halls ORDER BY id LIMIT 2")
    return rows[0]["code"] if len(rows) == 1 else None


# -- whether service `s` is served now: a staffed window that is not paused
# -- handles it at this moment (issuing, transfers and GET /api/services ask)
SERVED_NOW = """EXISTS (
    SELECT 1 FROM window_services ws JOIN windows w ON w.id = ws.window_id
    WHERE ws.service_id = s.id AND w.active AND w.staff_id IS NOT NULL AND NOT w.paused)"""

SERVICES = f"""
SELECT s.code, s.name, s.real_name_required, s.time_limit_minutes, {SERVED_NOW} AS served_now,
       s.materials, s.place AS "where", s.appointments
FROM services s
WHERE s.hall_id = $1 AND s.active ORDER BY s.position, s.code
"""


async def services(conn: Connection, hall: Hall) -> list[asyncpg.Record]:
    return list(await conn.fetch(SERVICES, hall.id))


@dataclass(frozen=True)
class Guide:
    """一次性告知 for one service: the documents to bring and where it is handled."""

    materials: tuple[str, ...] = ()
    where: str | None = None

    def json(self) -> dict[str, Any]:
        return {"materials": list(self.materials), "where": self.where}


async def guide(conn: Connection, service_id: int) -> Guide:
    row = await conn.fetchrow("SELECT materials, place FROM services WHERE id = $1", service_id)
    return Guide(tuple(row["materials"]), row["place"]) if row else Guide()
