"""The `clearhall` command: `clearhall serve [--config HALL.toml] [--demo] ...`,
`clearhall check-config FILE`, `clearhall reload`, `clearhall migrate`, `clearhall
restore DUMP`, `clearhall audit verify`, `clearhall printer-agent`, `clearhall
kiosk-bridge` (the ID card reader's, kiosk/bridge)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import re
import socket
import sys
from pathlib import Path

import asyncpg
import uvloop
from aiohttp import web

from clearhall.kiosk.bridge import cli as kiosk_bridge
from clearhall.server import logs, migrate, reload, restore, workers
from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import StartupError, create_app, data_dir_note
from clearhall.server.domain import integrity
from clearhall.server.domain.hall import load_hall, only_hall_code
from clearhall.server.settings import Settings, default_data_dir
from clearhall.server.store import db, hallfile
from clearhall.server.store.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="clearhall", description="清厅 clearhall: queue and kiosks for a service hall"
    )
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the hall server")
    serve.add_argument("--config", type=Path, help="the hall file (TOML)")
    serve.add_argument("--demo", action="store_true", help="load the built-in demo hall")
    serve.add_argument("--hall", help="the code of the hall to serve, when the database holds several")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--data-dir", type=Path, default=None, help=f"default: {default_data_dir()}")
    serve.add_argument("--database-url", default=None, help="external PostgreSQL (or DATABASE_URL)")
    serve.add_argument(
        "--reports-database-url", default=None,
        help="a streaming replica for reports and charts (or REPORTS_DATABASE_URL; docs/replica.md)",
    )  # fmt: skip
    serve.add_argument(
        "--reports-max-lag", type=float, default=Settings.reports_max_lag_s, metavar="SECONDS",
        help="read the primary while the replica is further behind than this",
    )  # fmt: skip
    serve.add_argument(
        "--listen-database-url", default=None,
        help="the event listener's direct connection (or LISTEN_DATABASE_URL; default: the database URL)",
    )  # fmt: skip
    serve.add_argument(
        "--pgbouncer", action="store_true",
        help="the database URL is pgbouncer in transaction mode (or CLEARHALL_PGBOUNCER=1)",
    )  # fmt: skip
    serve.add_argument(
        "--idle-timeout", type=float, default=Settings.idle_timeout_s, metavar="SECONDS",
        help="cut off a client silent this long: before its headers, between requests, mid-body",
    )  # fmt: skip
    serve.add_argument(
        "--log-format", choices=logs.FORMATS, default=None,
        help=f"the log on standard error: text lines (default) or JSON lines (or ${logs.FORMAT_ENV})",
    )  # fmt: skip
    serve.add_argument(
        "--workers", type=int, default=None, metavar="N",
        help="run N server processes, on ports PORT to PORT+N-1, behind a proxy (docs/nginx.md)",
    )  # fmt: skip
    serve.add_argument(
        "--trusted-proxy", type=ipaddress.ip_network, action="append", default=[], metavar="ADDRESS",
        help="believe the client address in X-Forwarded-For from this proxy (address or network; repeatable)",
    )  # fmt: skip
    serve.add_argument("--as-worker", type=int, default=None, help=argparse.SUPPRESS)  # a --workers child
    serve.add_argument(
        "--pid-file", type=Path, default=None, help="write the server's pid here (for clearhall reload)"
    )
    again = commands.add_parser("reload", help="have a running server read its hall file again (SIGHUP)")
    again.add_argument("--pid-file", type=Path, required=True, help="the server's --pid-file")
    up = commands.add_parser("migrate", help="apply schema changes as the tables' owner, then exit")
    up.add_argument("--data-dir", type=Path, default=None, help=f"default: {default_data_dir()}")
    up.add_argument("--database-url", default=None, help="the owner's URL (or DATABASE_URL)")
    back = commands.add_parser("restore", help="put a pg_dump back into the embedded database")
    back.add_argument("dump", type=Path, help="pg_dump --format=custom of the hall's database")
    back.add_argument("--data-dir", type=Path, default=None, help=f"default: {default_data_dir()}")
    check = commands.add_parser("check-config", help="validate a hall file and exit")
    check.add_argument("file", type=Path)
    audit = commands.add_parser("audit", help="check the integrity log (exit 0: intact, 1: altered)")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="recompute the action log's SHA-256 chain")
    verify.add_argument("--hall", help="the hall's code, when the database holds several")
    verify.add_argument("--data-dir", type=Path, default=None, help=f"default: {default_data_dir()}")
    verify.add_argument("--database-url", default=None, help="external PostgreSQL (or DATABASE_URL)")
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="a head printed earlier (a day's report): the chain must still have it",
    )
    agent = commands.add_parser("printer-agent", help="print a kiosk's tickets on a printer attached here")
    agent.add_argument("--server", required=True, help="the hall server, e.g. https://hall.example.cn")
    agent.add_argument("--token", help="the device token (default: $CLEARHALL_TOKEN)")
    agent.add_argument(
        "--printer", required=True, help="usb://VID:PID, serial:///dev/ttyUSB0, tcp://, file://"
    )
    agent.add_argument("--status-interval", type=float, default=10.0, help="seconds between status reports")
    kiosk_bridge.add_arguments(
        commands.add_parser("kiosk-bridge", help="hand the ID card reader's cards to this kiosk's page")
    )
    return top


def printer_agent(args: argparse.Namespace) -> None:
    import asyncio

    from clearhall.printer.agent import Agent, AgentConf

    token = args.token or os.environ.get("CLEARHALL_TOKEN")
    if not token:
        sys.exit("clearhall: printer-agent needs --token or CLEARHALL_TOKEN")
    try:
        agent = Agent(AgentConf(args.server, token, args.printer, status_interval=args.status_interval))
    except ValueError as exc:
        sys.exit(f"clearhall: {exc}")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(agent.run())


# a host that means "every address of this machine", and the family it listens on
# (asyncio binds "::" to IPv6 only)
ALL_ADDRESSES = {"0.0.0.0": socket.AF_INET, "::": socket.AF_INET6}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def machine_addresses(family: int = socket.AF_INET) -> list[str]:
    """This machine's addresses of `family` that others on its network can reach, the
    usual one first: the one its default route leaves from, then its name's."""
    found: list[str] = []
    try:  # connecting a UDP socket sends nothing: it only picks the way out
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1" if family == socket.AF_INET else "2001:db8::1", 9))
            found.append(str(s.getsockname()[0]))
    except OSError:
        pass
    with contextlib.suppress(OSError):
        found += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, family)]
    usable: list[str] = []
    for text in found:
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(text.split("%")[0])
            if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified) and str(ip) not in usable:
                usable.append(str(ip))
    return usable


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def demo_banner(port: int, host: str, addresses: list[str] | None = None) -> str:
    """What `clearhall serve --demo` prints: where it listens, every page's address
    (with its device token), and the demo's log-ins. When it listens on every
    address, the pages are given on this machine's first network address
    (`addresses`, found when not given), or on 127.0.0.1 with a note."""
    conf = hallfile.load(hallfile.DEMO)
    lines = [f"clearhall demo hall: {conf.name}"]
    all_day = (conf.opens_at, conf.closes_at) == ("00:00", "23:59")
    lines += [
        f"hours: {conf.opens_at}–{conf.closes_at} {conf.timezone}" + (" (open all day)" if all_day else ""),
        "",
    ]
    if host in ALL_ADDRESSES:
        family = ALL_ADDRESSES[host]
        own = machine_addresses(family) if addresses is None else addresses
        local = "127.0.0.1" if family == socket.AF_INET else "::1"
        lines.append(f"listening on every address of this machine ({host}), port {port}:")
        lines.append(f"  from this machine:       http://{url_host(local)}:{port}")
        lines += [f"  from the hall's network: http://{url_host(a)}:{port}" for a in own]
        base = f"http://{url_host(own[0] if own else local)}:{port}"
        if not own:
            lines.append("  (no network address found: the addresses below work on this machine only)")
    else:
        base = f"http://{url_host(host)}:{port}"
        lines.append(f"listening on {base} only")
        if host in LOOPBACK:
            lines.append("  (only this machine can open these pages:")
            lines.append("   for the hall's kiosks and screens, serve with --host 0.0.0.0)")
    lines += ["", "pages (each device's browser, in kiosk mode; the token after # is that device's):"]
    lines += [f"  {what:<22} {base}{where}" for what, where in page_addresses(conf)]
    lines += [
        f"  {'phone page':<22} {base}/t/<ticket>?key=<key>: scan the QR code of a ticket",
        f"  {'':<22} (take one at the kiosk: its ticket screen and the receipt show the code)",
        "",
        "staff log-ins (username / password / role / windows):",
    ]
    for s in conf.staff:
        where = ", ".join(map(str, s.windows)) or "any"
        lines.append(f"  {s.username:<12} {s.password:<24} {s.role:<10} windows {where}")
    lines += ["", "receipts of " + ", ".join(f"{p.kiosk}: {p.address}" for p in conf.printers), ""]
    return "\n".join(lines)


def page_addresses(conf: hallfile.HallConf) -> list[tuple[str, str]]:
    """(what, path#device=TOKEN) of every page of the hall: a window without a screen
    device of its own shows its screen with the hall screen's token."""
    kiosks = [d for d in conf.devices if d.kind == "kiosk"]
    screens = [d for d in conf.devices if d.kind == "display"]
    hall_screens = [d for d in screens if d.window is None]
    pages = [
        ("kiosk" + (f" {d.name}" if len(kiosks) > 1 else ""), f"/kiosk#device={d.token}") for d in kiosks
    ]
    pages += [("hall screen" + (f" {d.name}" if len(hall_screens) > 1 else ""), f"/display#device={d.token}")
              for d in hall_screens]  # fmt: skip
    for w in conf.windows:
        own = [d for d in screens if d.window == w.number] or hall_screens[:1]
        pages += [
            (f"window {w.number} screen", f"/display/window/{w.number}#device={d.token}") for d in own[:1]
        ]
    pages += [(f"rating pad, window {d.window}", f"/rate/{d.window}#device={d.token}")
              for d in conf.devices if d.kind == "rating"]  # fmt: skip
    pages += [("staff console", "/console (staff log in)"), ("supervisor dashboard", "/supervisor (log in)")]
    return pages


def audit_verify(args: argparse.Namespace) -> int:
    """`clearhall audit verify`: 0 when the chain is intact, 1 when not (and 2 when it cannot tell)."""
    anchor = None
    if args.anchor:
        seq, _, digest = args.anchor.partition(":")
        if not (seq.isascii() and seq.isdigit() and re.fullmatch(r"[0-9a-fA-F]{64}", digest)):
            print("clearhall: --anchor is SEQ:HASH, e.g. 1234:9f86d0…(64 hex digits)", file=sys.stderr)
            return 2
        anchor = (int(seq), digest)
    url = args.database_url or os.environ.get("DATABASE_URL")
    embedded = None
    try:
        if url is None:
            pg = EmbeddedPostgres(args.data_dir or default_data_dir())
            embedded = None if pg.running() else pg  # stopped again if this started it
            url = pg.start()
        verdict = asyncio.run(verify_chain(url, args.hall, anchor))
    except (OSError, asyncpg.PostgresError, EmbeddedPostgresError, LookupError) as exc:
        print(f"clearhall: cannot verify: {exc}", file=sys.stderr)
        return 2
    finally:
        if embedded is not None:
            embedded.stop()
    print(json.dumps(verdict.json(), ensure_ascii=False, indent=2))
    if verdict.ok:
        print(
            f"intact: {verdict.entries} entries chained, head {verdict.head_seq}:{verdict.head}",
            file=sys.stderr,
        )
        return 0
    bad = verdict.first_bad or {}
    print(f"ALTERED: entry seq {bad.get('seq')} is {bad.get('problem')}", file=sys.stderr)
    return 1


async def verify_chain(url: str, hall_code: str | None, anchor: tuple[int, str] | None) -> integrity.Verdict:
    conn = await asyncpg.connect(url)
    try:
        await db.init_connection(conn)
        code = hall_code or await only_hall_code(conn)
        hall = await load_hall(conn, code) if code else None
        if hall is None:
            raise LookupError("no such hall in this database (give --hall CODE)")
        return await integrity.verify(conn, hall.id, anchor)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        logs.configure(log_format=getattr(args, "log_format", None))
    except ValueError as exc:
        sys.exit(f"clearhall: {exc}")
    if args.command == "printer-agent":
        printer_agent(args)
        return
    if args.command == "kiosk-bridge":
        sys.exit(kiosk_bridge.run(args))
    if args.command == "audit":
        sys.exit(audit_verify(args))
    if args.command == "migrate":
        url = args.database_url or os.environ.get("DATABASE_URL") or None
        try:
            print("\n".join(migrate.run(url, args.data_dir or default_data_dir())))
        except (migrate.MigrateError, EmbeddedPostgresError, OSError, asyncpg.PostgresError) as exc:
            sys.exit(f"clearhall: {exc}")
        return
    if args.command == "restore":
        try:
            print("\n".join(restore.restore(args.dump, args.data_dir or default_data_dir())))
        except (restore.RestoreError, EmbeddedPostgresError, OSError, asyncpg.PostgresError) as exc:
            sys.exit(f"clearhall: {exc}")
        return
    if args.command == "reload":
        try:
            print(reload.send_reload(args.pid_file))
        except RuntimeError as exc:
            sys.exit(f"clearhall: {exc}")
        return
    if args.command == "check-config":
        try:
            conf = hallfile.load(args.file)
        except hallfile.HallFileError as exc:
            sys.exit(f"clearhall: {exc}")
        print(f"{args.file}: ok — {conf.name}: {len(conf.services)} services, {len(conf.windows)} windows")
        return
    settings = Settings(
        database_url=args.database_url or os.environ.get("DATABASE_URL") or None,
        reports_database_url=args.reports_database_url or os.environ.get("REPORTS_DATABASE_URL") or None,
        reports_max_lag_s=args.reports_max_lag,
        listen_database_url=args.listen_database_url or os.environ.get("LISTEN_DATABASE_URL") or None,
        pgbouncer=args.pgbouncer or os.environ.get("CLEARHALL_PGBOUNCER", "") not in ("", "0"),
        data_dir=args.data_dir or default_data_dir(),
        config=args.config,
        hall=args.hall,
        demo=args.demo,
        host=args.host,
        port=args.port,
        idle_timeout_s=args.idle_timeout,
        trusted_proxies=tuple(args.trusted_proxy),
        worker=args.as_worker,
    )
    reload.ignore_hangups()  # until the server is ready to reload (server/reload.py)
    try:
        if settings.config is not None:
            hallfile.load(settings.config)  # fail before anything starts
        parent = settings.worker is None  # not one of --workers' children
        if settings.database_url is None and parent:
            logging.getLogger("clearhall").info(data_dir_note(settings.data_dir))
        if settings.demo and parent:
            print(demo_banner(settings.port, settings.host), flush=True)
        if args.workers is not None and parent:
            if not 1 <= args.workers <= 64:
                sys.exit("clearhall: --workers is a number from 1 to 64")
            with reload.pid_file(args.pid_file):
                sys.exit(workers.supervise(settings, sys.argv[1:] if argv is None else argv, args.workers))
        app = create_app(settings)
        reload.install(app)  # SIGHUP: read the hall file again; follow other processes' reloads
        if settings.worker is not None:
            workers.become_worker(app, settings.worker)
        with reload.pid_file(args.pid_file if parent else None):
            web.run_app(
                app,
                host=settings.host,
                port=settings.port,
                access_log_class=AccessLogger,
                keepalive_timeout=settings.idle_timeout_s,  # also the deadline for a request's headers
                print=lambda text: print(text, flush=True),
                loop=uvloop.new_event_loop(),  # measured: less CPU per request than asyncio's own loop
            )
    except (hallfile.HallFileError, StartupError) as exc:
        sys.exit(f"clearhall: {exc}")


if __name__ == "__main__":
    main()
