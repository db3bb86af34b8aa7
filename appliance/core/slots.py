"""An appointment's slots: the site's opening periods cut in [appointments] slot_minutes, on the days it opens.
The hub books by them and the coordinators' page offers them; both say why a time is not one in the same words.

Plain Python: the caller passes the day and the time, so tests run any day of the year.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from appliance.core.hours import OpeningHours
from appliance.core.spanish import clock, long_date, plural
from appliance.site import SiteConfig


class Slots:
    def __init__(self, config: SiteConfig, hours: OpeningHours | None = None):
        self.settings = config.appointments
        self.zone = config.timezone
        self.hours = hours or OpeningHours(config.hours, config.holidays)
        self.length = timedelta(minutes=self.settings.slot_min)

    def times(self) -> list[time]:
        """The starts of a working day's slots, each whole within an opening period."""
        starts = []
        for opens, closes in self.hours.hours.periods:
            start = datetime.combine(date.min, opens)
            while start + self.length <= datetime.combine(date.min, closes):
                starts.append(start.time())
                start += self.length
        return starts

    def of_day(self, day: date) -> list[datetime]:
        """The day's slots; none on a day the site is closed."""
        if self.closed_reason(datetime.combine(day, time(12), self.zone)) is not None:
            return []
        return [datetime.combine(day, start, self.zone) for start in self.times()]

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


def slip_advice(grace_min: int) -> tuple[str, str]:
    """What an appointment's slip says about arriving, on paper and on the printable page alike."""
    return ("Al llegar, acerque este código al lector del dispensador: recibirá un turno que se llama antes que los "
            "demás a la hora de su cita.",
            f"Si llega más de {grace_min} {plural(grace_min, 'minuto', 'minutos')} tarde, se le atenderá en orden de "
            "llegada, como a quien llega sin cita.")
