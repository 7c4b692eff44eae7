"""The `clearhall` command: `clearhall serve [--config HALL.toml] [--demo] ...`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

import uvloop
from aiohttp import web

from clearhall.server import logs
from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import StartupError, create_app, data_dir_note
from clearhall.server.settings import Settings, default_data_dir
from clearhall.server.store import hallfile


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
        "--idle-timeout", type=float, default=Settings.idle_timeout_s, metavar="SECONDS",
        help="cut off a client silent this long: before its headers, between requests, mid-body",
    )  # fmt: skip
    check = commands.add_parser("check-config", help="validate a hall file and exit")
    check.add_argument("file", type=Path)
    agent = commands.add_parser("printer-agent", help="print a kiosk's tickets on a printer attached here")
    agent.add_argument("--server", required=True, help="the hall server, e.g. https://hall.example.cn")
    agent.add_argument("--token", help="the device token (default: $CLEARHALL_TOKEN)")
    agent.add_argument(
        "--printer", required=True, help="usb://VID:PID, serial:///dev/ttyUSB0, tcp://, file://"
    )
    agent.add_argument("--status-interval", type=float, default=10.0, help="seconds between status reports")
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


def demo_banner(port: int, host: str) -> str:
    conf = hallfile.load(hallfile.DEMO)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    lines = [f"clearhall demo hall: {conf.name}", "", "staff log-ins (username / password / windows):"]
    for s in conf.staff:
        where = ", ".join(map(str, s.windows)) or "any"
        lines.append(f"  {s.username:<12} {s.password:<24} {s.role:<10} windows {where}")
    lines += ["", "devices (name / kind / token / page):"]
    for d in conf.devices:
        address = {
            "kiosk": "/kiosk",
            "display": f"/display/window/{d.window}" if d.window else "/display",
            "rating": f"/rate/{d.window}",
        }.get(d.kind, "")
        lines.append(f"  {d.name:<16} {d.kind:<8} {d.token:<24} {base}{address}#device={d.token}")
    lines += ["", f"staff console: {base}/console", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logs.configure()
    if args.command == "printer-agent":
        printer_agent(args)
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
        data_dir=args.data_dir or default_data_dir(),
        config=args.config,
        hall=args.hall,
        demo=args.demo,
        host=args.host,
        port=args.port,
        idle_timeout_s=args.idle_timeout,
    )
    try:
        if settings.config is not None:
            hallfile.load(settings.config)  # fail before anything starts
        if settings.database_url is None:
            logging.getLogger("clearhall").info(data_dir_note(settings.data_dir))
        if settings.demo:
            print(demo_banner(settings.port, settings.host), flush=True)
        web.run_app(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            access_log_class=AccessLogger,
            keepalive_timeout=settings.idle_timeout_s,  # also the deadline for a request's headers
            print=lambda text: print(text, flush=True),
            loop=uvloop.new_event_loop(),  # measured: less CPU per request than asyncio's own loop
        )
    except (hallfile.HallFileError, StartupError) as exc:
        sys.exit(f"clearhall: {exc}")
