"""好差评 over HTTP (CONTRACT §7): POST /api/ratings, by the ticket's key or the
window's pad; and the figures for the supervisor dashboard,
GET /api/ratings/figures?from=&to= (hall-local dates, default today)."""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.query import query_days
from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok
from clearhall.server.api.shapes import figures_json, rating_json
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import figures, rating_rules, ratings
from clearhall.server.keys import DB, HALL, READ_DB

RATING = Body(
    (
        Field("ticket", str, required=True, max_length=64),
        Field(
            "key", str, max_length=64, description="the ticket's key; not needed from the window's rating pad"
        ),
        Field("score", int, required=True, minimum=1, maximum=5),
        Field("dimensions", dict, keys=ratings.DIMENSIONS, minimum=1, maximum=5),
        Field(
            "reasons", list, max_length=20, max_items=10,
            description="a 差评's reasons, from the hall's [ratings] bad_reasons (listed by"
            " GET /api/ratings/rules); a score of 1–2 needs one or a comment",
        ),
        Field("comment", str, max_length=500),
        Field(
            "contact", str, max_length=30,
            description="a phone number for the call-back (回访) of a 差评; seen only by supervisors working"
            " its case, erased when the case has been closed for contact_retention_days",
        ),
    )
)  # fmt: skip


async def rate(request: web.Request) -> web.Response:
    data, hall = request[BODY], request.app[HALL]
    given = ratings.Given(
        data["score"], data.get("dimensions", {}), data.get("reasons", []), data.get("comment"),
        data.get("contact"),
    )  # fmt: skip
    who, key = request.get(WHO), data.get("key")
    rating = await ratings.rate(request.app[DB], hall, who, data["ticket"], key, given)
    return ok({"rating": rating_json(rating, hall)}, 201)


async def get_rules(request: web.Request) -> web.Response:
    """What a rating pad or phone page needs to ask: the levels, the 差评 reasons, the indicators."""
    async with request.app[DB].acquire() as conn:
        rules = await rating_rules.load(conn, request.app[HALL].id)
    return ok(
        {
            "levels": [{"score": n, "words": ratings.SCORE_WORDS[n], "bad": n <= 2} for n in range(5, 0, -1)],
            "bad_reasons": list(rules.bad_reasons),
            "dimensions": list(ratings.DIMENSIONS),
            "rate_within_days": rules.rate_within_days,
            "follow_up_days": rules.follow_up_days,
        }
    )


async def get_figures(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    first, last = query_days(request, hall.timezone, figures.MOST_DAYS)
    found = await request.app[READ_DB].run(figures.figures, hall.id, hall.timezone, first, last)  # may lag
    return ok({"figures": figures_json(found)})


ROUTES = (
    Endpoint(
        "POST", "/api/ratings", rate,
        "好差评: rate a finished ticket once (the citizen's key, or the window's pad)",
        Access.RATER, body=RATING, status=201, tag="ratings",
    ),
    Endpoint(
        "GET", "/api/ratings/rules", get_rules,
        "What a rating asks: the five levels in words, the hall's 差评 reasons, the indicators, and the days"
        " a ticket may be rated after its finish", Access.PUBLIC, tag="ratings",
    ),
    Endpoint(
        "GET", "/api/ratings/figures", get_figures,
        "好差评 figures for hall-local days from…to (default today): in total, per window and per staff"
        " member — counts per level, 好评率, 差评率, 未评率, 主动评价好评率, 差评回复率, 整改率, 整改满意率,"
        " open and overdue cases (docs/haochaping.md)",
        Access.SUPERVISOR, tag="ratings", query=("from", "to"),
    ),
)  # fmt: skip
