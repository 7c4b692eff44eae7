"""What the provincial 好差评 platform is sent (docs/haochaping.md, "Forwarding"):
the rating's own fields and, under the names real provincial interfaces use,
the case number (projNo), the matter (serviceCode: the hall file's
`matter_code`, else the service's code), department and region, the staff
member, the channel (evaluateChannel) and the times. Built when the item is
sent, so a case number added after the rating travels with it.

The rater's identity is not sent: clearhall keeps ID numbers only as keyed
hashes. A bad rating's call-back `contact`, the only applicant data the rater
gave for this rating, is sent with it (and is erased here later).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Final

from clearhall.server.domain.ratings import SCORE_WORDS
from clearhall.server.domain.tickets import local_iso
from clearhall.server.store.db import Connection

# The provincial channel codes: PJQ = 评价器 (the pad); EWM = 二维码 (the phone,
# by the ticket's QR code); XTMR = 系统默认 (a default rating).
CHANNEL_CODES: Final = {"pad": "PJQ", "phone": "EWM", "default": "XTMR"}


@dataclass(frozen=True)
class Target:
    """Where and as whom to forward: the hall file's [ratings.forward]."""

    url: str
    token: str | None = None  # read from the environment variable the hall file names; never logged
    region_code: str | None = None
    dept_code: str | None = None
    dept_name: str | None = None


TARGET = """
SELECT forward_url, forward_token_env, region_code, dept_code, dept_name FROM halls WHERE id = $1
"""


async def target_of(conn: Connection, hall_id: int) -> Target | None:
    """The hall's platform, or None when forwarding is off (no url)."""
    row = await conn.fetchrow(TARGET, hall_id)
    if row is None or not row["forward_url"]:
        return None
    token = os.environ.get(row["forward_token_env"]) if row["forward_token_env"] else None
    return Target(row["forward_url"], token or None, row["region_code"], row["dept_code"], row["dept_name"])


RATING = """
SELECT r.id, r.score, r.dimensions, r.reasons, r.comment, r.channel, r.created_at,
       t.number, t.status, t.finished_at, t.case_number,
       s.code AS service_code, s.name AS service_name, s.matter_code,
       w.number AS window, st.username AS staff_login, st.name AS staff_name, h.code AS hall,
       f.contact
FROM ratings r
JOIN tickets t ON t.id = r.ticket_id
JOIN services s ON s.id = r.service_id
JOIN halls h ON h.id = r.hall_id
LEFT JOIN windows w ON w.id = r.window_id
LEFT JOIN staff st ON st.id = r.staff_id
LEFT JOIN follow_ups f ON f.rating_id = r.id
WHERE r.id = $1
"""


async def rating_payload(
    conn: Connection, rating_id: int, target: Target, timezone: str
) -> dict[str, Any] | None:
    """The JSON body for rating `rating_id`, or None when there is no such rating."""
    r = await conn.fetchrow(RATING, rating_id)
    if r is None:
        return None
    return {
        "kind": "rating",
        "id": str(r["id"]),
        "hall": r["hall"],
        "ticket": r["number"],
        "window": r["window"],
        "score": r["score"],
        "level": SCORE_WORDS[r["score"]],
        "dimensions": dict(r["dimensions"] or {}),
        "reasons": list(r["reasons"] or []),
        "comment": r["comment"],
        "contact": r["contact"],
        "channel": r["channel"],
        "case_number": r["case_number"],
        "rated_at": local_iso(r["created_at"], timezone),
        # the provincial interface's own names (docs/haochaping.md)
        "projNo": r["case_number"],
        "serviceCode": r["matter_code"] or r["service_code"],
        "serviceName": r["service_name"],
        "deptCode": target.dept_code,
        "deptName": target.dept_name,
        "regionCode": target.region_code,
        "handleState": r["status"],
        "transactionTime": local_iso(r["finished_at"], timezone),
        "evaluatedPersonInfo": {"login": r["staff_login"], "name": r["staff_name"]},
        "evaluateChannel": CHANNEL_CODES.get(r["channel"], r["channel"]),
        "evaluateTime": local_iso(r["created_at"], timezone),
    }


FOLLOW_UP = """
SELECT f.id, f.kind, f.rating_id, f.complaint_id, f.created_at, f.due_at, f.closed_at, f.satisfaction,
       h.code AS hall, t.case_number
FROM follow_ups f
JOIN halls h ON h.id = f.hall_id
LEFT JOIN ratings r ON r.id = f.rating_id
LEFT JOIN tickets t ON t.id = r.ticket_id
WHERE f.id = $1
"""

STEPS = "SELECT kind, text, upheld, at FROM follow_up_steps WHERE follow_up_id = $1 ORDER BY id"


async def follow_up_payload(
    conn: Connection, case_id: int, target: Target, timezone: str
) -> dict[str, Any] | None:
    """A closed follow-up (差评整改): the case, its steps and the citizen's verdict, if given."""
    f = await conn.fetchrow(FOLLOW_UP, case_id)
    if f is None:
        return None
    steps = await conn.fetch(STEPS, case_id)
    return {
        "kind": "follow_up",
        "id": f"follow-up-{f['id']}",
        "hall": f["hall"],
        "case": f["id"],
        "about": f["kind"],
        "rating": str(f["rating_id"]) if f["rating_id"] else None,
        "complaint": f["complaint_id"],
        "projNo": f["case_number"],
        "regionCode": target.region_code,
        "deptCode": target.dept_code,
        "deptName": target.dept_name,
        "opened_at": local_iso(f["created_at"], timezone),
        "due_at": local_iso(f["due_at"], timezone),
        "closed_at": local_iso(f["closed_at"], timezone),
        "steps": [
            {"kind": s["kind"], "text": s["text"], "upheld": s["upheld"], "at": local_iso(s["at"], timezone)}
            for s in steps
        ],
        "satisfaction": f["satisfaction"],
    }
