"""Integrity signals (CONTRACT §11; docs/supervision.md, "Integrity signals"):
patterns in the hall's own data that a supervisor should look at.

`find` computes them on request for hall-local days `first`…`last`, from the
tickets, ratings and action log as they are; nothing is stored, so a signal
always agrees with the rows it shows, and changing a threshold in the hall
file changes the answer at once. Each `Signal` carries its kind and rule, who
or what it is about, the figures measured, the thresholds crossed, a sentence
in Chinese and English, and the rows that raised it. A signal is a reason to
look, not a finding.

The kinds, each in its own module:

- `scalping` (黄牛) and `collusion` (possible 中介): `signals_people`;
- `rating_pattern` (好差评 that look steered): `signals_ratings`;
- `peer_outlier` (suspensions or out-of-order calls far above peers): `signals_peers`.

Thresholds are the hall file's `[signals]` (`store/hall_signals.py`).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from clearhall.server.domain.hall import Hall
from clearhall.server.domain.signal_rows import Signal
from clearhall.server.domain.signals_peers import peer_outliers
from clearhall.server.domain.signals_people import collusion, scalping
from clearhall.server.domain.signals_ratings import rating_patterns
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_signals import SignalsConf, load_signals

MOST_DAYS: Final = 92  # a quarter: the longest range asked for at once
KINDS: Final = ("scalping", "collusion", "rating_pattern", "peer_outlier")


async def find(conn: Connection, hall: Hall, first: date, last: date) -> tuple[SignalsConf, list[Signal]]:
    """The hall's thresholds, and the signals of days first…last (hall-local), kind by kind."""
    th = await load_signals(conn, hall.id)
    found: list[Signal] = []
    for kind in (scalping, collusion, rating_patterns, peer_outliers):
        found += await kind(conn, hall, th, first, last)
    return th, found
