"""The pace of each service on the same weekday and hour in the last weeks, from the journal: what a ticket's
estimate rests on before today has measured attentions of its own (the first tickets of a day, a quiet service).

Plain Python over the days' folds: the attentions closed as attended, each counted in the hour of its call, as
today's pace counts them (ledger.attention). Attentions entered after a manual contingency are left out: their
times were written by hand.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from appliance.records.journal import DayStore
from hub.export import day_ledgers

WEEKS = 4           # how many past same weekdays are read


def past_attentions(store: DayStore, today: date, zone: ZoneInfo) -> dict[tuple[str, int], tuple[int, float]]:
    """(service, hour of the call) -> (attentions, their seconds), over the last WEEKS days of today's weekday."""
    found: dict[tuple[str, int], tuple[int, float]] = {}
    for weeks in range(1, WEEKS + 1):
        day = today - timedelta(weeks=weeks)
        for _day, ledger in day_ledgers(store, day, day):
            for turn in ledger.turns.values():
                if turn.outcome != "attended" or turn.manual or not (turn.called_at and turn.closed_at):
                    continue
                called = datetime.fromisoformat(turn.called_at)
                seconds = (datetime.fromisoformat(turn.closed_at) - called).total_seconds()
                key = (turn.service, called.astimezone(zone).hour)
                count, total = found.get(key, (0, 0.0))
                found[key] = (count + 1, total + seconds)
    return found
