"""`clearhall kiosk-bridge`: the ID card reader's bridge on a kiosk PC (docs/card-reader.md).

    clearhall kiosk-bridge --allow-origin http://192.168.1.10:8080 --library /opt/reader/libsdtapi.so
    clearhall kiosk-bridge --driver simulated --simulate-file /tmp/card.json    (a demo on this machine)

server/cli.py adds these options to its `kiosk-bridge` command and calls `run`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiohttp import web

from clearhall.kiosk.bridge.drivers import DRIVERS, ReaderOptions, make_reader
from clearhall.kiosk.bridge.readers import Reader
from clearhall.kiosk.bridge.sdt import DEFAULT_LIBRARY, USB_PORT
from clearhall.kiosk.bridge.server import DEFAULT_PORT, BridgeConf, Origins, create_app


def add_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--port", type=int, default=DEFAULT_PORT, help="on 127.0.0.1 (default: %(default)s)")
    command.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="the hall server's address as the kiosk page has it, e.g. http://192.168.1.10:8080 "
        "(repeatable; required, except with --driver simulated: then pages of this machine)",
    )  # fmt: skip
    command.add_argument("--driver", choices=sorted(DRIVERS), default="sdt", help="default: %(default)s")
    command.add_argument("--library", default=DEFAULT_LIBRARY, help="sdt: the vendor's library (%(default)s)")
    command.add_argument(
        "--port-number", type=int, default=USB_PORT, help="sdt: the reader's port: 1001–1016 USB, 1–16 serial"
    )
    command.add_argument(
        "--simulate-file", type=Path, metavar="PATH",
        help='simulated: a JSON file, the card on the reader: {"name": …, "id_number": …}, or {} for none',
    )  # fmt: skip


def configure(args: argparse.Namespace) -> tuple[BridgeConf, Reader]:
    """The bridge's settings and reader from the command line, or ValueError saying what is wrong."""
    simulated = args.driver == "simulated"
    if not args.allow_origin and not simulated:
        raise ValueError(
            "kiosk-bridge needs --allow-origin: the hall server's address as the kiosk opens it, "
            "e.g. --allow-origin http://192.168.1.10:8080"
        )
    if simulated and args.simulate_file is None:
        raise ValueError("--driver simulated needs --simulate-file PATH (the card on the reader, as JSON)")
    if not 0 < args.port < 65536:
        raise ValueError(f"--port {args.port} is not a TCP port")
    origins = Origins(args.allow_origin, loopback_pages=simulated and not args.allow_origin)
    options = ReaderOptions(library=args.library, port_number=args.port_number, card_file=args.simulate_file)
    return BridgeConf(origins, port=args.port), make_reader(args.driver, options)


def run(args: argparse.Namespace) -> int:
    try:
        conf, reader = configure(args)
    except ValueError as exc:
        print(f"clearhall: {exc}", file=sys.stderr)
        return 2
    pages = ", ".join(sorted(conf.origins.allowed)) or "pages of this machine (simulated reader)"
    address = f"ws://{conf.host}:{conf.port}/"
    try:
        web.run_app(
            create_app(conf, reader),
            host=conf.host,
            port=conf.port,
            access_log=None,  # who connects, and who is refused, is logged by the bridge itself
            print=lambda _: print(f"clearhall kiosk-bridge on {address}: {reader.name} reader, for {pages}",
                                  flush=True),
        )  # fmt: skip
    except OSError as exc:
        print(f"clearhall: kiosk-bridge cannot listen on {address}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0
