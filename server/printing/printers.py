"""The `printers` rows (CONTRACT §8): each kiosk's printer and the state it was last seen in.

Owns `Printer`, finding a kiosk's (or an agent's) printer, and storing a
printer's state: `set_state` publishes `printer.changed` in the transaction that
stores a change, and moves `state_changed_at` only when the state did change.
The rows themselves come from the hall file (store.hallfile.apply_printers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from clearhall.printer.status import PrinterState
from clearhall.server.domain import events, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import DeviceKind

STATES: Final = tuple(s.value for s in PrinterState)


@dataclass(frozen=True)
class Printer:
    id: int
    name: str
    kiosk: str
    kiosk_id: int
    address: str
    paper: str
    encoding: str
    mode: str
    state: str
    state_changed_at: datetime
    last_error: str | None

    @property
    def via_agent(self) -> bool:
        return self.address.startswith("agent:")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Printer:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def event_json(self, tz: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "kiosk": self.kiosk,
            "state": self.state,
            "changed_at": tickets.local_iso(self.state_changed_at, tz),
            "last_error": self.last_error,
        }


PRINTER_COLUMNS = """
    p.id, p.name, d.name AS kiosk, p.kiosk_id, p.address, p.paper, p.encoding, p.mode,
    p.state, p.state_changed_at, p.last_error
"""

PRINTER_OF_KIOSK = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.kiosk_id = $2 AND p.active
ORDER BY p.id LIMIT 1
"""

PRINTER_BY_NAME = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.name = $2 AND p.active
"""

PRINTER_BY_ID = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id WHERE p.id = $1
"""

DIRECT_PRINTERS = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.active AND p.address NOT LIKE 'agent:%'
ORDER BY p.name
"""

# -- each printer with how many of its jobs wait and how many failed
PRINTERS_WITH_COUNTS = f"""
SELECT {PRINTER_COLUMNS}, p.checked_at, p.last_error_at,
       (SELECT count(*) FROM print_jobs j
         WHERE j.printer_id = p.id AND j.status IN ('queued', 'sent')) AS queued,
       (SELECT count(*) FROM print_jobs j WHERE j.printer_id = p.id AND j.status = 'failed') AS failed
FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.active
ORDER BY p.name
"""

STATE_OF = "SELECT state FROM printers WHERE id = $1"

# -- the printer's state now; changed_at moves only when the state does
SET_STATE = f"""
WITH old AS (SELECT id, state FROM printers WHERE id = $1 FOR UPDATE),
p AS (
    UPDATE printers p SET state = $2,
        state_changed_at = CASE WHEN old.state = $2 THEN p.state_changed_at ELSE now() END,
        last_error = coalesce($3, p.last_error),
        last_error_at = CASE WHEN $3 IS NULL THEN p.last_error_at ELSE now() END,
        checked_at = now()
    FROM old WHERE p.id = old.id
    RETURNING p.*, old.state AS old_state
)
SELECT {PRINTER_COLUMNS}, p.old_state FROM p JOIN devices d ON d.id = p.kiosk_id
"""


async def printer_of_kiosk(conn: Connection, hall_id: int, device_id: int) -> Printer | None:
    row = await conn.fetchrow(PRINTER_OF_KIOSK, hall_id, device_id)
    return Printer.from_row(row) if row else None


async def printer_by_name(conn: Connection, hall_id: int, name: str) -> Printer | None:
    row = await conn.fetchrow(PRINTER_BY_NAME, hall_id, name)
    return Printer.from_row(row) if row else None


async def printer_by_id(conn: Connection, printer_id: int) -> Printer:
    """A printer a job refers to (rows are deactivated, never deleted)."""
    row = await conn.fetchrow(PRINTER_BY_ID, printer_id)
    assert row is not None
    return Printer.from_row(row)


async def direct_printers(conn: Connection, hall_id: int) -> list[Printer]:
    """The active printers the server reaches itself (not through an agent)."""
    return [Printer.from_row(r) for r in await conn.fetch(DIRECT_PRINTERS, hall_id)]


async def agent_printer(conn: Connection, hall_id: int, p: Principal) -> Printer | None:
    """The agent:// printer a device may drive: a kiosk's own, or the printer named like the device."""
    if p.device_kind == DeviceKind.KIOSK:
        printer = await printer_of_kiosk(conn, hall_id, p.id)
    elif p.device_kind == DeviceKind.PRINTER:
        printer = await printer_by_name(conn, hall_id, p.name)
    else:
        printer = None
    return printer if printer is not None and printer.via_agent else None


async def printers_with_counts(conn: Connection, hall_id: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(PRINTERS_WITH_COUNTS, hall_id))


async def state_of(conn: Connection, printer_id: int) -> str | None:
    """The state last stored for a printer."""
    state: str | None = await conn.fetchval(STATE_OF, printer_id)
    return state


async def set_state(
    conn: Connection, hall: Hall, printer_id: int, state: str, error: str | None = None
) -> Printer | None:
    """Store a printer's state; publishes printer.changed when it changed."""
    async with conn.transaction():
        row = await conn.fetchrow(SET_STATE, printer_id, state, error)
        if row is None:
            return None
        printer = Printer.from_row(row)
        if row["old_state"] != state:
            await events.publish(
                conn, hall.id, events.PRINTER_CHANGED, printer=printer.event_json(hall.timezone)
            )
    return printer
