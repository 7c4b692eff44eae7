"""过号顺延: where a missed ticket goes back in line (`requeue.place_behind`), against a plain model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from clearhall.server.domain.requeue import place_behind

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def line(*minutes_ago: int) -> list[datetime]:
    return sorted(NOW - timedelta(minutes=m) for m in minutes_ago)


def test_between_the_nth_and_the_next() -> None:
    own = line(50, 40, 30, 20)
    at = place_behind(2, 0, own, NOW)
    assert own[1] < at < own[2]


def test_at_the_end_when_fewer_wait() -> None:
    assert place_behind(5, 0, line(30, 20), NOW) == NOW
    assert place_behind(2, 0, [], NOW) == NOW


def test_higher_class_tickets_count_as_ahead() -> None:
    """A normal ticket with 3 green-channel tickets waiting and N = 2 goes to the
    head of the normal tickets: the green channel is ahead of it anyway."""
    own = line(50, 40)
    assert place_behind(2, 3, own, NOW) < own[0]
    assert own[0] < place_behind(4, 3, own, NOW) < own[1]


@given(
    behind=st.integers(1, 8),
    higher=st.integers(0, 5),
    ages=st.lists(st.integers(1, 600), max_size=12, unique=True),
)
def test_exactly_n_ahead_or_all_there_are(behind: int, higher: int, ages: list[int]) -> None:
    own = sorted(NOW - timedelta(seconds=a) for a in ages)
    at = place_behind(behind, higher, own, NOW)
    ahead = higher + sum(1 for t in own if t < at)
    assert ahead == max(higher, min(behind, higher + len(own)))
    assert all(t != at for t in own)  # never tied with a ticket already waiting
