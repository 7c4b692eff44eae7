"""Applying a hall file to the database (CONTRACT §2), in one transaction.

Idempotent: rows are matched by service code, window number, username and
device name, so loading the same file twice changes nothing, and a changed
file updates in place. Passwords are stored as argon2id, tokens as SHA-256;
the argon2 work (about 20 ms a person) is done in a thread, so a reload in a
running server (server/reload.py) never holds up its requests.
"""

from __future__ import annotations

import asyncio

from argon2.exceptions import InvalidHashError, VerificationError

from clearhall.server.store.credentials import hasher, token_hash
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_appointments import apply_rules
from clearhall.server.store.hall_cards import apply_cards
from clearhall.server.store.hall_ratings import apply_ratings
from clearhall.server.store.hall_retention import apply_retention
from clearhall.server.store.hall_signals import apply_signals
from clearhall.server.store.hallfile import HallConf, PrinterConf


def _password_hash(password: str, existing: str | None) -> str:
    """Keep the stored hash when it still matches, so a reload writes nothing new."""
    if existing:
        try:
            if hasher.verify(existing, password) and not hasher.check_needs_rehash(existing):
                return existing
        except (VerificationError, InvalidHashError):
            pass
    return hasher.hash(password)


STORED_HASHES = """
SELECT st.username, st.password_hash FROM staff st JOIN halls h ON h.id = st.hall_id WHERE h.code = $1
"""


async def password_hashes(conn: Connection, conf: HallConf) -> dict[str, str]:
    """Each staff member's hash to store, by username: the stored one while it still
    matches the file's password."""
    stored = {r["username"]: r["password_hash"] for r in await conn.fetch(STORED_HASHES, conf.code)}
    return await asyncio.to_thread(
        lambda: {p.username: _password_hash(p.password, stored.get(p.username)) for p in conf.staff}
    )


async def apply(conn: Connection, conf: HallConf) -> int:
    """Write the hall file into the database in one transaction; returns the hall id."""
    hashes = await password_hashes(conn, conf)
    async with conn.transaction():
        hall_id: int = await conn.fetchval(
            """
            INSERT INTO halls (code, name, timezone, public_url, max_consecutive_priority,
                               daily_tickets_per_id, opens_at, closes_at, kiosk_tickets_per_minute,
                               no_show_after_s, no_show_comeback_behind, unstaffed_services, alert_ahead,
                               open_days)
            VALUES ($1, $2, $3, $4, $5, $6, $7::text::time, $8::text::time, $9, $10, $11, $12, $13, $14)
            ON CONFLICT (code) DO UPDATE SET
                name = EXCLUDED.name, timezone = EXCLUDED.timezone,
                public_url = EXCLUDED.public_url,
                max_consecutive_priority = EXCLUDED.max_consecutive_priority,
                daily_tickets_per_id = EXCLUDED.daily_tickets_per_id,
                opens_at = EXCLUDED.opens_at, closes_at = EXCLUDED.closes_at,
                kiosk_tickets_per_minute = EXCLUDED.kiosk_tickets_per_minute,
                no_show_after_s = EXCLUDED.no_show_after_s,
                no_show_comeback_behind = EXCLUDED.no_show_comeback_behind,
                unstaffed_services = EXCLUDED.unstaffed_services, alert_ahead = EXCLUDED.alert_ahead,
                open_days = EXCLUDED.open_days
            RETURNING id
            """,
            conf.code, conf.name, conf.timezone, conf.public_url, conf.max_consecutive_priority,
            conf.daily_tickets_per_id, conf.opens_at, conf.closes_at, conf.kiosk_tickets_per_minute,
            conf.no_show_after_s, conf.no_show_comeback_behind, conf.unstaffed_services, conf.alert_ahead,
            conf.open_days,
        )  # fmt: skip
        service_ids = {}
        for position, s in enumerate(conf.services):
            service_ids[s.code] = await conn.fetchval(
                """
                INSERT INTO services (hall_id, code, name, time_limit_minutes, real_name_required,
                                      position, active, typical_minutes, materials, place,
                                      appointments, slot_minutes, slot_capacity)
                VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8, $9, $10, $11, $12)
                ON CONFLICT (hall_id, code) DO UPDATE SET
                    name = EXCLUDED.name, time_limit_minutes = EXCLUDED.time_limit_minutes,
                    real_name_required = EXCLUDED.real_name_required,
                    position = EXCLUDED.position, active = true,
                    typical_minutes = EXCLUDED.typical_minutes,
                    materials = EXCLUDED.materials, place = EXCLUDED.place,
                    appointments = EXCLUDED.appointments, slot_minutes = EXCLUDED.slot_minutes,
                    slot_capacity = EXCLUDED.slot_capacity
                RETURNING id
                """,
                hall_id, s.code, s.name, s.time_limit_minutes, s.real_name_required, position,
                s.typical_minutes, list(s.materials), s.where,
                s.slots.appointments, s.slots.slot_minutes, s.slots.slot_capacity,
            )  # fmt: skip
        # A service dropped from the file stops taking tickets; its history stays.
        await conn.execute(
            "UPDATE services SET active = false WHERE hall_id = $1 AND NOT (code = ANY($2))",
            hall_id, list(service_ids),
        )  # fmt: skip

        window_ids = {}
        for w in conf.windows:
            window_ids[w.number] = await conn.fetchval(
                """
                INSERT INTO windows (hall_id, number, active) VALUES ($1, $2, true)
                ON CONFLICT (hall_id, number) DO UPDATE SET active = true
                RETURNING id
                """,
                hall_id, w.number,
            )  # fmt: skip
            await conn.execute(
                "DELETE FROM window_services WHERE window_id = $1 AND NOT (service_id = ANY($2))",
                window_ids[w.number], [service_ids[c] for c in w.services],
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO window_services VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(window_ids[w.number], service_ids[c]) for c in w.services],
            )
        await conn.execute(
            "UPDATE windows SET active = false WHERE hall_id = $1 AND NOT (number = ANY($2))",
            hall_id, list(window_ids),
        )  # fmt: skip

        for p in conf.staff:
            staff_id = await conn.fetchval(
                """
                INSERT INTO staff (hall_id, username, name, password_hash, role, party_member, active)
                VALUES ($1, $2, $3, $4, $5, $6, true)
                ON CONFLICT (hall_id, username) DO UPDATE SET
                    name = EXCLUDED.name, password_hash = EXCLUDED.password_hash,
                    role = EXCLUDED.role, party_member = EXCLUDED.party_member, active = true
                RETURNING id
                """,
                hall_id, p.username, p.name, hashes[p.username], p.role,
                p.party_member,
            )  # fmt: skip
            allowed = [window_ids[n] for n in p.windows]
            await conn.execute(
                "DELETE FROM staff_windows WHERE staff_id = $1 AND NOT (window_id = ANY($2))",
                staff_id, allowed,
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO staff_windows VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(staff_id, w) for w in allowed],
            )
        await conn.execute(
            "UPDATE staff SET active = false WHERE hall_id = $1 AND NOT (username = ANY($2))",
            hall_id, [p.username for p in conf.staff],
        )  # fmt: skip

        for d in conf.devices:
            await conn.execute(
                """
                INSERT INTO devices (hall_id, name, kind, token_hash, window_id, active)
                VALUES ($1, $2, $3, $4, $5, true)
                ON CONFLICT (hall_id, name) DO UPDATE SET
                    kind = EXCLUDED.kind, token_hash = EXCLUDED.token_hash,
                    window_id = EXCLUDED.window_id, active = true
                """,
                hall_id, d.name, d.kind, token_hash(d.token),
                window_ids[d.window] if d.window is not None else None,
            )  # fmt: skip
        await conn.execute(
            "UPDATE devices SET active = false WHERE hall_id = $1 AND NOT (name = ANY($2))",
            hall_id, [d.name for d in conf.devices],
        )  # fmt: skip
        await apply_printers(conn, hall_id, conf.printers)
        # 好差评: [ratings], [ratings.forward], [calendar] and each service's 事项编码
        matter_codes = {s.code: s.matter_code for s in conf.services}
        await apply_ratings(conn, hall_id, conf.ratings, conf.calendar, matter_codes)
        await apply_cards(conn, hall_id, conf.cards)  # [cards]: 红黄牌 rules
        await apply_signals(conn, hall_id, conf.signals)  # [signals]
        await apply_rules(conn, hall_id, conf.appointments)  # [appointments]
        await apply_retention(conn, hall_id, conf.retention)  # [retention]
    return hall_id


UPSERT_PRINTER = """
INSERT INTO printers (hall_id, name, kiosk_id, address, paper, encoding, mode, active)
SELECT $1, $2, d.id, $4, $5, $6, $7, true FROM devices d WHERE d.hall_id = $1 AND d.name = $3
ON CONFLICT (hall_id, name) DO UPDATE SET
    kiosk_id = EXCLUDED.kiosk_id, address = EXCLUDED.address, paper = EXCLUDED.paper,
    encoding = EXCLUDED.encoding, mode = EXCLUDED.mode, active = true,
    -- a printer at a new address has not said anything yet
    state = CASE WHEN printers.address = EXCLUDED.address THEN printers.state ELSE 'unknown' END
"""


async def apply_printers(conn: Connection, hall_id: int, printers: tuple[PrinterConf, ...]) -> None:
    """Store the file's printers by hall and name; one dropped from the file stops printing."""
    for p in printers:
        await conn.execute(UPSERT_PRINTER, hall_id, p.name, p.kiosk, p.address, p.paper, p.encoding, p.mode)
    await conn.execute(
        "UPDATE printers SET active = false WHERE hall_id = $1 AND NOT (name = ANY($2))",
        hall_id, [p.name for p in printers],
    )  # fmt: skip
