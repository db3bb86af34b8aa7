"""Is the site open? Opening hours from the site file, the country's public holidays and the site's own closed
days; the kiosk asks whether it may issue a ticket, the display whether to show the closed screen.

Plain Python: the caller passes the (checked) local time, so tests run any day of the year.
"""
from __future__ import annotations

from datetime import datetime

import holidays

from appliance.site import Hours


class OpeningHours:
    def __init__(self, hours: Hours, country: str | None):
        self.hours = hours
        self._closed = dict(hours.closed)
        # Spanish names, so that a kiosk can say which holiday it is. (An empty HolidayBase is falsy until a
        # year is loaded: compare with None, never test its truth.)
        self._holidays = holidays.country_holidays(country, language="es") if country else None

    def holiday(self, moment: datetime) -> str | None:
        """The name of today's public holiday, or None."""
        return None if self._holidays is None else self._holidays.get(moment.date())

    def closed_day(self, moment: datetime) -> str | None:
        """Why the site is closed all day today, in the site file's words ([hours] closed), or None."""
        day = moment.date()
        return self._closed.get(day.isoformat()) or self._closed.get(f"{day.month:02d}-{day.day:02d}")

    def is_open(self, moment: datetime) -> bool:
        """Within a period of a working day: advisors attend."""
        if moment.weekday() not in self.hours.days or self.holiday(moment) or self.closed_day(moment):
            return False
        now = moment.time()
        return any(start <= now < end for start, end in self.hours.periods)

    def issues_tickets(self, moment: datetime) -> bool:
        """Open, and not past the day's last ticket ([hours] last_ticket): who takes one is served before closing."""
        last = self.hours.last_ticket
        return self.is_open(moment) and (last is None or moment.time() <= last)
