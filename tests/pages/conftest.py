"""Fixtures for the page tests: a real headless Chromium (Debian's, never a
downloaded one) and, for the tests that need it, a real `clearhall serve`.

`hall` is one server per test module, shared by that module's tests (see
tests/pages/helpers.py for which windows each test works at); `page` is a fresh
browser context on it that fails the test on a JavaScript error or on anything
loaded from outside the hall."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pages.helpers import Hall, demo_hall_file, record_secrets, serving

CHROMIUM = os.environ.get("CLEARHALL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


# Module scope, not session: sync Playwright keeps its own event loop marked as
# running in this thread while it is open, and the asyncio tests that run after
# this module need the thread to themselves.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):  # in CI the browser tests run, never skip
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright import sync_api  # in the test extra: a missing one is an error, not a skip

    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        new_context = b.new_context

        def recording_context(*args: Any, **kwargs: Any) -> Any:
            """Every context's pages have the secrets they send and get remembered."""
            ctx = new_context(*args, **kwargs)
            record_secrets(ctx)
            return ctx

        b.new_context = recording_context  # type: ignore[method-assign]
        yield b
        b.close()


@pytest.fixture(scope="module")
def hall(pg_url: str) -> Iterator[Hall]:
    with serving(pg_url, f"clearhall_pages_{os.getpid()}", demo_hall_file()) as running:
        yield running


@pytest.fixture
def page(browser: Any, hall: Hall) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    outside: list[str] = []

    def check(request: Any) -> None:
        url = request.url
        if not (url.startswith(hall.base) or url.startswith(("data:", "blob:", "ws://127.0.0.1"))):
            outside.append(url)

    ctx.on("request", check)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    # The pages run under the server's Content-Security-Policy: anything it blocks is a bug.
    blocked: list[str] = []
    p.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    yield p
    ctx.close()
    assert not outside, f"pages must load nothing from outside: {outside}"
    assert not errors, f"JavaScript errors: {errors}"
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"
