"""Who sends a message: the `Notifier` interface and the notifiers clearhall brings.

A notifier has one coroutine, `send(message)`: it delivers the message or
raises (any exception is a failed attempt, retried with backoff by the
worker). No provider is bundled: a hall that has an SMS gateway or a WeChat
订阅消息 template writes a class with that one method and adds its name to
`BY_NAME` (and to `hallfile.NOTIFIERS`). A message carries its fields
(number, window, people ahead) beside the sentence, for providers that fill an
approved template (短信模板) rather than send free text.

Rule for every notifier: the phone number (or openid) is the `address`, and it
is never logged or put in an exception: `message.masked` (138****5678) is what
a log line may show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol

from clearhall.server.domain.idcard import mask_phone
from clearhall.server.domain.text import Text

log = logging.getLogger(__name__)

NEAR, CALLED = "near", "called"  # the two kinds of message (notify_outbox.kind)


mask = mask_phone  # 138****5678 (clearhall.server.domain.idcard)


@dataclass(frozen=True)
class Message:
    id: int  # the outbox row: the same on every attempt, a provider's idempotency key
    kind: str  # NEAR or CALLED
    channel: str  # "sms" or "wechat"
    address: str = field(repr=False)  # the phone number (or openid): never logged
    ticket_number: str
    hall: str  # the hall's name, the signature of an SMS (短信签名)
    text: Text  # the sentence, in Chinese and English
    window: int | None = None  # CALLED: where to go
    ahead: int | None = None  # NEAR: tickets ahead when it was queued

    @property
    def masked(self) -> str:
        return mask(self.address)


class Notifier(Protocol):
    async def send(self, message: Message) -> None:
        """Deliver `message`, or raise: the worker retries, then gives up."""


class LoggingNotifier:
    """The demo's notifier: a log line per message, with the phone number masked."""

    async def send(self, message: Message) -> None:
        log.info(
            "notify %s %s %s to %s: %s",
            message.channel, message.kind, message.ticket_number, message.masked, message.text.zh,
        )  # fmt: skip


# The hall file's [notify] notifier: "none" sends nothing, and keeps no phone number.
BY_NAME: Final[dict[str, Callable[[], Notifier]]] = {"log": LoggingNotifier}


def named(name: str) -> Notifier | None:
    make = BY_NAME.get(name)
    return make() if make is not None else None
