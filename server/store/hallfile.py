"""The hall file (CONTRACT §2): read, validate, and apply it to the database.

Validation names the bad key and its line (`hall.toml:12: windows[2].services:
unknown service "Z"`), never shows a secret, and lets through only what can be
served (numbers in range, no control characters, no nesting deeper than the
TOML reader can follow). Applying is idempotent: rows are matched by service
code, window number, username and device name, so loading the same file twice
changes nothing, and a changed file updates in place (`hall_apply`). Reading
one table, with the key and line of each error, is `hall_reader`'s.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clearhall.server.store.hall_appointments import (
    AppointmentRules,
    ProxyConf,
    ServiceSlots,
    read_proxies,
    read_rules,
    read_service_slots,
)
from clearhall.server.store.hall_cards import CardsConf, read_cards
from clearhall.server.store.hall_ratings import (
    CalendarConf,
    RatingsConf,
    matter_code,
    read_calendar,
    read_ratings,
)
from clearhall.server.store.hall_reader import (
    MAX_NESTING,
    HallFileError,  # raised by parse and load
    Reader,
    array,
    nested_too_deep,
    str_list,
    table,
    unique,
)
from clearhall.server.store.hall_retention import RetentionConf, read_retention
from clearhall.server.store.hall_signals import SignalsConf, read_signals
from clearhall.server.store.kinds import DeviceKind, Role

DEMO = Path(__file__).resolve().parent / "demo_hall.toml"
ROLES = tuple(Role)
DEVICE_KINDS = tuple(DeviceKind)
PAPERS = ("80mm", "58mm")
ENCODINGS = ("gb18030", "gbk")
PRINT_MODES = ("text", "raster")
# The largest value each number may take: what its use can hold, far below absurd.
MOST_WINDOW = 999_999  # the API's own bound on a window number in a path
MOST_MINUTES = 24 * 60  # a service time limit longer than a day is a typo
MOST_PRIORITY_RUN = 100
MOST_TICKETS_PER_ID = 1_000
MOST_KIOSK_TICKETS = 10_000
MOST_NO_SHOW_WAIT_S = 3_600  # an hour before 过号 is allowed is already more than any hall waits
MOST_COMEBACK_BEHIND = 1_000
MOST_MATERIALS = 30  # a service asking for more documents than this needs a guide, not a receipt
MOST_MATERIAL_CHARS = 80
MOST_WHERE_CHARS = 40
OPEN_DAYS = ("workdays", "all")  # [hall] open_days: the [calendar]'s working days, or every day
UNSTAFFED_CHOICES = ("warn", "refuse")
MOST_ALERT_AHEAD = 100  # 叫号提醒 further ahead than this is no warning of anything
NOTIFIERS = ("none", "log")  # [notify] notifier: what sends SMS / WeChat alerts (server/notify)


@dataclass(frozen=True)
class ServiceConf:
    code: str
    name: str
    time_limit_minutes: int = 30
    real_name_required: bool = False
    typical_minutes: int | None = None  # None: a third of time_limit_minutes
    materials: tuple[str, ...] = ()  # 一次性告知: the documents to bring
    where: str | None = None  # where in the hall it is handled, e.g. "A区 1–4号窗口"
    matter_code: str | None = None  # 事项编码 on the provincial 好差评 platform
    slots: ServiceSlots = field(default_factory=ServiceSlots)  # 预约: appointments, slot_minutes, …


@dataclass(frozen=True)
class WindowConf:
    number: int
    services: tuple[str, ...]


@dataclass(frozen=True)
class StaffConf:
    username: str
    name: str
    password: str
    role: str = "staff"
    windows: tuple[int, ...] = ()
    party_member: bool = False


@dataclass(frozen=True)
class DeviceConf:
    name: str
    kind: str
    token: str
    window: int | None = None


@dataclass(frozen=True)
class PrinterConf:
    name: str
    kiosk: str
    address: str
    paper: str = "80mm"
    encoding: str = "gb18030"
    mode: str = "text"


@dataclass(frozen=True)
class HallConf:
    code: str
    name: str
    timezone: str = "Asia/Shanghai"
    public_url: str | None = None
    opens_at: str = "08:30"
    closes_at: str = "17:30"
    open_days: str = "workdays"  # or "all": open every day, weekends and holidays too
    max_consecutive_priority: int = 3
    daily_tickets_per_id: int = 5
    kiosk_tickets_per_minute: int = 30  # 0 = no limit
    no_show_after_s: int = 60  # 0 = at once
    no_show_comeback_behind: int = 0  # 0 = a missed ticket never comes back
    unstaffed_services: str = "warn"  # or "refuse"
    alert_ahead: int = 3  # 叫号提醒 this many tickets before a citizen's turn; 0 = off
    notifier: str = "none"  # [notify]: "log" (the demo) or "none"
    services: tuple[ServiceConf, ...] = ()
    windows: tuple[WindowConf, ...] = ()
    staff: tuple[StaffConf, ...] = ()
    devices: tuple[DeviceConf, ...] = ()
    printers: tuple[PrinterConf, ...] = field(default=())
    ratings: RatingsConf = field(default_factory=RatingsConf)  # [ratings], [ratings.forward]
    calendar: CalendarConf = field(default_factory=CalendarConf)  # [calendar]: holidays, 调休 workdays
    cards: CardsConf = field(default_factory=CardsConf)  # [cards]: 红黄牌 rules
    signals: SignalsConf = field(default_factory=SignalsConf)  # [signals]: integrity signals' thresholds
    appointments: AppointmentRules = field(default_factory=AppointmentRules)  # [appointments]: 预约 rules
    proxies: tuple[ProxyConf, ...] = ()  # [[proxies]]: registered 帮代办 proxies
    retention: RetentionConf = field(default_factory=RetentionConf)  # [retention]: personal data kept


def parse(text: str, source: str = "hall file") -> HallConf:
    too_deep = nested_too_deep(text)
    if too_deep is not None:
        line, where = too_deep
        raise HallFileError(f"{source}:{line}: {where}: nested more than {MAX_NESTING} levels deep")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HallFileError(f"{source}: not valid TOML: {exc}") from None
    except RecursionError:
        raise HallFileError(f"{source}: not valid TOML: nested too deeply") from None
    except ValueError:  # an integer of over 4,300 digits, which Python refuses to read
        long = re.search(r"\d{1000,}", text)
        at = f"{source}:{text[: long.start()].count(chr(10)) + 1}" if long else source
        raise HallFileError(f"{at}: not valid TOML: a number with too many digits") from None

    top = Reader(source, text, data, "", "")
    for key in data:
        if key not in (
            "hall", "policy", "notify", "services", "windows", "staff", "devices", "printers",
            "ratings", "calendar", "cards", "signals", "appointments", "proxies", "retention",
        ):  # fmt: skip
            raise top.fail(key, f'unknown section "{key}"')

    hall = Reader(source, text, table(top, data, "hall", required=True), "hall", "hall")
    name = hall.text_value("name")
    code = hall.text_value("code", "main")
    timezone = hall.text_value("timezone", "Asia/Shanghai")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise hall.fail("timezone", f'unknown time zone "{timezone}"') from None
    public_url = hall.text_value("public_url", None)
    if public_url is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", public_url):
        raise hall.fail("public_url", "must be an http:// or https:// address")
    hours = {}
    for key, default in (("opens_at", "08:30"), ("closes_at", "17:30")):
        hours[key] = hall.text_value(key, default)
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", hours[key]):
            raise hall.fail(key, 'must be a time like "08:30"')
    if hours["opens_at"] >= hours["closes_at"]:  # "HH:MM" strings compare as times
        if "closes_at" in hall.table:
            raise hall.fail("closes_at", f'must be later than opens_at ("{hours["opens_at"]}")')
        raise hall.fail("opens_at", f'must be earlier than closes_at ("{hours["closes_at"]}")')
    open_days = hall.text_value("open_days", "workdays", choices=OPEN_DAYS)
    hall.finish()

    policy = Reader(source, text, table(top, data, "policy"), "policy", "policy")
    max_priority = policy.positive("max_consecutive_priority", 3, most=MOST_PRIORITY_RUN)
    daily = policy.positive("daily_tickets_per_id", 5, most=MOST_TICKETS_PER_ID)
    kiosk_tickets = policy.number("kiosk_tickets_per_minute", 30, least=0, most=MOST_KIOSK_TICKETS)
    no_show_after = policy.number("no_show_after_s", 60, least=0, most=MOST_NO_SHOW_WAIT_S)
    comeback = policy.number("no_show_comeback_behind", 0, least=0, most=MOST_COMEBACK_BEHIND)
    unstaffed = policy.text_value("unstaffed_services", "warn", choices=UNSTAFFED_CHOICES)
    alert_ahead = policy.number("alert_ahead", 3, least=0, most=MOST_ALERT_AHEAD)
    policy.finish()

    notify = Reader(source, text, table(top, data, "notify"), "notify", "notify")
    notifier = notify.text_value("notifier", "none", choices=NOTIFIERS)
    notify.finish()

    services: list[ServiceConf] = []
    for i, reader in array(top, source, text, data, "services"):
        code_ = reader.text_value("code")
        if not re.fullmatch(r"[A-Z]{1,2}", code_):
            raise reader.fail("code", f'"{code_}" must be 1–2 capital letters')
        services.append(
            ServiceConf(
                code=code_,
                name=reader.text_value("name"),
                time_limit_minutes=reader.positive("time_limit_minutes", 30, most=MOST_MINUTES),
                real_name_required=reader.get("real_name_required", bool, False),
                typical_minutes=reader.positive("typical_minutes", None, most=MOST_MINUTES),
                materials=materials(reader),
                where=short_text(reader, "where", MOST_WHERE_CHARS),
                matter_code=matter_code(reader),
                slots=read_service_slots(reader),
            )
        )
        unique(reader, "code", code_, [s.code for s in services[:i]])
        reader.finish()
    if not services:
        raise top.fail(None, "at least one [[services]] is needed")
    codes = {s.code for s in services}

    windows: list[WindowConf] = []
    for i, reader in array(top, source, text, data, "windows"):
        number = reader.positive("number", most=MOST_WINDOW)
        unique(reader, "number", number, [w.number for w in windows[:i]])
        served = str_list(reader, "services")
        for c in served:
            if c not in codes:
                raise reader.fail("services", f'unknown service "{c}"')
        if not served:
            raise reader.fail("services", "a window needs at least one service")
        windows.append(WindowConf(number, tuple(served)))
        reader.finish()
    numbers = {w.number for w in windows}

    staff: list[StaffConf] = []
    for i, reader in array(top, source, text, data, "staff"):
        username = reader.text_value("username")
        unique(reader, "username", username, [s.username for s in staff[:i]])
        where = reader.get("windows", list, [])
        for n in where:
            if isinstance(n, bool) or not isinstance(n, int) or n not in numbers:
                raise reader.fail("windows", f"unknown window {n!r}")
        staff.append(
            StaffConf(
                username=username,
                name=reader.text_value("name"),
                password=reader.text_value("password"),
                role=reader.text_value("role", "staff", choices=ROLES),
                windows=tuple(where),
                party_member=reader.get("party_member", bool, False),
            )
        )
        if len(staff[-1].password) < 8:
            raise reader.fail("password", "must be at least 8 characters")
        reader.finish()

    devices: list[DeviceConf] = []
    for i, reader in array(top, source, text, data, "devices"):
        device_name = reader.text_value("name")
        unique(reader, "name", device_name, [d.name for d in devices[:i]])
        token = reader.text_value("token")
        if len(token) < 16:
            raise reader.fail("token", "must be at least 16 characters (use a random string)")
        clash = next((d.name for d in devices[:i] if d.token == token), None)
        if clash is not None:  # named by its devices: the token itself is a secret
            same = f'device "{device_name}" has the same token as device "{clash}"'
            raise reader.fail("token", same + "; each device needs its own")
        window = reader.get("window", int, None)
        if window is not None and window not in numbers:
            raise reader.fail("window", f"unknown window {window}")
        devices.append(
            DeviceConf(device_name, reader.text_value("kind", choices=DEVICE_KINDS), token, window)
        )
        reader.finish()
    kiosks = {d.name for d in devices if d.kind == "kiosk"}

    printers: list[PrinterConf] = []
    for i, reader in array(top, source, text, data, "printers"):
        printer_name = reader.text_value("name")
        unique(reader, "name", printer_name, [p.name for p in printers[:i]])
        kiosk = reader.text_value("kiosk")
        if kiosk not in kiosks:
            raise reader.fail("kiosk", f'"{kiosk}" is not a kiosk device of this file')
        address = reader.text_value("address")
        if not re.match(r"^(tcp|usb|serial|file|agent)://", address):
            raise reader.fail("address", "must start with tcp://, usb://, serial://, file:// or agent://")
        printers.append(
            PrinterConf(
                name=printer_name,
                kiosk=kiosk,
                address=address,
                paper=reader.text_value("paper", "80mm", choices=PAPERS),
                encoding=reader.text_value("encoding", "gb18030", choices=ENCODINGS),
                mode=reader.text_value("mode", "text", choices=PRINT_MODES),
            )
        )
        reader.finish()

    ratings, signals, appointments = read_ratings(top, data), read_signals(top, data), read_rules(top, data)
    spans = {"[signals] days": signals.days, "[appointments] no_show_days": appointments.no_show_days,
             "[ratings] rate_within_days": ratings.rate_within_days}  # fmt: skip
    return HallConf(
        code=code,
        name=name,
        timezone=timezone,
        public_url=public_url.rstrip("/") if public_url else None,
        opens_at=hours["opens_at"],
        closes_at=hours["closes_at"],
        open_days=open_days,
        max_consecutive_priority=max_priority,
        daily_tickets_per_id=daily,
        kiosk_tickets_per_minute=kiosk_tickets,
        no_show_after_s=no_show_after,
        no_show_comeback_behind=comeback,
        unstaffed_services=unstaffed,
        alert_ahead=alert_ahead,
        notifier=notifier,
        services=tuple(services),
        windows=tuple(windows),
        staff=tuple(staff),
        devices=tuple(devices),
        printers=tuple(printers),
        ratings=ratings,
        calendar=read_calendar(top, data),
        cards=read_cards(top, data),
        signals=signals,
        appointments=appointments,
        proxies=read_proxies(top, data),
        retention=read_retention(top, data, spans),
    )


def materials(reader: Reader) -> tuple[str, ...]:
    """A service's `materials`: the documents to bring (一次性告知), each a short line."""
    items = reader.get("materials", list, [])
    if len(items) > MOST_MATERIALS:
        raise reader.fail("materials", f"at most {MOST_MATERIALS} documents")
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise reader.fail("materials", "must be a list of documents, each a non-empty string")
        if len(item) > MOST_MATERIAL_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in item):
            raise reader.fail(
                "materials", f"each document is one line of at most {MOST_MATERIAL_CHARS} characters"
            )
    return tuple(item.strip() for item in items)


def short_text(reader: Reader, key: str, most: int) -> str | None:
    value = reader.text_value(key, None)
    if value is not None and len(value) > most:
        raise reader.fail(key, f"at most {most} characters")
    return value.strip() if value is not None else None


def load(path: Path) -> HallConf:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HallFileError(f"{path}: cannot read the hall file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise HallFileError(f"{path}: the hall file must be UTF-8") from None
    return parse(text, str(path))
