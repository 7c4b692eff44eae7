"""What printing says: a Ticket as a `TicketPrint`, the kiosk's words when printing fails.

Owns the Chinese labels of the categories on the receipt, rendering a ticket
for one printer's paper, encoding and mode (the bytes themselves are
printer.render's), and `explain`, which turns a printing error into the sentence
the kiosk shows. Nothing here touches the database or a printer.
"""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

from clearhall.printer.render import TicketPrint, render
from clearhall.server.domain import tickets
from clearhall.server.domain.hall import Hall
from clearhall.server.printing.printers import Printer

CATEGORY_LABELS: Final = {
    "normal": "普通",
    "elderly": "老年人",
    "disabled": "残疾人",
    "pregnant": "孕妇",
    "military": "军人",
    "enterprise": "企业",
}


def ticket_print(
    hall: Hall, ticket: tickets.Ticket, *, ahead: int, url: str, reprint: bool = False
) -> TicketPrint:
    return TicketPrint(
        hall_name=hall.name,
        service_name=ticket.service_name,
        number=ticket.number,
        category=CATEGORY_LABELS.get(ticket.category, ticket.category),
        ahead=ahead,
        issued_at=ticket.issued_at.astimezone(ZoneInfo(hall.timezone)),
        url=url,
        reprint=reprint,
    )


def render_for(printer: Printer, ticket: TicketPrint) -> bytes:
    return render(ticket, paper=printer.paper, encoding=printer.encoding, mode=printer.mode)


def explain(error: str) -> str:
    """The kiosk's message: what happened in Chinese, what to do, and the detail in English."""
    lowered = error.lower()
    if "paper out" in lowered:
        zh = "打印机缺纸"
    elif "cover open" in lowered:
        zh = "打印机盖未合上"
    elif "agent" in lowered:
        zh = "打印机未连接"
    elif "cancelled" in lowered:
        zh = "打印已取消"
    else:
        zh = "打印机无响应"
    return f"{zh}，请以屏幕上的号码和二维码为准 (printing failed: {error})"
