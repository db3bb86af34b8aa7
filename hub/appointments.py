"""The appointments the hub decides on: today's (in today's ledger) and those of the days around it, each folded
from its own journal, for capacity, codes and check-ins; the citizens' names and phones kept apart
(appliance/records/contacts.py). The decisions and their Spanish refusals are hub/service.py's."""
from __future__ import annotations

import base64
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

from appliance.core.slots import Slots
from appliance.records.bookings import MOVED, Booking, Bookings, bookings_of
from appliance.records.contacts import Contacts
from appliance.records.journal import DayStore
from appliance.site import SiteConfig
from hub.day import REPLAY_DAYS


def new_code() -> str:
    """16 characters of base32: 80 random bits, as hard to guess as a ticket's QR."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


class Calendar:
    def __init__(self, config: SiteConfig, store: DayStore, state_dir: Path):
        self.settings = config.appointments
        self.slots = Slots(config) if self.settings else None
        self.store = store
        self.contacts = Contacts(Path(state_dir) / "contacts")
        self.today = ""
        self.days: dict[str, Bookings] = {}

    def load(self, today: str, todays: Bookings) -> None:
        """The days from a week back (a code scanned late is told when its day was) to the last bookable one;
        today's are the ledger's own. The names and phones past their retention period are deleted here."""
        self.today, self.days = today, {today: todays}
        if self.settings is None:
            return
        first = date.fromisoformat(today) - timedelta(days=REPLAY_DAYS)
        for day in self.store.days_between(first, date.fromisoformat(today) + timedelta(days=self.settings.days_ahead)):
            if day != today:
                self.days[day] = bookings_of(self.store.records(day))
        self.contacts.forget_before((date.fromisoformat(today) - timedelta(days=self.settings.retention_days))
                                    .isoformat())

    def apply(self, record: dict) -> None:
        """An appointment record of another day than today (today's go through the ledger)."""
        if record["day"] != self.today:
            self.days.setdefault(record["day"], Bookings()).apply(record)

    def find(self, appointment: str) -> Booking | None:
        """The appointment of that code: where it is now, when it was moved from one day to another."""
        found = [b for bookings in self.days.values() if (b := bookings.by_code.get(appointment))]
        return next((b for b in found if b.status != MOVED), found[0] if found else None)

    def taken(self, service: str, slot: datetime) -> int:
        bookings = self.days.get(slot.date().isoformat())
        return 0 if bookings is None else bookings.taken(service, slot.isoformat())

    def capacity(self, service: str) -> int:
        return self.settings.capacity.get(service, 0)

    def first_free(self, service: str, now: datetime) -> datetime | None:
        """The first slot with room from the next day the site opens: "cita prioritaria mañana"."""
        day = now.date()
        while (day := self.slots.next_open_day(day)) is not None and day <= now.date() + timedelta(
                days=self.settings.days_ahead):
            for slot in self.slots.of_day(day):
                if self.taken(service, slot) < self.capacity(service):
                    return slot
        return None

    def new_code(self) -> str:
        while (code := new_code()) and self.find(code) is not None:   # 80 bits: never in practice
            pass
        return code
