"""The kiosk role: a citizen presses a button and takes a printed turn.

The kiosk owns numbering and keeps issuing while the hub or the broker is down (the contingency turnero of
procedure PRD-SYE-ATC-01). For each press, in this order:
1. outside opening hours, on a holiday or a closed day, or past the day's last ticket, no number is given (the
   light says so; a slip saying why, with the hours, if the site wants one: one per citizen, not one per press);
2. a button, or the whole kiosk, that has given its limit of tickets in a short while gives no more for now (the
   light says so, and a slip says when the citizen can take one: one slip per citizen);
3. the printer is asked for its state: with no paper or no printer, no number is given;
4. the number is written to disk (never repeated, whatever happens next);
5. the ticket is printed. If printing fails after the number went to the printer, the citizen holds a readable
   number and the turn is valid; if it fails before, the number is recorded as void with the reason, and the
   light and the waiting-room screen ask the citizen to take another;
6. the event waits in the outbox until the hub has recorded it, and the number is settled.
A power cut between 4 and 6 leaves a pending number, settled at the next start.
"""
from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from gpiozero import LED, Button

from appliance import contract
from appliance.core.debounce import Debouncer
from appliance.core.hours import OpeningHours
from appliance.core.link import Connected, Link
from appliance.core.outbox import Outbox
from appliance.core.public_code import SecretError, public_code, read_secret, ticket_address
from appliance.core.steps import arrived, refusing
from appliance.drivers.printer import PrinterConfig, PrinterError, open_printer, paper_state
from appliance.kiosk.arrivals import Arrivals, Scanned
from appliance.kiosk.numbering import TicketCounter, turn_id, turn_number
from appliance.kiosk.press_limit import PressLimit
from appliance.kiosk.ticket import BookingSlip, NumberPrinted, Slip, Ticket, TicketLayout, limit_slip, print_ticket
from appliance.site import DEFAULT_CODE_PAGE, KioskButton, SiteConfig

log = logging.getLogger(__name__)
BOARD_FRESH_S = 120      # older queue figures are not printed: never a wrong "people ahead"
BOARD_WAIT_S = 5         # just started, a press waits this long at most for the hub's retained board
PRINTER_CHECK_S = 10     # how often an idle kiosk asks its printer for its state
SLIP_HOLD_S = 20         # outside hours, one slip per citizen: presses this soon after a slip print nothing
SIGNAL_S = 8             # how long the light says why a press gave no ticket
# Status light: (on, off) seconds of a blink, or None for steady on. wiring/kiosk.md tells the citizen's side.
LIGHTS = {"ready": None, "printing": (0.08, 0.08), "paper_low": (1.5, 0.3), "closed": (0.2, 2.8),
          "error": (0.15, 0.15), "limit": (0.6, 0.6), "void": (0.1, 0.5)}


@dataclass(frozen=True)
class TicketPress:
    button: KioskButton


class KioskUnit:
    def __init__(self, config: SiteConfig, kiosk_id: str, state_dir: Path, *, pin_factory, printer=None,
                 on_printed=None, now=None, monotonic=time.monotonic,
                 opening: OpeningHours | None = None, reader=None):
        """`reader`: makes the QR reader that checks appointments in, given where to hand each code it reads
        (drivers.reader); None: the kiosk has none."""
        self.config = config
        self.kiosk = config.kiosks[kiosk_id]
        self.now = now or (lambda: datetime.now(config.timezone))
        self.monotonic = monotonic
        self.inbox: queue.Queue = queue.Queue()
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.numbering = TicketCounter(state_dir / "counter.json")
        self.hours = opening or OpeningHours(config.hours, config.holidays)
        self.layout = TicketLayout(paper_mm=self.kiosk.printer.get("paper_mm", config.paper_mm),
                                   encoding=self.kiosk.printer.get("encoding", DEFAULT_CODE_PAGE))
        self.printer = printer or open_printer(PrinterConfig(**self.kiosk.printer))
        self.on_printed = on_printed     # (ticket, layout, ESC/POS bytes): a simulated kiosk keeps a copy of each
        self.issued: list[Ticket] = []
        self.printer_state = "unknown"
        self._printer_checked = float("-inf")
        self._board: contract.Board | None = None
        self._board_at = float("-inf")
        self._started_at = float("-inf")
        self._awaiting_board = False             # just started: presses wait for the hub's retained state
        self._connected_before = False
        self._deferred: list[TicketPress] = []
        self._hub_online = False
        self.light: str | None = None     # what the status light says now: a key of LIGHTS
        self._signal: tuple[str, float] | None = None     # a light saying why a press gave nothing, until when
        self._slip_at = float("-inf")
        self._void_at: str | None = None
        self._page_secret = _page_secret(config)
        self.limit = PressLimit(config.press_limit, config.kiosk_limit, config.press_window_s, monotonic)
        self.rejected = contract.Refusals()
        self.arrivals = Arrivals(self)
        self.link = Link(kiosk_id, config.broker, self.inbox, outbox=Outbox(state_dir / "outbox"),
                         subscriptions=(contract.BOARD_TOPIC, contract.status_topic("hub"), *self.arrivals.topics()),
                         site_file=config.version)
        self.reader = None if reader is None else reader(lambda text: self.inbox.put(Scanned(text)))
        self.debounce = Debouncer(clock=monotonic)
        self.buttons = []
        for spec in self.kiosk.buttons:
            button = Button(spec.pin, pull_up=True, pin_factory=pin_factory)
            button.when_pressed = lambda _d, spec=spec: self._edge(spec, True)
            button.when_released = lambda _d, spec=spec: self._edge(spec, False)
            self.buttons.append(button)
        self.status_led = (LED(self.kiosk.status_led, pin_factory=pin_factory)
                           if self.kiosk.status_led is not None else None)

    def _edge(self, spec: KioskButton, pressed: bool) -> None:
        """gpiozero's thread: filter contact bounce, queue real presses (a press while printing waits)."""
        if self.debounce.edge(spec.pin, pressed):
            self.inbox.put(TicketPress(spec))

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._settle_pending()
        self._started_at, self._awaiting_board = self.monotonic(), True
        self.link.start()
        if self.reader is not None:
            self.reader.start()
        self._check_printer()
        self._show()

    def stop(self) -> None:
        if self.reader is not None:
            self.reader.stop()
        self.link.stop()
        for device in (*self.buttons, self.status_led):
            if device is not None:
                device.close()

    def step(self, timeout: float = 0.5) -> None:
        connected = False
        for item in arrived(self.inbox, timeout):
            if isinstance(item, TicketPress):
                self._deferred.append(item)
            elif isinstance(item, Scanned):
                self.arrivals.scanned(item.text)
            elif isinstance(item, Connected):
                connected = True
            elif isinstance(item, mqtt.MQTTMessage):   # whatever a board holds, the kiosk issues with what it knew
                refusing(self.rejected, self.kiosk.id, self._on_message, item)
        # Just started, the hub's retained board and status come right after the connection: the first citizens
        # wait for them, one step past it (or BOARD_WAIT_S without a broker), or their tickets would leave out the
        # people ahead and the wait.
        if self._connected_before or self.monotonic() - self._started_at >= BOARD_WAIT_S:
            self._awaiting_board = False
        self._connected_before = self._connected_before or connected
        if not self._awaiting_board:
            presses, self._deferred = self._deferred, []
            for press in presses:
                self.issue(press.button)
        self.arrivals.expire()
        if self.monotonic() - self._printer_checked > PRINTER_CHECK_S:
            self._check_printer()
        self._show()

    # --- issuing -------------------------------------------------------------------------------------

    def issue(self, spec: KioskButton) -> Ticket | None:
        moment = self.now()
        if not self.hours.issues_tickets(moment):
            self._refuse_closed(moment)
            return None
        limit = self.limit.refusal(spec.pin)
        if limit is not None:
            log.warning("%s: no ticket: the %s gave %d in %d s", self.kiosk.id,
                        "kiosk" if limit == "kiosk" else f"{spec.prefix} button", self.limit.limits[limit],
                        self.config.press_window_s)
            self._show_signal("limit")
            self.print_slip(limit_slip(self.config.name, None if limit == "kiosk" else
                                       self.config.services[spec.service].name,
                                       self.limit.wait_s(limit, spec.pin), moment))
            return None
        if self._check_printer() in ("out", "offline"):
            log.error("%s: no ticket: the printer is %s", self.kiosk.id, self.printer_state)
            return None
        number = self.numbering.take(spec.prefix, moment.date())  # on disk before anything is printed
        if self.numbering.day > moment.date():
            log.warning("%s: the clock says %s but numbers were already given for %s: that series goes on; "
                        "check the time service", self.kiosk.id, moment.date(), self.numbering.day)
        ticket = self._ticket(spec, number, moment)
        self._show("printing")
        try:
            self.print_paper(ticket)
        except NumberPrinted as exc:   # the citizen holds the number: a valid turn, whatever came after it
            log.error("%s: ticket %s was printed only in part (%s); the number is valid", self.kiosk.id,
                      ticket.number, exc)
            self._check_printer()
        except PrinterError as exc:
            log.error("%s: ticket %s was not printed: %s", self.kiosk.id, ticket.number, exc)
            self._record(spec, number, moment, void_reason=f"no se pudo imprimir: {exc}")
            self._void_at = self.now().isoformat(timespec="milliseconds")
            self._check_printer(force=True)    # the screen asks the citizen to take another
            self._show_signal("void")
            return None
        self._record(spec, number, moment)
        self.limit.given(spec.pin)             # a void ticket does not count: its citizen is asked for another
        self.issued.append(ticket)
        log.info("%s: ticket %s (%s%s)", self.kiosk.id, ticket.number, ticket.service_name,
                 ", preferencial" if ticket.preferential else "")
        return ticket

    def _ticket(self, spec: KioskButton, number: int, moment: datetime) -> Ticket:
        ahead, minutes, from_history = self.queue_figures(spec.service, spec.preferential)
        return Ticket(entity=self.config.name, number=turn_number(spec.prefix, number),
                      service_name=self.config.services[spec.service].name, preferential=spec.preferential,
                      issued_at=moment, people_ahead=ahead, estimated_wait_min=minutes,
                      estimate_from_history=from_history, notice=self.config.notice,
                      hours=self.config.hours.line(), footer=self.config.ticket_footer,
                      category=contract.PREFERENTIAL_CATEGORIES.get(spec.category),
                      qr=self.page_address(turn_id(self.numbering.day, self.kiosk.id, spec.prefix, number)))

    def page_address(self, tid: str) -> str | None:
        """The address of the turn's "Mi turno" page, its QR code's payload; None: the site has no page."""
        if self._page_secret is None:
            return None
        return ticket_address(self.config.public.address, public_code(self._page_secret, tid))

    def _record(self, spec: KioskButton, number: int, moment: datetime, *, void_reason: str | None = None) -> None:
        """The ticket's fact goes to the outbox (durable), then the pending number is settled."""
        tid = turn_id(self.numbering.day, self.kiosk.id, spec.prefix, number)  # the series' day, not the clock's
        fields = dict(at=moment.isoformat(timespec="milliseconds"), source=self.kiosk.id, turn_id=tid,
                      number=turn_number(spec.prefix, number), service=spec.service, preferential=spec.preferential,
                      category=spec.category)
        event = (contract.TicketVoid(id=f"void:{tid}", reason=void_reason, **fields) if void_reason
                 else contract.TicketIssued(id=f"ticket:{tid}", **fields))
        self.link.send(contract.ticket_topic(self.kiosk.id), event)
        self.numbering.settle()

    def _settle_pending(self) -> None:
        """After a power cut between taking a number and recording it: if its event is not in the outbox, the
        ticket may have been printed and a citizen may hold it, so it is recorded as issued (at worst an
        advisor calls a turn nobody holds, never the reverse)."""
        pending = self.numbering.pending
        if pending is None:
            return
        spec = next((b for b in self.kiosk.buttons if b.prefix == pending["prefix"]), None)
        day = datetime.fromisoformat(pending["day"]).date()
        tid = turn_id(day, self.kiosk.id, pending["prefix"], pending["number"])
        recorded = any(tid.encode() in item.payload for item in self.link.outbox.pending())
        if not recorded and spec is not None:
            log.warning("%s: number %s was being issued at a power cut; recorded as issued", self.kiosk.id,
                        turn_number(pending["prefix"], pending["number"]))
            self._record(spec, pending["number"], self.now().replace(year=day.year, month=day.month, day=day.day))
        else:
            self.numbering.settle()

    def queue_figures(self, service: str, preferential: bool) -> tuple[int | None, int | None, bool]:
        """People ahead, estimated minutes and whether the pace is that of other days, from the hub's retained
        board, only while the hub is online and the figures are fresh: otherwise (None, None, False) and the
        ticket leaves them out."""
        fresh = self._board and self.monotonic() - self._board_at <= BOARD_FRESH_S
        if not (self.hub_reachable() and fresh):
            return None, None, False
        for waiting in self._board.waiting:
            if waiting.service == service:
                ahead = waiting.preferential if preferential else waiting.normal + waiting.preferential
                return ahead, waiting.estimated_minutes(ahead), waiting.from_history
        return None, None, False

    def _refuse_closed(self, moment: datetime) -> None:
        reason = self.hours.reason(moment)
        log.info("%s: press while no tickets are given (%s)", self.kiosk.id, reason)
        if self.config.closed_slip:
            self.print_slip(Slip(entity=self.config.name, reason=reason, reopening=self.hours.reopening(moment),
                                 hours=self.config.hours.line(), last_ticket=self.config.hours.last_ticket_text(),
                                 issued_at=moment))

    def print_slip(self, slip: Slip) -> None:
        """A slip saying why a press gave no ticket, one per citizen: presses soon after a slip print nothing."""
        if self.monotonic() - self._slip_at < SLIP_HOLD_S or self._check_printer() in ("out", "offline"):
            return
        self._slip_at = self.monotonic()
        try:
            self.print_paper(slip)
        except PrinterError as exc:
            log.error("%s: the slip was not printed: %s", self.kiosk.id, exc)

    def print_paper(self, printed: Ticket | Slip | BookingSlip) -> None:
        """Prints a ticket or a slip whole, and hands the demo its bytes; a failure is a PrinterError."""
        before = len(getattr(self.printer, "output", b""))
        print_ticket(self.printer, printed, self.layout)
        if self.on_printed is not None:
            self.on_printed(printed, self.layout, self.printer.output[before:])

    # --- printer, board, lights ----------------------------------------------------------------------

    def _check_printer(self, *, force: bool = False) -> str:
        """The printer's state, published (retained) when it changes, or with `force` after a void ticket."""
        state = paper_state(self.printer)
        self._printer_checked = self.monotonic()
        if state != self.printer_state or force:
            self.printer_state = state
            status = contract.PrinterStatus(id=contract.new_id(), at=self.now().isoformat(timespec="milliseconds"),
                                            source=self.kiosk.id, state=state, void_at=self._void_at,
                                            detail=f"{self.kiosk.printer.get('kind')} {self.kiosk.printer.get('profile', '')}".strip())
            self.link.publish(contract.printer_topic(self.kiosk.id), status.to_json(), retain=True)
            if state != "ok":
                log.warning("%s: printer state is %s", self.kiosk.id, state)
        return state

    def hub_reachable(self) -> bool:
        """Connected, and the hub's retained status says it is online: its answers can come."""
        return self._hub_online and self.link.connected

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        if message.topic == contract.status_topic("hub"):
            self._hub_online = contract.is_online(message.payload)
        elif message.topic in self.arrivals.topics():
            self.arrivals.on_message(message)
        else:
            self._board = contract.expect(message.payload, contract.Board)
            # A board the hub publishes now is current. A retained copy handed out at a (re)connect is as old as
            # the hub's time on it says: a hub whose loop stands still leaves an ever older one; a live hub
            # publishes it again every BOARD_REFRESH_S, so a kiosk just started has current figures at once.
            age = 0.0 if not message.retain else max(
                0.0, (self.now() - datetime.fromisoformat(self._board.at)).total_seconds())
            self._board_at = max(self._board_at, self.monotonic() - age)

    def _show_signal(self, light: str) -> None:
        self._signal = (light, self.monotonic() + SIGNAL_S)
        self._show()

    def _show(self, light: str | None = None) -> None:
        if self._signal is not None and self.monotonic() >= self._signal[1]:
            self._signal = None
        if light is None:
            light = ("error" if self.printer_state in ("out", "offline") else
                     self._signal[0] if self._signal else
                     "closed" if not self.hours.issues_tickets(self.now()) else
                     "paper_low" if self.printer_state == "low" else "ready")
        if light == self.light:
            return
        self.light = light
        if self.status_led is None:
            return
        if LIGHTS[light] is None:
            self.status_led.on()
        else:
            self.status_led.blink(*LIGHTS[light])


def _page_secret(config: SiteConfig) -> bytes | None:
    """The site secret the tickets' codes derive from, when the site has a "Mi turno" page. A kiosk without it
    prints its tickets as before, without the code, and says so: the paper ticket never depends on the page."""
    if config.public is None:
        return None
    try:
        return read_secret(config.public.secret_file)
    except SecretError as exc:
        log.error("%s; the tickets carry no QR code until it is there (copy it from the hub)", exc)
        return None
