"""好差评 over HTTP (CONTRACT §7): POST /api/ratings, by the ticket's key or the window's pad."""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok
from clearhall.server.api.shapes import rating_json
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import ratings
from clearhall.server.keys import DB, HALL

RATING = Body(
    (
        Field("ticket", str, required=True, max_length=64),
        Field(
            "key", str, max_length=64, description="the ticket's key; not needed from the window's rating pad"
        ),
        Field("score", int, required=True, minimum=1, maximum=5),
        Field("dimensions", dict, keys=ratings.DIMENSIONS, minimum=1, maximum=5),
        Field("comment", str, max_length=500),
    )
)


async def rate(request: web.Request) -> web.Response:
    data, hall = request[BODY], request.app[HALL]
    rating = await ratings.rate(
        request.app[DB], hall, request.get(WHO), data["ticket"], data.get("key"), data["score"],
        data.get("dimensions", {}), data.get("comment"),
    )  # fmt: skip
    return ok({"rating": rating_json(rating, hall)}, 201)


ROUTES = (
    Endpoint(
        "POST", "/api/ratings", rate,
        "好差评: rate a finished ticket once (the citizen's key, or the window's pad)",
        Access.RATER, body=RATING, status=201, tag="ratings",
    ),
)  # fmt: skip
