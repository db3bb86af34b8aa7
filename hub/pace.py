"""What a kiosk's buttons can give: at most `press_limit` tickets in `press_window_seconds` each (the kiosk
enforces it, appliance/kiosk/press_limit.py). The hub checks it again, by each ticket's own time, so that a stolen
kiosk credential cannot fill the queue, the estimates, the report and the CSV with turns nobody holds.

A ticket's own time, not its arrival: an outbox replayed after an outage arrives all at once but carries the
times it was printed at, and passes. The margin: a kiosk that restarts forgets its count and may give a window's
tickets again, and a clock stepped by chrony bunches a few together; MARGIN times the limit in the two windows
around a ticket covers both. Plain Python, no I/O.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from datetime import datetime

MARGIN = 4      # a real button gives at most 2 x press_limit in two windows, 3 x across a restart


class Pace:
    def __init__(self, press_limit: int, window_s: float):
        self.allowed = MARGIN * press_limit          # 0: the site sets no limit, nor does the hub
        self.window_s = window_s
        self._given: dict[tuple, list[float]] = {}   # (kiosk, button) -> its tickets' times, in order

    def admits(self, kiosk: str, button: tuple, at: datetime) -> bool:
        """Whether a ticket of this button at `at` is one a real kiosk could have given; if so it is counted."""
        if not self.allowed:
            return True
        given, moment = self._given.setdefault((kiosk, button), []), at.timestamp()
        near = bisect_left(given, moment + self.window_s) - bisect_right(given, moment - self.window_s)
        if near >= self.allowed:
            return False
        insort(given, moment)
        return True

    def forget(self) -> None:
        """A new day: yesterday's tickets limit nothing."""
        self._given.clear()
