"""One press, one ticket: contact bounce filtered in software, with an injectable clock.

A mechanical button does not close cleanly: for a few milliseconds it makes and breaks contact, and each of
those edges looks like a press. gpiozero's mock pins do not simulate this, so the filter is plain Python and
tested with its own clock. A press is real when the button had been still (no edge at all) for at least
`quiet_s` before it; every edge, press or release, restarts that quiet time.
"""
from __future__ import annotations

import time


class Debouncer:
    def __init__(self, quiet_s: float = 0.05, clock=time.monotonic):
        self.quiet_s = quiet_s
        self.clock = clock
        self._last_edge: dict[object, float] = {}

    def edge(self, button, pressed: bool) -> bool:
        """Records an edge of a button; returns True when it is a real press."""
        now = self.clock()
        previous = self._last_edge.get(button)
        self._last_edge[button] = now
        return pressed and (previous is None or now - previous >= self.quiet_s)
