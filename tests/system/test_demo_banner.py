"""The demo banner (issue 9, item 18): `clearhall serve --demo` prints every page's
address — kiosk, hall screen, each window's screen, each rating pad, console,
supervisor dashboard, and how the phone page is reached — on the host it really
listens on, and every one of them answers."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import sys

import aiohttp
import asyncpg

from clearhall.server.cli import demo_banner, machine_addresses
from tests.conftest import current_test, keep_output, with_database
from tests.helpers import free_port

PAGES = [
    "/kiosk#device=demo-kiosk-1-token",
    "/display#device=demo-hall-screen-token",
    "/display/window/3#device=demo-window-3-screen",
    *(f"/display/window/{n}#device=demo-hall-screen-token" for n in (1, 2, *range(4, 13))),
    "/rate/1#device=demo-rating-pad-1",
    "/rate/3#device=demo-rating-pad-3",
    "/console",
    "/supervisor",
    "/t/",  # the phone page: reached from a ticket's QR code
]
URL = re.compile(r"https?://\S+")


def addresses_in(banner: str) -> list[str]:
    return URL.findall(banner)


def test_on_the_loopback_address_every_page_is_there_with_a_note() -> None:
    banner = demo_banner(8080, "127.0.0.1")
    for page in PAGES:
        assert f"http://127.0.0.1:8080{page}" in banner, page
    assert all(url.startswith("http://127.0.0.1:8080") for url in addresses_in(banner))
    assert "only this machine" in banner and "--host 0.0.0.0" in banner
    assert "QR" in banner  # how the phone page is reached
    assert "supervisor   demo-supervisor-2026" in banner  # and the log-ins
    assert "00:00–23:59 Asia/Shanghai (open all day)" in banner


def test_on_every_address_it_says_so_and_gives_the_machines_addresses() -> None:
    banner = demo_banner(8080, "0.0.0.0", ["192.168.1.20", "10.0.0.5"])
    assert "every address of this machine (0.0.0.0)" in banner
    assert "from this machine:       http://127.0.0.1:8080" in banner
    assert "http://192.168.1.20:8080\n" in banner and "http://10.0.0.5:8080\n" in banner
    for page in PAGES:
        assert f"http://192.168.1.20:8080{page}" in banner, page
    assert "0.0.0.0:8080" not in banner  # never an address nobody can open


def test_on_every_address_of_a_machine_without_a_network_it_says_127_0_0_1_is_local() -> None:
    banner = demo_banner(8080, "0.0.0.0", [])
    for page in PAGES:
        assert f"http://127.0.0.1:8080{page}" in banner, page
    assert "no network address found" in banner


def test_ipv6_addresses_are_bracketed() -> None:
    banner = demo_banner(8080, "::", ["fd00::5"])
    assert "every address of this machine (::)" in banner
    assert "from this machine:       http://[::1]:8080" in banner
    assert "http://[fd00::5]:8080/kiosk#device=demo-kiosk-1-token" in banner
    assert "http://[fd00::1]:9/console" in demo_banner(9, "fd00::1")


def test_on_one_address_the_pages_are_on_it() -> None:
    banner = demo_banner(8080, "192.168.1.20")
    assert "listening on http://192.168.1.20:8080 only" in banner
    assert all(url.startswith("http://192.168.1.20:8080") for url in addresses_in(banner))


def test_the_machines_addresses_are_real_and_not_loopback() -> None:
    for text in machine_addresses():
        ip = ipaddress.ip_address(text)
        assert ip.version == 4 and not ip.is_loopback


async def test_every_address_the_demo_prints_answers(pg_url: str) -> None:
    name = f"clearhall_banner_{os.getpid()}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clearhall.server", "serve", "--demo", "--port", str(port),
        "--database-url", with_database(pg_url, name),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    output = ""
    try:
        while "Running on" not in output:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            assert line, output
            output += line.decode()
        urls = {url.split("#")[0] for url in addresses_in(output) if "<ticket>" not in url}
        assert len(urls) >= 17, output  # kiosk, hall, 12 windows, 2 pads, console, supervisor
        async with aiohttp.ClientSession() as session:
            for url in sorted(urls):
                async with session.get(url) as reply:
                    assert reply.status == 200, url
                    assert "<html" in await reply.text(), url
        assert f"http://127.0.0.1:{port}/supervisor" in output
    finally:
        proc.terminate()
        await proc.wait()
        keep_output(f"the output of `clearhall serve --demo`, of {current_test()}", output)  # banner and log
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()
