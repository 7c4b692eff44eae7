"""红黄牌 over HTTP (CONTRACT §11), for supervisors: the cards of hall-local days
(`GET /api/cards?from=&to=&staff=&color=`, default today, newest first), one
card, and a note on a card (`POST /api/cards/{id}/notes {"text"}`) — kept with
it and in the action log. A card is never changed or deleted: there is no
endpoint for it, and the database refuses it. Rules: `domain/cards.py`.
"""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.follow_ups import query_choice
from clearhall.server.api.query import query_days, query_int
from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok, path_number
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import cards, errors, messages
from clearhall.server.domain.figures import MOST_DAYS
from clearhall.server.keys import DB, HALL

CARD_PATH = r"/api/cards/{id:\d+}"
MOST_ID = 2**62
MOST_USERNAME = 64
NOTE = Body((Field("text", str, required=True, max_length=500, description="e.g. 系统故障"),))


def card_id(request: web.Request) -> int:
    number = path_number(request, "id", MOST_ID)
    if number is None:
        raise errors.not_found(messages.NO_CARD)
    return number


def wanted(request: web.Request) -> cards.Filter:
    first, last = query_days(request, request.app[HALL].timezone, MOST_DAYS)
    staff = request.query.get("staff") or None
    if staff is not None and len(staff) > MOST_USERNAME:
        raise errors.invalid(messages.QUERY_WRONG_FORMAT(name="staff"), "staff")
    color = query_choice(request, "color", cards.COLORS)
    return cards.Filter(first, last, staff, color, query_int(request, "limit", 1, 1000) or 500)


async def list_cards(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    f = wanted(request)
    async with request.app[DB].acquire() as conn:
        found = await cards.cards(conn, hall, f)
    return ok({"cards": [c.json(hall.timezone) for c in found]})


async def get_card(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        found = await cards.read(conn, hall.id, card_id(request))
    if found is None:
        raise errors.not_found(messages.NO_CARD)
    return ok({"card": found.json(hall.timezone)})


async def add_note(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    noted = await cards.annotate(request.app[DB], hall, request[WHO], card_id(request), request[BODY]["text"])
    return ok({"card": noted.json(hall.timezone)}, 201)


ROUTES = (
    Endpoint(
        "GET", "/api/cards", list_cards,
        "红黄牌 of hall-local days from…to (default today), newest first: ?staff=USERNAME ?color=yellow|red"
        " ?limit= — each with its rule, whom and where, when, its evidence and its notes",
        Access.SUPERVISOR, tag="supervision", query=("from", "to", "staff", "color", "limit"),
    ),
    Endpoint("GET", CARD_PATH, get_card, "One card, with its evidence and notes", Access.SUPERVISOR,
             tag="supervision"),
    Endpoint(
        "POST", CARD_PATH + "/notes", add_note,
        "A supervisor's note on a card (e.g. 系统故障), kept with it and logged; a card is never deleted."
        " Answers the card", Access.SUPERVISOR, body=NOTE, status=201, tag="supervision",
    ),
)  # fmt: skip
