"""The closed sets of words the database stores: ticket statuses, categories, roles,
device kinds (schema.sql's CHECK constraints), for every layer to name them by.

Each is a `StrEnum`, so a member is also the plain string stored in the
database and sent in JSON (`TicketStatus.WAITING == "waiting"`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    SUSPENDED = "suspended"


# Statuses of a ticket still in the hall: per-ID limits count these.
UNFINISHED: Final = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING, TicketStatus.SUSPENDED)
# At a window now: what the staff member who called it may see more of.
AT_WINDOW: Final = (TicketStatus.CALLED, TicketStatus.SERVING)


class Category(StrEnum):
    NORMAL = "normal"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    PREGNANT = "pregnant"
    MILITARY = "military"
    ENTERPRISE = "enterprise"
    APPOINTMENT = "appointment"  # a booking checked in at the kiosk (预约, CONTRACT §12)


# 绿色通道: called before normal tickets (CONTRACT §4).
GREEN_CHANNEL: Final = (Category.ELDERLY, Category.DISABLED, Category.PREGNANT, Category.MILITARY)
# Called before walk-ins: the green channel and checked-in appointments, in one
# line by place (docs/ordering.md). The `priority` column of tickets holds "called first".
CALLED_FIRST: Final = (*GREEN_CHANNEL, Category.APPOINTMENT)
# What a kiosk or staff may ask for; an appointment ticket comes only from a booking.
ASKABLE: Final = tuple(c for c in Category if c is not Category.APPOINTMENT)


class Role(StrEnum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


SUPERVISORS: Final = (Role.SUPERVISOR, Role.ADMIN)


class ActorKind(StrEnum):
    """Who acted (the action log's actor_kind); a credential is staff or a device."""

    STAFF = "staff"
    DEVICE = "device"
    CITIZEN = "citizen"  # by a ticket's key
    SYSTEM = "system"  # the server itself (sweeps, the evaluator)


class DeviceKind(StrEnum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    RATING = "rating"
    PRINTER = "printer"
