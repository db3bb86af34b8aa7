"""The Informe's appointments: how many were booked, arrived (on time or late), did not come, and how long those
who came on time waited past their time before they were called. Each day's from its own ledger, whose journal
holds all that happened to its appointments (appliance/records/bookings.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from appliance.records.bookings import BOOKED, CHECKED_IN, MISSED
from appliance.records.ledger import Ledger
from appliance.report.html import integer, minutes
from appliance.report.tally import mean


@dataclass
class AppointmentTally:
    booked: int = 0
    arrived: int = 0
    late: int = 0            # arrived past the grace: served as walk-ins
    no_show: int = 0
    waits: list[float] = field(default_factory=list)   # seconds from the appointment's time to its call

    @property
    def on_time(self) -> int:
        return self.arrived - self.late


def tally_day(ledger: Ledger, made_at: datetime, grace_min: int, tallies: dict[str, AppointmentTally]) -> None:
    """Adds the day's appointments to their service's tally and to the total's (key "")."""
    for booking in ledger.bookings.live():
        slot = datetime.fromisoformat(booking.slot)
        gone = booking.status == MISSED or (booking.status == BOOKED and slot + timedelta(minutes=grace_min) < made_at)
        turn = ledger.turns.get(booking.turn_id or "")
        for key in (booking.service, ""):
            tally = tallies.setdefault(key, AppointmentTally())
            tally.booked += 1
            tally.arrived += booking.status == CHECKED_IN
            tally.late += booking.late
            tally.no_show += gone
            if turn is not None and turn.called_at and not booking.late:
                tally.waits.append((datetime.fromisoformat(turn.called_at) - slot).total_seconds())


COLUMNS = (
    ("Agendadas", lambda t: integer(t.booked)),
    ("Llegaron", lambda t: integer(t.arrived)),
    ("A tiempo", lambda t: integer(t.on_time)),
    ("Tarde (sin prioridad)", lambda t: integer(t.late)),
    ("No llegaron", lambda t: integer(t.no_show)),
    ("Espera desde su hora", lambda t: minutes(max(0.0, mean(t.waits))) if t.waits else "—"),
)
