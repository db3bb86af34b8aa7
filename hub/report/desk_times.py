"""How long each desk and each advisor was open, paused and attending in a day: plain Python over the day's
ledger (its desks' status changes and its turns), for the Informe Turnero.

Open and paused run from one change of the desk's status (or of who sits there) to the next; the last one of the
day ends at `day_end` (the site's closing time, or now for today) or at its own start if that is later. Attending
runs from each call to the end of the attention, whatever its outcome; an attention still going on ends at
`day_end`. Attentions entered after a manual contingency count in the turns, not here: the desks' times then were
not recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from appliance.records.ledger import Ledger


@dataclass
class Times:
    open_s: float = 0.0
    paused_s: float = 0.0
    attending_s: float = 0.0

    def add(self, other: "Times") -> None:
        self.open_s += other.open_s
        self.paused_s += other.paused_s
        self.attending_s += other.attending_s


def day_times(ledger: Ledger, day_end: datetime) -> tuple[dict[int, Times], dict[str, Times]]:
    """The times of one day, per desk number and per advisor name."""
    desks: dict[int, Times] = {}
    advisors: dict[str, Times] = {}

    def both(desk: int, advisor: str) -> tuple[Times, Times]:
        return desks.setdefault(desk, Times()), advisors.setdefault(advisor, Times())

    for desk, changes in ledger.status_log.items():
        for (at, status, advisor), following in zip(changes, [*changes[1:], None]):
            start = datetime.fromisoformat(at)
            end = datetime.fromisoformat(following[0]) if following else max(start, day_end)
            seconds = (end - start).total_seconds()
            for times in both(desk, advisor):
                if status == "open":
                    times.open_s += seconds
                elif status == "paused":
                    times.paused_s += seconds
    for turn in ledger.turns.values():
        if turn.desk is None or turn.called_at is None or turn.manual:
            continue
        start = datetime.fromisoformat(turn.called_at)
        end = datetime.fromisoformat(turn.closed_at) if turn.closed_at else max(start, day_end)
        for times in both(turn.desk, turn.advisor):
            times.attending_s += (end - start).total_seconds()
    return desks, advisors
