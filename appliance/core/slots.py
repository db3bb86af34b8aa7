"""An appointment's slots: the site's opening periods cut in [appointments] slot_minutes, on the days it opens.
The hub books by them and the coordinators' page offers them; both say why a time is not one in the same words.

Plain Python: the caller passes the day and the time, so tests run any day of the year.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from appliance.core.hours import OpeningHours
from appliance.core.spanish import clock, long_date
from appliance.site import SiteConfig


class Slots:
    def __init__(self, config: SiteConfig, hours: OpeningHours | None = None):
        self.settings = config.appointments
        self.zone = config.timezone
        self.hours = hours or OpeningHours(config.hours, config.holidays)
        self.length = timedelta(minutes=self.settings.slot_min)

    def of_day(self, day: date) -> list[datetime]:
        """The starts of the day's slots, each whole within an opening period; none on a day the site is closed."""
        noon = datetime.combine(day, datetime.min.time(), self.zone).replace(hour=12)
        if self.closed_reason(noon) is not None:
            return []
        starts = []
        for opens, closes in self.hours.hours.periods:
            start = datetime.combine(day, opens, self.zone)
            while start + self.length <= datetime.combine(day, closes, self.zone):
                starts.append(start)
                start += self.length
        return starts

    def closed_reason(self, moment: datetime) -> str | None:
        """Why the site attends nobody on that day, or None."""
        holiday, closed_day = self.hours.holiday(moment), self.hours.closed_day(moment)
        if holiday:
            return f"el {long_date(moment.date())} es festivo ({holiday})"
        if closed_day:
            return f"el {long_date(moment.date())} no se atiende ({closed_day})"
        if moment.weekday() not in self.hours.hours.days:
            return f"el {long_date(moment.date())} no se atiende"
        return None

    def refusal(self, slot: datetime, now: datetime) -> str | None:
        """Why an appointment cannot be booked at `slot`, as a sentence the page shows; None: it can."""
        slot = slot.astimezone(self.zone)
        if slot < now:
            return f"La hora {clock(slot)} del {long_date(slot.date())} ya pasó."
        if slot.date() > now.date() + timedelta(days=self.settings.days_ahead):
            return (f"Las citas se dan hasta {self.settings.days_ahead} días adelante; el "
                    f"{long_date(slot.date())} está más lejos.")
        closed = self.closed_reason(slot)
        if closed is not None:
            return f"No se dan citas ese día: {closed}."
        if slot not in self.of_day(slot.date()):
            hours = self.hours.hours.text()
            return (f"{clock(slot)} no es una hora de cita: las citas empiezan cada {self.settings.slot_min} "
                    f"minutos, {hours[0].lower()}{hours[1:]}.")
        return None

    def next_open_day(self, after: date) -> date | None:
        """The first day after `after` with slots, within the days an appointment may be booked ahead."""
        for ahead in range(1, self.settings.days_ahead + 1):
            day = after + timedelta(days=ahead)
            if self.of_day(day):
                return day
        return None
