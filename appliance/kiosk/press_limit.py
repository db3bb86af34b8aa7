"""How many tickets one button gives in a while: one person pressing again and again must not empty the roll or
fill the queue with numbers nobody holds. Plain Python with an injectable clock."""
from __future__ import annotations

from collections import deque


class PressLimit:
    def __init__(self, tickets: int, seconds: float, clock):
        self.tickets, self.seconds, self.clock = tickets, seconds, clock   # tickets 0: no limit
        self._given: dict[int, deque[float]] = {}    # pin -> when its latest tickets were given

    def allows(self, pin: int) -> bool:
        if not self.tickets:
            return True
        given, now = self._given.setdefault(pin, deque()), self.clock()
        while given and now - given[0] >= self.seconds:
            given.popleft()
        return len(given) < self.tickets

    def given(self, pin: int) -> None:
        if self.tickets:
            self._given.setdefault(pin, deque()).append(self.clock())
