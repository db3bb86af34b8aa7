"""Is the site open? Opening hours from the site file, the country's public holidays and the site's own closed
days; the kiosk asks whether it may issue a ticket, the display whether to show the closed screen, and both say
why not and when the site opens again in the same words.

Plain Python: the caller passes the (checked) local time, so tests run any day of the year.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import holidays

from appliance.core.spanish import clock, long_date
from appliance.site import Hours

LOOK_AHEAD_DAYS = 31      # "when do we open again" looks this far; a site closed longer says only its hours


class OpeningHours:
    def __init__(self, hours: Hours, country: str | None):
        self.hours = hours
        self._closed = dict(hours.closed)
        # Spanish names, so that a kiosk can say which holiday it is. (An empty HolidayBase is falsy until a
        # year is loaded: compare with None, never test its truth.)
        self._holidays = holidays.country_holidays(country, language="es") if country else None

    def holiday(self, moment: datetime) -> str | None:
        """The name of today's public holiday, or None. A holiday moved to a Monday is named as the day it
        celebrates: "(observado)" says nothing to a citizen."""
        name = None if self._holidays is None else self._holidays.get(moment.date())
        return name.replace(" (observado)", "") if name else None

    def closed_day(self, moment: datetime) -> str | None:
        """Why the site is closed all day today, in the site file's words ([hours] closed), or None."""
        day = moment.date()
        return self._closed.get(day.isoformat()) or self._closed.get(f"{day.month:02d}-{day.day:02d}")

    def is_open(self, moment: datetime) -> bool:
        """Within a period of a working day: advisors attend."""
        return self._working_day(moment) and any(start <= moment.time() < end for start, end in self.hours.periods)

    def issues_tickets(self, moment: datetime) -> bool:
        """Open, and not past the day's last ticket ([hours] last_ticket): who takes one is served before closing."""
        last = self.hours.last_ticket
        return self.is_open(moment) and (last is None or moment.time() <= last)

    def reason(self, moment: datetime) -> str:
        """Why no ticket is given now, as the slip and the screen say it."""
        holiday, closed_day = self.holiday(moment), self.closed_day(moment)
        if holiday:
            return f"Hoy es festivo, {holiday}: no estamos atendiendo."
        if closed_day:
            return f"Hoy no estamos atendiendo: {closed_day}."
        if self.is_open(moment):
            return "Por hoy ya no se entregan más turnos."
        return "En este momento no estamos atendiendo."

    def reopening(self, moment: datetime) -> str | None:
        """'Volvemos a atender hoy a las 14:00.' or '… el miércoles 9 de diciembre de 2026 a las 8:00.'; None when
        the site does not open within LOOK_AHEAD_DAYS."""
        for ahead in range(LOOK_AHEAD_DAYS + 1):
            day = moment + timedelta(days=ahead)
            if not self._working_day(day):
                continue
            for start, _end in self.hours.periods:
                opens = day.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
                if opens > moment and not (ahead == 0 and self._past_last_ticket(moment)):
                    when = "hoy" if ahead == 0 else f"el {long_date(opens.date())}"
                    return f"Volvemos a atender {when} a las {clock(opens)}."
        return None

    def _working_day(self, moment: datetime) -> bool:
        return moment.weekday() in self.hours.days and not self.holiday(moment) and not self.closed_day(moment)

    def _past_last_ticket(self, moment: datetime) -> bool:
        return self.hours.last_ticket is not None and moment.time() > self.hours.last_ticket
