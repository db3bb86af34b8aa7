"""Which turn a press on the five-button rating pad rates: plain Python, times from a monotonic clock.

When the advisor closes a turn with NEXT, the citizen who is leaving may still rate it for a grace period
(configurable): during that window the pad rates that turn only, so a second press of the citizen who leaves
never becomes the rating of the next one. The turn just called can be rated once its attention has lasted a
minimum time (configurable). The first press for a turn counts; later ones are ignored. A no-show is never rated.
"""
from __future__ import annotations

from collections import deque

LABELS = {1: "Muy insatisfecho", 2: "Insatisfecho", 3: "Neutral", 4: "Satisfecho", 5: "Muy satisfecho"}


class RatingPad:
    def __init__(self, grace_s: float, min_attention_s: float):
        self.grace_s = grace_s
        self.min_attention_s = min_attention_s
        self.current: str | None = None
        self._since = 0.0
        self._previous: tuple[str, float] | None = None
        self._rated: deque[str] = deque(maxlen=16)

    def serve(self, turn_id: str | None, now: float, *, previous_attended: bool) -> None:
        """The desk now serves turn_id (or nobody); the turn it served before was attended or not."""
        if turn_id == self.current:
            return
        attended = previous_attended and self.current is not None
        self._previous = (self.current, now + self.grace_s) if attended else None
        self.current, self._since = turn_id, now

    def target(self, now: float) -> str | None:
        """The turn a press would rate now, or None when the pad is not armed."""
        if self._previous and now < self._previous[1]:
            leaving = self._previous[0]
            return None if leaving in self._rated else leaving
        if self.current is not None and now - self._since >= self.min_attention_s and self.current not in self._rated:
            return self.current
        return None

    def press(self, now: float) -> str | None:
        """Registers a press; returns the turn it rates, or None if it counts for nothing."""
        turn = self.target(now)
        if turn is not None:
            self._rated.append(turn)
        return turn
