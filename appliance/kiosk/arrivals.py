"""The kiosk's side of appointments (docs/appointments.md): a code its reader read goes to the hub as a CheckIn,
and the hub's answer is printed, the appointment's ticket or a slip saying why there is none; and the slips the
coordinators' page asks it to print.

The hub decides (the first scan of a code anywhere gets the turn), so nothing is printed before its answer; a
citizen waits ANSWER_WAIT_S at most, then gets a slip, and a code read again while its answer is awaited is the
same citizen. What the reader sends is never trusted: anything but a code is refused on a slip, never sent.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from appliance import contract
from appliance.core.spanish import clock
from appliance.drivers.printer import PrinterError
from appliance.kiosk.ticket import BookingSlip, Slip, Ticket

log = logging.getLogger(__name__)
ANSWER_WAIT_S = 8        # how long a citizen at the kiosk waits for the hub's answer
CHECK_IN_EXPIRY_S = 10   # a CheckIn the hub has not taken by then is dropped: nobody waits for its ticket any more
HELP = "Si necesita ayuda, acérquese a un asesor. También puede tomar un turno en este dispensador."
NO_ANSWER = "En este momento no podemos confirmar su cita."
NOT_A_SLIP = "Este código no es el de un comprobante de cita."
SLIPS_REMEMBERED = 64    # ids of the page's slip orders already printed: a resent one prints nothing
MAX_PENDING = 3          # codes awaiting the hub's answer at once: a reader typing codes without end sends no more


def appointment_lines(slot: datetime, now: datetime, late: bool) -> tuple[str, str]:
    """What an appointment's ticket says under its service: its time, and when it is called."""
    return (f"Cita de las {clock(slot)}",
            f"Llegó después de su cita de las {clock(slot)}: se le atenderá en orden de llegada, como a quien llega "
            "sin cita." if late else
            f"Se le llamará a las {clock(slot)}, antes que los turnos sin cita." if now < slot else
            "Se le llamará en cuanto se libere un módulo, antes que los turnos sin cita.")


@dataclass(frozen=True)
class Scanned:
    """What the reader read, queued by its thread for the kiosk's loop."""

    text: str


class Arrivals:
    def __init__(self, unit):
        self.unit = unit
        self.pending: dict[str, tuple[str, float]] = {}     # CheckIn id -> (code, deadline)
        self._slips: deque[str] = deque(maxlen=SLIPS_REMEMBERED)

    def topics(self) -> tuple[str, str]:
        kiosk = self.unit.kiosk.id
        return contract.check_in_answer_topic(kiosk), contract.slip_topic(kiosk)

    def scanned(self, text: str) -> None:
        unit = self.unit
        if not contract.APPOINTMENT.fullmatch(text):
            log.warning("%s: the reader read %s, which is no appointment's code", unit.kiosk.id,
                        contract.loggable(repr(text), 80))
            return self._refuse(NOT_A_SLIP)
        if text in (code for code, _deadline in self.pending.values()):
            return None                      # read twice while its answer is awaited: one citizen, one answer
        if len(self.pending) >= MAX_PENDING:
            log.warning("%s: a code read while %d await the hub's answer; not sent", unit.kiosk.id, MAX_PENDING)
            return None
        if unit.config.appointments is None or not unit.hub_reachable():
            return self._refuse(NO_ANSWER)
        scan = contract.CheckIn(id=contract.new_id(), at=unit.now().isoformat(timespec="milliseconds"),
                                source=unit.kiosk.id, appointment=text)
        unit.link.publish(contract.check_in_topic(unit.kiosk.id), scan.to_json(), expiry_s=CHECK_IN_EXPIRY_S)
        self.pending[scan.id] = (text, unit.monotonic() + ANSWER_WAIT_S)
        return None

    def expire(self) -> None:
        for scan_id, (code, deadline) in list(self.pending.items()):
            if self.unit.monotonic() >= deadline:
                del self.pending[scan_id]
                log.error("%s: no answer from the hub to the check-in of %s…", self.unit.kiosk.id, code[:4])
                self._refuse(NO_ANSWER)

    def on_message(self, message) -> None:
        if message.retain:   # replayed at every connect: an answer or an order is for now, never retained
            raise ValueError("a retained answer or slip order; clear it with mosquitto_pub -r -n on that topic")
        answer_topic, _slip_topic = self.topics()
        if message.topic == answer_topic:
            self._answered(contract.expect(message.payload, contract.CheckInAnswer))
        else:
            self._slip(contract.expect(message.payload, contract.AppointmentSlip))

    def _answered(self, answer: contract.CheckInAnswer) -> None:
        if answer.source != "hub" or self.pending.pop(answer.answered, None) is None:
            log.info("%s: an answer to check-in %s, which nobody here awaits", self.unit.kiosk.id,
                     contract.loggable(answer.answered, 40))
            return
        if answer.reason is not None:
            return self._refuse(answer.reason)
        unit = self.unit
        slot = datetime.fromisoformat(answer.slot).astimezone(unit.config.timezone)
        ahead, minutes, from_history = unit.queue_figures(answer.service, False) if answer.late else (None, None, False)
        ticket = Ticket(entity=unit.config.name, number=answer.number,
                        service_name=unit.config.services[answer.service].name, preferential=False,
                        issued_at=unit.now(), people_ahead=ahead, estimated_wait_min=minutes,
                        estimate_from_history=from_history, notice=unit.config.notice,
                        hours=unit.config.hours.line(), footer=unit.config.ticket_footer,
                        qr=unit.page_address(answer.turn_id), appointment=appointment_lines(slot, unit.now(),
                                                                                           answer.late))
        try:
            unit.print_paper(ticket)
        except PrinterError as exc:   # the turn exists: read again, the slip says its number
            log.error("%s: the appointment ticket %s was not printed: %s", unit.kiosk.id, ticket.number, exc)
            return None
        unit.issued.append(ticket)
        log.info("%s: appointment ticket %s%s", unit.kiosk.id, ticket.number, " (late: a walk-in)" * answer.late)
        return None

    def _refuse(self, reason: str) -> None:
        unit = self.unit
        unit.print_slip(Slip(entity=unit.config.name, reason=reason, reopening=HELP, hours=None, last_ticket=None,
                             issued_at=unit.now()))

    def _slip(self, order: contract.AppointmentSlip) -> None:
        """The coordinators' page's order to print an appointment's slip, once per order."""
        unit, settings = self.unit, self.unit.config.appointments
        if order.source != "hub-web" or settings is None or order.service not in unit.config.services:
            raise ValueError(f"an appointment slip from {order.source!r} for service {order.service!r}, which this "
                             "kiosk does not print")
        if order.id in self._slips:
            return
        self._slips.append(order.id)
        slip = BookingSlip(entity=unit.config.name, service_name=unit.config.services[order.service].name,
                           slot=datetime.fromisoformat(order.slot).astimezone(unit.config.timezone),
                           address=settings.address, hours=unit.config.hours.line(), bring=settings.bring,
                           grace_min=settings.grace_min, code=order.appointment, issued_at=unit.now())
        try:
            unit.print_paper(slip)
        except PrinterError as exc:
            log.error("%s: the appointment slip was not printed: %s", unit.kiosk.id, exc)
