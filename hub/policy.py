"""Which waiting turn a desk gets next: the queue policy, plain Python, explicit about starvation.

- A desk only gets the services it attends.
- Aging first: a turn that has waited `max_wait_min` minutes or more goes before everyone else (oldest first),
  so neither kind of turn can be buried indefinitely.
- Then "strict": preferential turns (older adults, pregnant women, people with disabilities, children) always
  before normal ones; or "ratio": after `ratio` preferential calls in a row at a desk, a waiting normal turn
  goes next, so normal turns are not starved on a busy preferential day.
- Within each kind, first come, first served by the time printed on the ticket.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from appliance.site import QueuePolicy
from appliance.records.ledger import Turn


def choose_next(waiting: list[Turn], services: tuple[str, ...], *, policy: QueuePolicy = QueuePolicy(),
                preferential_streak: int = 0, now: datetime | None = None) -> Turn | None:
    candidates = sorted((t for t in waiting if t.service in services), key=_issued)
    if not candidates:
        return None
    if policy.max_wait_min and now is not None:
        limit = now - timedelta(minutes=policy.max_wait_min)
        overdue = [t for t in candidates if _issued(t) <= limit]
        if overdue:
            return overdue[0]
    preferential = [t for t in candidates if t.preferential]
    normal = [t for t in candidates if not t.preferential]
    if policy.kind == "ratio" and preferential_streak >= policy.ratio and normal:
        return normal[0]
    return (preferential or normal)[0]


def _issued(turn: Turn) -> datetime:
    return datetime.fromisoformat(turn.issued_at)
