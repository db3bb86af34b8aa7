"""Which waiting turn a desk gets next: the queue policy, plain Python.

Preferential turns (older adults, pregnant women, people with disabilities, children) go first; within each
kind, first come, first served by the time printed on the ticket. A desk only gets the services it attends.
"""
from __future__ import annotations

from datetime import datetime

from .ledger import Turn


def choose_next(waiting: list[Turn], services: tuple[str, ...]) -> Turn | None:
    candidates = [turn for turn in waiting if turn.service in services]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (not t.preferential, datetime.fromisoformat(t.issued_at)))
