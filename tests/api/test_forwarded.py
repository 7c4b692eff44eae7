"""The client's address behind a proxy (`--trusted-proxy`, api/forwarded.py): the last
address of X-Forwarded-For, only from a trusted proxy; anyone else's header is
ignored. Seen where it counts: the failed log-in's warning (the address throttle's
subject) and the access log. End to end behind nginx: tests/system/test_nginx_three.py."""

from __future__ import annotations

import ipaddress

import pytest

from clearhall.server.api.forwarded import forwarded_client, trusted
from clearhall.server.app import create_app
from tests.conftest import app_client, settings_for

LOOPBACK = (ipaddress.ip_network("127.0.0.1"),)
ELSEWHERE = (ipaddress.ip_network("10.0.0.0/8"),)
HEADER = "203.0.113.9, 198.51.100.7"  # the client wrote the first; the proxy appended the last


@pytest.mark.parametrize(
    ("proxies", "header", "seen"),
    [
        (LOOPBACK, HEADER, "198.51.100.7"),  # from the trusted proxy: the address it appended
        (LOOPBACK, "not an address", "127.0.0.1"),  # nothing usable: the connection's own
        (ELSEWHERE, HEADER, "127.0.0.1"),  # the connection is not from a trusted proxy
        ((), HEADER, "127.0.0.1"),  # no --trusted-proxy: the header means nothing
    ],
)
async def test_client_address(
    db_url: str,
    caplog: pytest.LogCaptureFixture,
    proxies: tuple[ipaddress.IPv4Network, ...],
    header: str,
    seen: str,
) -> None:
    caplog.set_level("INFO")
    async with app_client(create_app(settings_for(db_url, trusted_proxies=proxies))) as (_, api):
        r = await api.post(
            "/api/login",
            {"username": "nobody", "password": "wrong-password"},
            headers={"X-Forwarded-For": header},
        )
        assert r.status == 401
    assert f"failed log-in for 'nobody' from {seen}" in caplog.text
    assert f"{seen} POST /api/login 401" in caplog.text  # the access log's address too


def test_rules() -> None:
    assert forwarded_client("1.2.3.4,5.6.7.8") == "5.6.7.8"
    assert forwarded_client(" 2001:db8::1 ") == "2001:db8::1"
    assert forwarded_client("5.6.7.8, unknown") is None
    assert forwarded_client("") is None
    assert trusted("::ffff:127.0.0.1", LOOPBACK)  # an IPv4 peer on a dual-stack socket
    assert not trusted("127.0.0.2", LOOPBACK)
    assert not trusted(None, LOOPBACK) and not trusted("", LOOPBACK)
