"""What the Citas page shows: the appointments from today to the last bookable day, read from each day's journal
(the hub decides and records them), with the names and phones given with consent (staff only); the times a
booking may take; and an appointment's slip as a printable page, its QR code drawn as SVG."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import qrcode
import qrcode.image.svg

from appliance.core.slots import Slots, slip_advice
from appliance.core.spanish import clock, long_date
from appliance.records.bookings import BOOKED, CHECKED_IN, MISSED, STATUS_NAMES, Booking, bookings_of
from appliance.records.contacts import Contacts
from appliance.records.journal import DayStore
from appliance.site import SiteConfig
from hub.web.orders import appointment_ref


def agenda(store: DayStore, contacts: Contacts, config: SiteConfig, today: date) -> list[dict]:
    """Each appointment still of its day, by day and time, as the page's table shows it."""
    rows = []
    for day in store.days_between(today, today + timedelta(days=config.appointments.days_ahead)):
        people = contacts.of_day(day)
        for booking in bookings_of(store.records(day)).live():
            rows.append(_row(booking, people.get(booking.appointment, {}), config, day == today.isoformat()))
    return rows


def _row(booking: Booking, person: dict, config: SiteConfig, today: bool) -> dict:
    slot = datetime.fromisoformat(booking.slot).astimezone(config.timezone)
    status = STATUS_NAMES[booking.status]
    if booking.status == CHECKED_IN:
        status = f"{status}{' tarde' if booking.late else ''} · turno {booking.number}"
    return {"code": booking.appointment, "ref": appointment_ref(booking.appointment),
            "day": long_date(slot.date()), "date": slot.date().isoformat(), "time": clock(slot),
            "service": config.services[booking.service].name, "status": status, "booked": booking.status == BOOKED,
            "arrives": today and booking.status in (BOOKED, MISSED), "name": person.get("name", ""),
            "phone": person.get("phone", ""), "by": booking.by}


def find(rows: list[dict], code: str) -> dict | None:
    return next((row for row in rows if row["code"] == code), None)


def times(config: SiteConfig) -> list[str]:
    """The slot times a booking may choose ('8:00', '8:15'…), whatever the day."""
    return [f"{start.hour}:{start.minute:02d}" for start in Slots(config).times()]


def slip(row: dict, config: SiteConfig) -> dict:
    """The slip's contents for the printable page, as the kiosk prints them."""
    settings = config.appointments
    svg = qrcode.make(row["code"], image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return {**row, "entity": config.name, "address": settings.address, "hours": config.hours.line(),
            "bring": settings.bring, "advice": slip_advice(settings.grace_min), "qr": svg.to_string(encoding="unicode")}
