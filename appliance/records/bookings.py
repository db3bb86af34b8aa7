"""The appointments of one day as a fold over its records (plain Python, no I/O), as the Ledger folds its turns.

Every appointment record is filed under the appointment's day, whenever it was made (a booking for tomorrow goes
to tomorrow's journal), so a day's file holds all that happened to its appointments:
  booking         appointment, service, slot (and contact: a name and phone kept apart, by, request_id)
  booking_cancel  appointment                                  cancelled by a coordinator
  booking_move    appointment, slot                            to another time; to another day, a booking there
  checkin         appointment, turn_id, number, service, kiosk, slot, late   the citizen arrived: a turn
  checkin_refused appointment, kiosk, reason                   a scan that gave no turn, and why
  missed          appointment                                  its time and the grace passed with nobody
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

log = logging.getLogger(__name__)
BOOKED, CANCELLED, MOVED, CHECKED_IN, MISSED = "booked", "cancelled", "moved", "checked_in", "missed"
LIVE = (BOOKED, CHECKED_IN, MISSED)     # these hold their slot's place; a cancelled or moved one does not
STATUS_NAMES = {BOOKED: "agendada", CANCELLED: "cancelada", MOVED: "movida a otro día", CHECKED_IN: "llegó",
                MISSED: "no llegó"}


@dataclass
class Booking:
    appointment: str
    service: str
    slot: str                   # ISO time of the slot's start, in the site's time zone
    day: str
    booked_at: str
    status: str = BOOKED
    contact: bool = False       # a name and phone are kept for it (records.contacts), with consent
    by: str = ""
    turn_id: str | None = None
    number: str | None = None
    arrived_at: str | None = None
    late: bool = False          # arrived past the grace: served as a walk-in

    @cached_property
    def slot_s(self) -> float:
        return datetime.fromisoformat(self.slot).timestamp()


@dataclass
class Bookings:
    """One day's appointments by code, and the answers given to its scans (by request id) for a resend."""

    by_code: dict[str, Booking] = field(default_factory=dict)
    answers: dict[str, dict] = field(default_factory=dict)     # request id -> its checkin or checkin_refused record
    numbered: dict[str, int] = field(default_factory=dict)     # number prefix -> appointment turns numbered

    def apply(self, r: dict) -> None:
        kind = r["kind"]
        if kind == "booking":
            self.by_code[r["appointment"]] = Booking(r["appointment"], r["service"], r["slot"], r["day"], r["at"],
                                                     contact=r.get("contact", False), by=r.get("by", ""))
        elif kind == "checkin_refused":
            self.answers[r["request_id"]] = r
        else:
            self._change(self.by_code[r["appointment"]], r)

    def _change(self, booking: Booking, r: dict) -> None:
        kind = r["kind"]
        if kind == "booking_cancel":
            booking.status = CANCELLED
        elif kind == "booking_move" and r["slot"][:10] == booking.day:
            booking.slot = r["slot"]
            booking.__dict__.pop("slot_s", None)
        elif kind == "booking_move":
            booking.status = MOVED
        elif kind == "missed":
            booking.status = MISSED
        elif kind == "checkin":
            booking.status, booking.turn_id, booking.number = CHECKED_IN, r["turn_id"], r["number"]
            booking.arrived_at, booking.late = r["at"], r["late"]
            self.answers[r["request_id"]] = r
            prefix = r["number"].split("-")[0]
            self.numbered[prefix] = self.numbered.get(prefix, 0) + 1

    def taken(self, service: str, slot: str) -> int:
        """How many appointments hold a place in that slot of that service."""
        start = datetime.fromisoformat(slot).timestamp()
        return sum(b.service == service and b.status in LIVE and b.slot_s == start for b in self.by_code.values())

    def live(self) -> list[Booking]:
        """The appointments still of this day (not cancelled, not moved away), by time."""
        return sorted((b for b in self.by_code.values() if b.status in LIVE), key=lambda b: (b.slot_s, b.service))


BOOKING_KINDS = ("booking", "booking_cancel", "booking_move", "checkin", "checkin_refused", "missed")


def bookings_of(records) -> Bookings:
    """The appointments of a day's records (the other kinds are passed over), each record applied once; one
    that does not fit (a damaged line before it) is skipped, as the Ledger's fold does."""
    bookings, seen = Bookings(), set()
    for record in records:
        if record.get("kind") in BOOKING_KINDS and record.get("id") not in seen:
            seen.add(record.get("id"))
            try:
                bookings.apply(record)
            except (KeyError, TypeError, ValueError) as exc:
                log.error("appointment record %.80s of %.10s does not fit the records before it (%s); skipped",
                          record.get("id"), record.get("day"), exc)
    return bookings
