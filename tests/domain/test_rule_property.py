"""Property tests: the calling rule against a plain model, and the ID check digit."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearhall.server.domain import action_log as audit
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.calling import call_next
from clearhall.server.domain.hall import load_hall
from clearhall.server.domain.idcard import CHECK_CODES, WEIGHTS, check_digit, id_problem
from clearhall.server.domain.issuing import Order, issue
from clearhall.server.domain.window import lock_window
from clearhall.server.domain.window_calls import Call, transition
from clearhall.server.store import db
from clearhall.server.store.kinds import ActorKind

# window → its services, in tests/hall.toml; staff signed in for the test
WINDOWS = {1: {"A"}, 2: {"A", "C"}, 4: {"C"}}
STAFF = {1: "s1", 2: "s2", 4: "s4"}


@dataclass
class Model:
    """The published rule, written as plainly as possible."""

    max_run: int
    waiting: list[tuple[int, str, bool, str]] = field(default_factory=list)  # (order, service, green, number)
    runs: dict[int, int] = field(default_factory=lambda: dict.fromkeys(WINDOWS, 0))

    def call_next(self, window: int) -> str | None:
        mine = [t for t in self.waiting if t[1] in WINDOWS[window]]
        green = sorted(t for t in mine if t[2])
        normal = sorted(t for t in mine if not t[2])
        first, then = (green, normal) if self.runs[window] < self.max_run else (normal, green)
        if not first and not then:
            return None
        pick = (first or then)[0]
        self.waiting.remove(pick)
        self.runs[window] = self.runs[window] + 1 if pick[2] else 0
        return pick[3]


operation = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from("AC"), st.booleans()),
    st.tuples(st.just("call"), st.sampled_from(sorted(WINDOWS)), st.just(False)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=40), max_run=st.integers(1, 4))
async def test_call_next_follows_the_published_rule(
    conn: asyncpg.Connection, ops: list[tuple[str, object, bool]], max_run: int
) -> None:
    await conn.execute("UPDATE windows SET current_ticket_id = NULL, priority_run = 0, staff_id = NULL")
    await conn.execute("DELETE FROM tickets")
    await conn.execute("DELETE FROM ticket_counters")
    await conn.execute("UPDATE halls SET max_consecutive_priority = $1", max_run)
    for number, username in STAFF.items():
        await conn.execute(
            "UPDATE windows SET staff_id = (SELECT id FROM staff WHERE username = $1) WHERE number = $2",
            username, number,
        )  # fmt: skip
    hall = await load_hall(conn, "main")
    assert hall is not None
    secret = await db.installation_secret(conn)
    system = audit.Actor("system", None, "property test")
    model = Model(max_run)
    order = 0
    for op, arg, green in ops:
        if op == "issue":
            category = "elderly" if green else "normal"
            issued = await issue(conn, hall, secret, system, Order(str(arg), category), "http://test")
            model.waiting.append((order, str(arg), green, issued.ticket.number))
            order += 1
            continue
        n = int(str(arg))
        async with conn.transaction():
            window = await lock_window(conn, hall.id, n)
            staff = Principal(ActorKind.STAFF, window.staff_id or 0, STAFF[n], "test", role="staff")
            _, ticket = await call_next(conn, hall, staff, n)
            if ticket is not None:
                await transition(conn, hall, n, staff, Call.FINISH)
        assert (ticket.number if ticket else None) == model.call_next(n)


def id_strategy() -> st.SearchStrategy[str]:
    region = st.integers(110000, 659999).map(str)
    birth = st.dates().filter(lambda d: 1900 <= d.year <= 2099).map(lambda d: d.strftime("%Y%m%d"))
    serial = st.integers(0, 999).map(lambda n: f"{n:03d}")
    return st.tuples(region, birth, serial).map(lambda t: "".join(t))


@given(first17=id_strategy())
def test_check_digit_makes_a_valid_id(first17: str) -> None:
    number = first17 + check_digit(first17)
    assert id_problem(number) is None
    assert id_problem(number.lower()) is None  # a lower-case x is the same ID


@given(first17=id_strategy(), position=st.integers(0, 16), delta=st.integers(1, 9))
def test_any_single_digit_error_is_caught(first17: str, position: int, delta: int) -> None:
    number = first17 + check_digit(first17)
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    # GB 11643's weights are all non-zero mod 11, so one changed digit always changes the sum.
    assert id_problem(wrong) is not None


@given(first17=id_strategy(), code=st.sampled_from(CHECK_CODES))
def test_only_the_right_check_character_passes(first17: str, code: str) -> None:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    assert (id_problem(first17 + code) is None) == (CHECK_CODES[total % 11] == code)


def test_published_examples() -> None:
    assert id_problem("11010519491231002X") is None  # the standard's own example
    assert id_problem("110105194912310021") is not None
    assert id_problem("11010519491331002X") is not None  # month 13
