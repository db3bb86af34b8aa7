"""How long each desk and each advisor was open, paused and attending in a day: plain Python over the day's
ledger (its desks' status changes and its turns), for the Informe Turnero.

Open and paused run from one change of the desk's status (or of who sits there) to the next; the last one of the
day ends at `day_end` (the site's closing time, or now for today) or at its own start if that is later, and an
open desk stays open while it still attends (an attention that runs past closing time). Attending is the part
of each attention, from the call to its end whatever its outcome, that falls in the desk's open time, counted for
whoever sat there then: never more than the time open. An attention still going on ends at `day_end`.
Attentions entered after a manual contingency count in the turns, not here: the desks' times then were not
recorded.
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
    attentions: dict[int, list[tuple[datetime, datetime]]] = {}
    for turn in ledger.turns.values():
        if turn.desk is None or turn.called_at is None or turn.manual:
            continue
        start = datetime.fromisoformat(turn.called_at)
        end = datetime.fromisoformat(turn.closed_at) if turn.closed_at else max(start, day_end)
        attentions.setdefault(turn.desk, []).append((start, end))
    desks: dict[int, Times] = {}
    advisors: dict[str, Times] = {}
    for desk, changes in ledger.status_log.items():
        spans = attentions.get(desk, [])
        for (at, status, advisor), following in zip(changes, [*changes[1:], None]):
            start = datetime.fromisoformat(at)
            attending_until = [until for _, until in spans] if status == "open" else []
            end = datetime.fromisoformat(following[0]) if following else max([start, day_end, *attending_until])
            seconds = (end - start).total_seconds()
            attending = sum(max(0.0, (min(until, end) - max(since, start)).total_seconds()) for since, until in spans)
            if status == "closed":   # no time of anybody's: a desk closed, or an advisor signed out
                continue
            for times in (desks.setdefault(desk, Times()), advisors.setdefault(advisor, Times())):
                if status == "open":
                    times.open_s += seconds
                    times.attending_s += attending
                else:
                    times.paused_s += seconds
    return desks, advisors
