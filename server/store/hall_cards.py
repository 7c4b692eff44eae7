"""The hall file's `[cards]` (红黄牌, CONTRACT §11): which rules give a yellow card,
after how long, and when yellows make a red one — read (called from
`hallfile.parse`), stored on the hall's row of `card_rules` (called from
`hall_apply.apply`) and read back by the evaluator (`load_cards`).

Every rule can be switched off: the minute rules with 0, the others with
`false`; `red_after_yellows = 0` gives no red cards. A hall with no row (a
database from before migration 0010 not loaded from a file since) has the
defaults. What each rule means exactly is docs/supervision.md's, "Red and
yellow cards"; the evaluation is `domain/cards.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from clearhall.server.store.db import Connection
from clearhall.server.store.hall_reader import Reader, table

MOST_MINUTES = 24 * 60  # a threshold longer than a day is a typo
MOST_YELLOWS = 20  # a red card's evidence lists its yellows: it stays small
MOST_PERIOD_DAYS = 366


@dataclass(frozen=True)
class CardsConf:
    time_limit: bool = True  # 限时办结: at the window past the service's time_limit_minutes
    wait_minutes: int = 30  # a ticket waiting this long without a call; 0 = off
    idle_minutes: int = 10  # a window open and idle this long while its tickets wait; 0 = off
    absent_minutes: int = 15  # 空岗: a window staffed today left empty this long in hours; 0 = off
    out_of_order_calls: bool = True  # 指呼: a call of another ticket than the rule's
    suspended_twice: bool = True  # 一次性告知 broken: the same ticket suspended again
    bad_ratings: bool = True  # a 差评 whose case closed without an upheld appeal
    red_after_yellows: int = 3  # this many yellows of one person make a red card; 0 = no reds
    red_period_days: int = 30  # … within this many days


def read_cards(top: Reader, data: dict[str, Any]) -> CardsConf:
    reader = Reader(top.source, top.text, table(top, data, "cards"), "cards", "cards")
    d = CardsConf()
    conf = CardsConf(
        time_limit=reader.get("time_limit", bool, d.time_limit),
        wait_minutes=reader.number("wait_minutes", d.wait_minutes, least=0, most=MOST_MINUTES),
        idle_minutes=reader.number("idle_minutes", d.idle_minutes, least=0, most=MOST_MINUTES),
        absent_minutes=reader.number("absent_minutes", d.absent_minutes, least=0, most=MOST_MINUTES),
        out_of_order_calls=reader.get("out_of_order_calls", bool, d.out_of_order_calls),
        suspended_twice=reader.get("suspended_twice", bool, d.suspended_twice),
        bad_ratings=reader.get("bad_ratings", bool, d.bad_ratings),
        red_after_yellows=reader.number("red_after_yellows", d.red_after_yellows, least=0, most=MOST_YELLOWS),
        red_period_days=reader.positive("red_period_days", d.red_period_days, most=MOST_PERIOD_DAYS),
    )
    reader.finish()
    return conf


COLUMNS = tuple(f.name for f in fields(CardsConf))

APPLY_CARDS = f"""
INSERT INTO card_rules (hall_id, {", ".join(COLUMNS)})
VALUES ($1, {", ".join(f"${i + 2}" for i in range(len(COLUMNS)))})
ON CONFLICT (hall_id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS)}
"""

SELECT_CARDS = f"SELECT {', '.join(COLUMNS)} FROM card_rules WHERE hall_id = $1"


async def apply_cards(conn: Connection, hall_id: int, conf: CardsConf) -> None:
    """Store the rules on the hall's row (inside the caller's transaction); a key the
    file no longer has is back to its default."""
    await conn.execute(APPLY_CARDS, hall_id, *(getattr(conf, c) for c in COLUMNS))


async def load_cards(conn: Connection, hall_id: int) -> CardsConf:
    row = await conn.fetchrow(SELECT_CARDS, hall_id)
    return CardsConf(**dict(row)) if row else CardsConf()
