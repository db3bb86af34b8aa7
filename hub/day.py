"""The hub's service day: it never goes back (a Pi has no clock battery, and fake-hwclock restores at boot the time
it last saved), and a device's time that cannot be true is not believed."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, tzinfo

log = logging.getLogger(__name__)
# How old a ticket may be when it arrives: a kiosk's outbox after a long outage (a holiday weekend, a week with
# the hub's Pi away for repair). Older ones are refused (named in the log): they cannot be a day's record now.
REPLAY_DAYS = 7
CLOCK_SLACK = timedelta(minutes=5)   # a kiosk's clock a little ahead of the hub's is not a broken one


def recorded_day(clock_day: str, days: list[str]) -> str:
    """The day to record now: the clock's, or the newest day already recorded if the clock is behind it."""
    return max([clock_day, *days])


def oldest_replayable(today: str) -> str:
    return (date.fromisoformat(today) - timedelta(days=REPLAY_DAYS)).isoformat()


def plausible(at: datetime, day: str, now: datetime, zone: tzinfo) -> bool:
    """Whether a device's time for an event of `day` can be true: not before that day began, not after now."""
    start = datetime.combine(date.fromisoformat(day), time(), zone) - CLOCK_SLACK
    return start <= at <= now + CLOCK_SLACK


class ServiceDay:
    """The day the hub records: the clock's, except that a clock set back is not followed. The hub stays on its
    day until the clock catches up, its waiting turns still waiting."""

    def __init__(self, today: str):
        self.today = today
        self._behind = False

    def reaches(self, clock_day: str) -> bool:
        """Whether the clock has reached a new day (the hub rolls over to it); a clock behind is said once."""
        if clock_day < self.today:
            if not self._behind:
                log.error("the clock says %s but the service day is already %s: the clock was set back (no clock "
                          "battery, or fake-hwclock's last saved time); staying on %s until it catches up. Check "
                          "the time: chronyc tracking, timedatectl", clock_day, self.today, self.today)
            self._behind = True
            return False
        self._behind = False
        return clock_day > self.today
