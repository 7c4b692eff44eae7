"""The hall of bench/busy_day.py, and the people who come to it.

30 windows (each 1–3 of bench/workload.py's 8 services), one staff member
each, 8 kiosks (and CHECKIN_KIOSKS for bookers), a rating pad per window, one hall-screen token; services A
(企业开办) and B (不动产登记) take bookings in 5-minute slots of 1,000 places.
Open all day, every day (`open_days = "all"`), so the bench runs at any hour;
no limit on kiosk tickets per minute. Code "bench", staff w1…w30 with
workload.password(n), kiosks with workload.kiosk_token(i): the engine bench's
client logs in to it unchanged.
"""

from __future__ import annotations

import json
import random

from bench.workload import HALL_CODE, SERVICES, kiosk_token, password
from clearhall.server.domain.idcard import check_digit

WINDOWS = 30
KIOSKS = 8
# Kiosks where bookers check in (kiosk_token(KIOSKS + 1 …)). The hall lets one kiosk try
# 10 booking codes, then one every 6 s (issuing.CODES_AT_KIOSK): a day's bookers come
# over hours, but the bench's day is two minutes, so its 500 check-ins need 32 kiosks
# to keep each under 8 a minute, as a real day's are.
CHECKIN_KIOSKS = 32
BOOKABLE = ("A", "B")
DISPLAY = "bench-busy-hall-screen"


def pad_token(n: int) -> str:
    return f"bench-rating-pad-{n:02d}"


def busy_hall_toml(seed: int = 20_251_111) -> str:
    rng = random.Random(seed)
    codes = [code for code, _ in SERVICES]
    parts = [
        f'[hall]\ncode = "{HALL_CODE}"\nname = "压测大厅（忙碌的一天）"\ntimezone = "Asia/Shanghai"\n'
        'opens_at = "00:00"\ncloses_at = "23:59"\nopen_days = "all"\n',
        "[policy]\nkiosk_tickets_per_minute = 0\nmax_consecutive_priority = 3\n",
        "[appointments]\nno_show_limit = 0\ndays_ahead = 1\n",
    ]
    for code, name in SERVICES:
        slots = "appointments = true\nslot_minutes = 5\nslot_capacity = 1000\n" if code in BOOKABLE else ""
        parts.append(f'[[services]]\ncode = "{code}"\nname = "{name}"\n{slots}')
    for n in range(1, WINDOWS + 1):
        first = codes[(n - 1) % len(codes)]
        served = [first, *rng.sample([c for c in codes if c != first], rng.randint(0, 2))]
        parts.append(f"[[windows]]\nnumber = {n}\nservices = {json.dumps(served)}\n")
        parts.append(
            f'[[staff]]\nusername = "w{n}"\nname = "窗口{n}"\npassword = "{password(n)}"\nwindows = [{n}]\n'
        )
        pad = f'name = "pad-{n:02d}"\nkind = "rating"\ntoken = "{pad_token(n)}"\nwindow = {n}\n'
        parts.append(f"[[devices]]\n{pad}")
    for i in range(1, KIOSKS + CHECKIN_KIOSKS + 1):
        parts.append(f'[[devices]]\nname = "kiosk-{i:02d}"\nkind = "kiosk"\ntoken = "{kiosk_token(i)}"\n')
    parts.append(f'[[devices]]\nname = "hall-screen"\nkind = "display"\ntoken = "{DISPLAY}"\n')
    return "\n".join(parts)


def id_number(i: int) -> str:
    """A valid, made-up 18-digit ID number (Miluo's region code, born 1960–2005), one per i."""
    born = f"{1960 + i % 45}{1 + i % 12:02d}{1 + i % 28:02d}"
    first17 = f"430681{born}{i % 1000:03d}"
    return first17 + check_digit(first17)


def address(i: int) -> str:
    """The phone's address the trusted proxy (the bench, on 127.0.0.1) reports for booker i."""
    return f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
