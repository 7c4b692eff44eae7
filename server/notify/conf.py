"""The time limits of sending notifications, and the app keys of `server/notify`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from clearhall.server.notify.notifiers import Notifier
    from clearhall.server.notify.worker import Notifying


@dataclass(frozen=True)
class NotifyConf:
    """Time limits of notifying; tests shorten them through `NOTIFY_CONF`."""

    poll_s: float = 1.0  # how often the worker looks for due messages
    send_timeout_s: float = 10.0  # one send; a provider that takes longer has failed
    lease_s: float = 60.0  # a claimed message whose sender vanished is due again after this
    retry_base_s: float = 5.0  # first retry after this, doubling each time
    retry_max_s: float = 60.0
    max_attempts: int = 5
    # A message not sent after this is given up: "please go to window 5" a
    # quarter of an hour late sends someone to a window that has moved on.
    max_age_s: float = 900.0
    sweep_s: float = 300.0  # how often kept phone numbers and old rows are cleared
    keep_contact_s: float = 86400.0  # a phone number is never kept longer than this
    keep_rows_days: int = 30  # sent and given-up rows (no phone number in them) are kept this long


NOTIFY_CONF = web.AppKey("notify_conf", NotifyConf)
# The hall file's [notify] notifier ("log", "none"), set at start-up from the file served.
NOTIFIER_NAME = web.AppKey("notifier_name", str)
# A notifier object to use instead of the named one (tests put a fake here).
NOTIFIER: web.AppKey[Notifier] = web.AppKey("notifier")
# This process's sender; absent when no notifier is configured.
NOTIFYING: web.AppKey[Notifying] = web.AppKey("notifying")
