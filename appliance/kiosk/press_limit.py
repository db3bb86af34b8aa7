"""How many tickets a kiosk gives in a while, per button and in all: one person pressing again and again must
not empty the roll or fill the queues with numbers nobody holds, and several buttons must not multiply the
limit. Plain Python with an injectable clock."""
from __future__ import annotations

from collections import deque

KIOSK = "kiosk"   # the key of the whole kiosk's tickets, beside each button's pin


class PressLimit:
    def __init__(self, per_button: int, per_kiosk: int, seconds: float, clock):
        self.limits = {"button": per_button, "kiosk": per_kiosk}     # 0: no limit
        self.seconds, self.clock = seconds, clock
        self._given: dict[int | str, deque[float]] = {}    # pin or KIOSK -> when its latest tickets were given

    def refusal(self, pin: int) -> str | None:
        """None when this button may give a ticket now; else which limit it reached: "kiosk" or "button"."""
        for which, key in (("kiosk", KIOSK), ("button", pin)):
            if self.limits[which] and len(self._recent(key)) >= self.limits[which]:
                return which
        return None

    def wait_s(self, which: str, pin: int) -> float:
        """How long until the limit `which` lets this button give a ticket again."""
        given = self._recent(KIOSK if which == "kiosk" else pin)
        return given[-self.limits[which]] + self.seconds - self.clock() if given else 0.0

    def given(self, pin: int) -> None:
        now = self.clock()
        for key in (KIOSK, pin):
            self._given.setdefault(key, deque()).append(now)

    def _recent(self, key: int | str) -> deque[float]:
        given, now = self._given.setdefault(key, deque()), self.clock()
        while given and now - given[0] >= self.seconds:
            given.popleft()
        return given
