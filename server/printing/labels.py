"""What printing says: a Ticket as a `TicketPrint`, the kiosk's words when printing fails.

Owns the Chinese labels of the categories on the receipt, rendering a ticket
for one printer's paper, encoding and mode (the bytes themselves are
printer.render's), and `explain`, which turns a printing error into the code
the kiosk shows in its own words. Nothing here touches the database or a printer.
"""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

from clearhall.printer.render import TicketPrint, render
from clearhall.server.domain import tickets
from clearhall.server.domain.hall import Guide, Hall
from clearhall.server.printing.printers import Printer

CATEGORY_LABELS: Final = {
    "normal": "普通",
    "elderly": "老年人",
    "disabled": "残疾人",
    "pregnant": "孕妇",
    "military": "军人",
    "enterprise": "企业",
    "appointment": "预约",
}


def ticket_print(
    hall: Hall,
    ticket: tickets.Ticket,
    *,
    ahead: int,
    url: str,
    reprint: bool = False,
    guide: Guide | None = None,
) -> TicketPrint:
    guide = guide or Guide()
    return TicketPrint(
        hall_name=hall.name,
        service_name=ticket.service_name,
        number=ticket.number,
        category=CATEGORY_LABELS.get(ticket.category, ticket.category),
        ahead=ahead,
        issued_at=ticket.issued_at.astimezone(ZoneInfo(hall.timezone)),
        url=url,
        reprint=reprint,
        where=guide.where,
        materials=guide.materials,
    )


def render_for(printer: Printer, ticket: TicketPrint) -> bytes:
    return render(ticket, paper=printer.paper, encoding=printer.encoding, mode=printer.mode)


PRINT_FAULTS: Final = ("paper_out", "cover_open", "not_connected", "cancelled", "no_response")


def explain(error: str) -> str:
    """A printing error as the stable code the kiosk shows in its own words (one of
    PRINT_FAULTS); the technical text stays in the job's `last_error` for the supervisor."""
    lowered = error.lower()
    if "paper out" in lowered:
        return "paper_out"
    if "cover open" in lowered:
        return "cover_open"
    if "agent" in lowered:
        return "not_connected"
    if "cancelled" in lowered:
        return "cancelled"
    return "no_response"
