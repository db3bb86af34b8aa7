"""Is the site open? Opening hours from the site configuration and the country's public holidays.

Plain Python: the caller passes the (checked) local time, so tests run any day of the year.
"""
from __future__ import annotations

from datetime import datetime

import holidays

from appliance.site import Hours


class OpeningHours:
    def __init__(self, hours: Hours, country: str | None):
        self.hours = hours
        # Spanish names, so that a kiosk can say which holiday it is. (An empty HolidayBase is falsy until a
        # year is loaded: compare with None, never test its truth.)
        self._holidays = holidays.country_holidays(country, language="es") if country else None

    def holiday(self, moment: datetime) -> str | None:
        """The name of today's public holiday, or None."""
        return None if self._holidays is None else self._holidays.get(moment.date())

    def is_open(self, moment: datetime) -> bool:
        if moment.weekday() not in self.hours.days or self.holiday(moment):
            return False
        now = moment.time()
        return any(start <= now < end for start, end in self.hours.periods)
