"""Whatever JSON arrives, at whatever endpoint, the answer is never a 500 and
every error is in the contract's shape (CONTRACT §3)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import KIOSK, RATING, Api

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=40), st.sampled_from(["A", "A001", "elderly", "11010519491231002X", "13812345678", ""]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def bodies(properties: list[str]) -> st.SearchStrategy[Any]:
    """Objects with the endpoint's own field names (and some others), or anything at all."""
    names = st.sampled_from(properties) if properties else st.text(max_size=10)
    return st.one_of(st.dictionaries(names | st.text(max_size=10), values, max_size=6), values)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_body_makes_a_500(api: Api, data: st.DataObject) -> None:
    doc = (await api.get("/api/openapi.json")).body
    operations = [
        (method.upper(), path, op)
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
        if "requestBody" in op
    ]
    method, path, op = data.draw(st.sampled_from(operations))
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    body = data.draw(bodies(sorted(schema.get("properties", {}))))
    segment = data.draw(st.sampled_from(["1", "3", "0", "999999999999", "A001", "x%20y"]))
    concrete = re.sub(r"\{\w+\}", segment, path)
    token = data.draw(st.sampled_from([KIOSK, RATING, await api.login("boss"), await api.login("s1"), None]))
    reply = (
        await api.request(method, concrete, body, token=token, record=False)
        if body is not None
        else await api.request(method, concrete, token=token)
    )
    assert reply.status < 500, (method, concrete, body, reply.body)
    if reply.status >= 400:
        assert (
            isinstance(reply.body, dict)
            and reply.body["ok"] is False
            and reply.body["status"] == reply.status
        )
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", reply.body["error"]["code"])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_query_or_path_makes_a_500(api: Api, data: st.DataObject) -> None:
    doc = (await api.get("/api/openapi.json")).body
    operations = [
        (method.upper(), path, op)
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
        if method == "get"
    ]
    method, path, op = data.draw(st.sampled_from(operations))
    text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
    segment = data.draw(
        text.filter(lambda t: t not in ("", ".", "..") and "/" not in t and "?" not in t and "#" not in t)
    )
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"] or ["x"]
    query = data.draw(st.dictionaries(st.sampled_from(names), text, max_size=3))
    concrete = re.sub(r"\{\w+\}", lambda _m: quote(segment, safe=""), path)
    if query:
        concrete += "?" + urlencode(query)
    token = data.draw(st.sampled_from([KIOSK, await api.login("boss"), None]))
    reply = await api.request(method, concrete, token=token)
    assert reply.status < 500, (concrete, reply.body)
    if reply.status >= 400:
        assert reply.body["ok"] is False and reply.body["status"] == reply.status
