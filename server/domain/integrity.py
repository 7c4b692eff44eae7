"""The integrity log (CONTRACT §11): the action log chained, entry by entry,
with SHA-256, so that an entry changed, removed or slipped in by hand is found.

How it works (docs/supervision.md, "The record nobody can quietly change"):

- An action inserts its row into `action_log` and nothing else: no lock is
  shared between actions, so calling is not queued behind the log.
- `seal` (run by one sealer per hall at a time, under an advisory lock, by any
  server process) takes the entries not yet chained, in id order, gives each
  the next `seq` (1, 2, 3, … per hall, no gaps) and
  hash = SHA-256(previous hash | seq | the entry's content), and inserts those
  into `action_log_chain`. Both tables refuse UPDATE, DELETE and TRUNCATE.
- `verify` walks the chain from seq 1 and recomputes every hash: the first
  entry whose content no longer matches is `changed`; a seq with no chain row,
  or a chain row whose entry is gone, is `missing`; an entry that sits among
  chained entries (an id below the newest chained one) but was never chained
  is `inserted`: the sealer chains a late commit (a transaction that finished
  after a later one), whose time is within SETTLE_S of the chained entry after
  it, never a back-dated row. Entries not chained yet are `pending`.
- The head (seq and hash) of a day anchors it: a printed head that no longer
  matches the chain at that seq means the chain was rewritten.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from clearhall.server.store.db import Connection

GENESIS: Final = "0" * 64  # the "previous hash" of seq 1
SEAL_LOCK: Final = 0x636C6861  # advisory lock class "clha"; the hall id is the second key
SEAL_BATCH: Final = 1000
SETTLE_S: Final = 60  # a late commit is at most this older than the chained entry after it
GAP_S: Final = 120  # a sealer looks for a missing id this long (transactions end within 30 s)
MOST_GAPS: Final = 10_000  # ids noted missing in one stretch at most (another hall's burst)

COLUMNS = """a.id, a.hall_id, a.at, a.actor_kind, a.actor_id, a.actor_name, a.window_number, a.ticket_id,
       a.ticket_number, a.action, a.reason, a.rule_ticket_id, a.rule_ticket_number, a.details"""

HEAD = "SELECT seq, hash FROM action_log_chain WHERE hall_id = $1 ORDER BY seq DESC LIMIT 1"

# -- the newest chained entry by id (a late commit is chained after newer ids)
NEWEST = """
SELECT c.entry_id, a.at FROM action_log_chain c LEFT JOIN action_log a ON a.id = c.entry_id
WHERE c.hall_id = $1 ORDER BY c.entry_id DESC LIMIT 1
"""

# -- the `at` of the first chained entry after entry a (by id): a late commit is
# -- seconds older than that; a row slipped in by hand, back-dated, is not
NEXT_CHAINED_AT = """(SELECT n.at FROM action_log_chain c JOIN action_log n ON n.id = c.entry_id
      WHERE c.hall_id = a.hall_id AND c.entry_id > a.id ORDER BY c.entry_id LIMIT 1)"""

# -- late commits: below the newest chained id, not chained, from the last SETTLE_S before it
LATE = f"""
SELECT {COLUMNS} FROM action_log a
WHERE a.hall_id = $1 AND a.at >= $3::timestamptz - make_interval(secs => $4) AND a.id < $2
  AND NOT EXISTS (SELECT 1 FROM action_log_chain c WHERE c.entry_id = a.id)
  AND a.at >= {NEXT_CHAINED_AT} - make_interval(secs => $4)
ORDER BY a.id
"""

# -- the same, by id: the ids a sealer saw missing (a late commit can only fill one)
LATE_BY_ID = f"""
SELECT {COLUMNS} FROM action_log a
WHERE a.hall_id = $1 AND a.id = ANY($2::bigint[])
  AND NOT EXISTS (SELECT 1 FROM action_log_chain c WHERE c.entry_id = a.id)
  AND a.at >= {NEXT_CHAINED_AT} - make_interval(secs => $3)
ORDER BY a.id
"""

# -- the ids below the newest chained one, over its last SETTLE_S, that are not chained:
# -- rolled back, another hall's, or a transaction still open (a late commit to come)
MISSING = """
SELECT g.id FROM generate_series(
    coalesce((SELECT min(a.id) FROM action_log a
              WHERE a.hall_id = $1 AND a.at >= $3::timestamptz - make_interval(secs => $4)), $2),
    $2) AS g(id)
WHERE NOT EXISTS (SELECT 1 FROM action_log_chain c WHERE c.entry_id = g.id)
"""

# -- the new ones, after the newest chained id
NEW = f"""
SELECT {COLUMNS} FROM action_log a WHERE a.hall_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3
"""

INSERT_SEALS = """
INSERT INTO action_log_chain (hall_id, seq, entry_id, prev_hash, hash)
SELECT $1, s.seq, s.entry_id, s.prev_hash, s.hash
FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[]) AS s(seq, entry_id, prev_hash, hash)
"""

CHAIN = f"""
SELECT c.seq, c.entry_id, c.prev_hash, c.hash, {COLUMNS}
FROM action_log_chain c LEFT JOIN action_log a ON a.id = c.entry_id
WHERE c.hall_id = $1
ORDER BY c.seq
"""

# -- unchained entries that sit among chained ones and are not a late commit
SLIPPED_IN = f"""
SELECT a.id,
       (SELECT min(c.seq) FROM action_log_chain c WHERE c.hall_id = $1 AND c.entry_id > a.id) AS before_seq
FROM action_log a
WHERE a.hall_id = $1 AND a.id < $2
  AND NOT EXISTS (SELECT 1 FROM action_log_chain c WHERE c.entry_id = a.id)
  AND a.at < {NEXT_CHAINED_AT} - make_interval(secs => $3)
ORDER BY a.id
LIMIT 1
"""

# -- the tail not chained yet
PENDING = """
SELECT count(*) FROM action_log a
WHERE a.hall_id = $1 AND a.id > $2 AND NOT EXISTS (SELECT 1 FROM action_log_chain c WHERE c.entry_id = a.id)
"""


def content(row: Any) -> str:
    """An entry's content as hashed: every column, in a fixed order and form."""
    at: datetime = row["at"]
    fields = {
        "id": row["id"],
        "hall": row["hall_id"],
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_kind": row["actor_kind"],
        "actor_id": row["actor_id"],
        "actor_name": row["actor_name"],
        "window": row["window_number"],
        "ticket_id": row["ticket_id"],
        "ticket_number": row["ticket_number"],
        "action": row["action"],
        "reason": row["reason"],
        "rule_ticket_id": row["rule_ticket_id"],
        "rule_ticket_number": row["rule_ticket_number"],
        "details": row["details"],
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(prev_hash: str, seq: int, row: Any) -> str:
    return hashlib.sha256(f"{prev_hash}|{seq}|{content(row)}".encode()).hexdigest()


@dataclass
class Gaps:
    """What one sealer remembers between rounds: the ids it saw missing below what it
    chained (a late commit can only fill one of them), for GAP_S each, and how far it
    had chained. Another sealer chaining in between makes it start again (`known` off)."""

    ids: dict[int, float] = field(default_factory=dict)  # id → when to stop looking (monotonic)
    newest: int = 0
    known: bool = False

    def note(self, first: int, rows: list[Any], now: float) -> None:
        """The ids missing between `first` and the rows just chained (in id order)."""
        expected = first
        for row in rows:
            for missing in range(expected, min(row["id"], expected + MOST_GAPS)):
                self.ids[missing] = now + GAP_S
            expected = max(expected, row["id"] + 1)

    def forget(self, chained: list[int], now: float) -> None:
        for entry in chained:
            self.ids.pop(entry, None)
        for entry in [i for i, until in self.ids.items() if until < now]:
            del self.ids[entry]


async def seal(conn: Connection, hall_id: int, *, late: bool = True, gaps: Gaps | None = None) -> int:
    """Chain the hall's unchained entries, if no other sealer is at it; how many were chained.

    Late commits (below the newest chained id): with `gaps`, looked up by the ids this
    sealer saw missing, by key; otherwise, or when another sealer chained since, and
    when `late`, by scanning the last SETTLE_S of the log (which then seeds `gaps`)."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1, $2)", SEAL_LOCK, hall_id):
            return 0
        now = time.monotonic()
        head = await conn.fetchrow(HEAD, hall_id)
        seq, prev = (head["seq"], head["hash"]) if head else (0, GENESIS)
        frontier = await conn.fetchrow(NEWEST, hall_id)
        newest = frontier["entry_id"] if frontier else 0
        at = frontier["at"] if frontier else None
        found: list[Any] = []
        if gaps is not None and gaps.known and gaps.newest == newest:
            if gaps.ids:
                found = list(await conn.fetch(LATE_BY_ID, hall_id, list(gaps.ids), SETTLE_S))
        elif late:
            found = list(await conn.fetch(LATE, hall_id, newest, at, SETTLE_S)) if at else []
            if gaps is not None:  # start again from what is missing now (nothing, before any chain)
                missing = await conn.fetch(MISSING, hall_id, newest, at, SETTLE_S) if at else []
                gaps.ids = {r["id"]: now + GAP_S for r in missing}
                gaps.known = True
        elif gaps is not None:
            gaps.known = False  # another sealer chained since: look again when `late`
        new = list(await conn.fetch(NEW, hall_id, newest, SEAL_BATCH))
        rows = [*found, *new]
        seqs, ids, prevs, hashes = [], [], [], []
        for row in rows:
            seq += 1
            digest = entry_hash(prev, seq, row)
            seqs.append(seq)
            ids.append(row["id"])
            prevs.append(prev)
            hashes.append(digest)
            prev = digest
        if rows:
            await conn.execute(INSERT_SEALS, hall_id, seqs, ids, prevs, hashes)
        if gaps is not None and gaps.known:
            gaps.note(newest + 1, new, now)
            gaps.forget(ids, now)
            gaps.newest = max([newest, *ids])
        return len(rows)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int  # chained entries checked
    head: str | None  # the last good hash
    head_seq: int
    pending: int  # entries not chained yet
    first_bad: dict[str, Any] | None = None  # {"seq", "problem", "entry"}

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "seq": self.head_seq,
        }
        out["pending"] = self.pending
        if self.first_bad is not None:
            out["first_bad"] = self.first_bad
        return out


async def verify(conn: Connection, hall_id: int, anchor: tuple[int, str] | None = None) -> Verdict:
    """Recompute the hall's chain from seq 1; name the first entry that is changed, missing or
    inserted. `anchor`: a (seq, hash) printed earlier (a day's head); a chain that no longer has
    that hash at that seq was rewritten from there on."""
    prev, expected, checked, newest_entry = GENESIS, 1, 0, 0
    anchored = anchor is None
    problem: dict[str, Any] | None = None
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        async for row in conn.cursor(CHAIN, hall_id, prefetch=2000):
            seq = row["seq"]
            if seq != expected:
                problem = {"seq": expected, "problem": "missing", "entry": None}
            elif row["id"] is None:
                problem = {"seq": seq, "problem": "missing", "entry": row["entry_id"]}
            elif row["prev_hash"] != prev or entry_hash(prev, seq, row) != row["hash"]:
                problem = {"seq": seq, "problem": "changed", "entry": row["entry_id"]}
            if problem:
                break
            if anchor is not None and seq == anchor[0]:
                if row["hash"] != anchor[1].lower():
                    problem = {"seq": seq, "problem": "changed", "entry": row["entry_id"]}
                    break
                anchored = True
            prev, expected, checked = row["hash"], seq + 1, checked + 1
            newest_entry = max(newest_entry, row["entry_id"])
        if problem is None and not anchored:  # the chain ends before the anchor
            problem = {"seq": expected, "problem": "missing", "entry": None}
        if problem is None:
            slipped = await conn.fetchrow(SLIPPED_IN, hall_id, newest_entry, SETTLE_S)
            if slipped is not None:
                problem = {"seq": slipped["before_seq"], "problem": "inserted", "entry": slipped["id"]}
        pending = await conn.fetchval(PENDING, hall_id, newest_entry)
    return Verdict(
        ok=problem is None,
        entries=checked,
        head=prev if checked else None,
        head_seq=checked,
        pending=pending,
        first_bad=problem,
    )
