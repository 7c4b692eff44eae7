"""Every page without its credential says so, in a real headless Chromium against
the shared `clearhall serve` (the `hall` fixture); a device token given in the
address is kept and leaves the address bar.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.pages.helpers import HALL, Hall, text


@pytest.mark.parametrize("address", ["/kiosk", "/display", "/display/window/3", "/rate/3"])
def test_a_device_page_without_token_says_so(page: Any, hall: Hall, address: str) -> None:
    page.goto(hall.base + address)
    page.wait_for_selector("#blocker", state="visible")
    assert "本设备未配置" in text(page, "#blocker")
    assert "#device=" in text(page, "#blocker")


def test_the_phone_page_without_key_says_so(page: Any, hall: Hall) -> None:
    page.goto(hall.base + "/t/no-such-ticket")
    page.wait_for_selector("#blocker", state="visible")
    assert "无法查看此号码" in text(page, "#blocker")
    page.goto(hall.base + "/t/no-such-ticket?key=wrong")
    page.wait_for_selector("#blocker", state="visible")
    assert "请重新扫描" in text(page, "#blocker")


def test_the_device_token_leaves_the_address_bar(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/display#device={HALL}")
    page.wait_for_function("() => location.hash === ''")
    assert page.evaluate("() => localStorage.getItem('clearhall.device.display')") == HALL
    assert "device" not in page.url
    # a reload without the fragment still works from the kept token
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#services tr').length >= 8")
    assert page.locator("#blocker").count() == 0 or not page.is_visible("#blocker")
