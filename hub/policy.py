"""Which waiting turn a desk gets next: the queue policy, plain Python, explicit about starvation.

- A desk only gets the services it attends.
- Appointments first: a checked-in appointment whose time has come goes before everyone else, the earliest
  appointment first (the citizen was promised that time). Before its time it waits, and is called only when no
  other turn waits for the desk. One checked in past the site's grace is a walk-in turn (no appointment time).
- Then aging: a turn that has waited `max_wait_min` minutes or more goes before everyone else (oldest first),
  so neither kind of turn can be buried indefinitely.
- Then "strict": preferential turns (older adults, pregnant women, people with disabilities, children) always
  before normal ones; or "ratio": after `ratio` preferential calls in a row at a desk, a waiting normal turn
  goes next, so normal turns are not starved on a busy preferential day.
- Within each kind, first come, first served by the time printed on the ticket.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from operator import attrgetter

from appliance.records.ledger import Turn
from appliance.site import QueuePolicy

_ISSUED = attrgetter("issued_s")
_PROMISED = attrgetter("appointment_s", "issued_s")


def choose_next(waiting: list[Turn], services: tuple[str, ...], *, policy: QueuePolicy = QueuePolicy(),
                preferential_streak: int = 0, now: datetime | None = None) -> Turn | None:
    # The oldest of each kind, not a sorted queue (min keeps the first of equals, as a stable sort would): a NEXT
    # with two thousand citizens waiting costs a few passes over them, each ticket's time read once (Turn.issued_s).
    candidates = [t for t in waiting if t.service in services]
    if not candidates:
        return None
    moment = float("inf") if now is None else now.timestamp()
    appointments = [t for t in candidates if t.appointment_s is not None]
    due = [t for t in appointments if t.appointment_s <= moment]
    if due:
        return min(due, key=_PROMISED)
    if len(appointments) == len(candidates):    # only appointments not yet due: the earliest, rather than nobody
        return min(appointments, key=_PROMISED)
    candidates = [t for t in candidates if t.appointment_s is None]
    if policy.max_wait_min and now is not None:
        oldest = min(candidates, key=_ISSUED)
        if oldest.issued_s <= (now - timedelta(minutes=policy.max_wait_min)).timestamp():
            return oldest
    preferential = [t for t in candidates if t.preferential]
    normal = [t for t in candidates if not t.preferential]
    if policy.kind == "ratio" and preferential_streak >= policy.ratio and normal:
        return min(normal, key=_ISSUED)
    return min(preferential or normal, key=_ISSUED)


def queue_order(waiting: list[Turn], *, policy: QueuePolicy = QueuePolicy(), now: datetime | None = None) -> list[Turn]:
    """The turns of one service in the order its desks would call them, by the rules above, from a desk with no
    preferential streak: what each citizen's "Mi turno" page counts as the people ahead. The first is the one
    choose_next() would give such a desk. Appointments not yet due come last: they are called before their time only
    when nobody else waits."""
    moment = float("inf") if now is None else now.timestamp()
    promised = sorted((t for t in waiting if t.appointment_s is not None), key=_PROMISED)
    due = [t for t in promised if t.appointment_s <= moment]
    turns = sorted((t for t in waiting if t.appointment_s is None), key=_ISSUED)
    limit = (now - timedelta(minutes=policy.max_wait_min)).timestamp() if policy.max_wait_min and now else None
    aged = [t for t in turns if limit is not None and t.issued_s <= limit]
    rest = turns[len(aged):]
    preferential = [t for t in rest if t.preferential]
    normal = [t for t in rest if not t.preferential]
    ordered, streak = aged, 0
    for turn in aged:   # an aged preferential call counts in the desk's streak as any other
        streak = streak + 1 if turn.preferential else 0
    taken_preferential = taken_normal = 0
    while taken_preferential < len(preferential) or taken_normal < len(normal):
        ratio_says_normal = policy.kind == "ratio" and streak >= policy.ratio
        if taken_normal < len(normal) and (taken_preferential == len(preferential) or ratio_says_normal):
            ordered.append(normal[taken_normal])
            taken_normal, streak = taken_normal + 1, 0
        else:
            ordered.append(preferential[taken_preferential])
            taken_preferential, streak = taken_preferential + 1, streak + 1
    return [*due, *ordered, *promised[len(due):]]
