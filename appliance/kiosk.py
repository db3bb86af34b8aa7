"""The kiosk role: a citizen presses a button and takes a printed turn.

The kiosk owns numbering and keeps issuing while the hub or the broker is down (the contingency turnero of
procedure PRD-SYE-ATC-01): the number is on disk before it is printed, and the ticket event waits in the
outbox until the broker has it.
"""
from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from gpiozero import Button

from . import contract
from .config import Button as ButtonConfig
from .config import SiteConfig
from .drivers.printer import PrinterConfig, PrinterError, open_printer
from .link import Link
from .numbering import TicketCounter, turn_id, turn_number
from .outbox import Outbox
from .ticket import Ticket, TicketLayout, print_ticket
from .ticket_preview import save_preview

log = logging.getLogger(__name__)
BOARD_FRESH_S = 120  # older queue figures are not printed: never a wrong "people ahead"


@dataclass(frozen=True)
class Press:
    button: ButtonConfig


class KioskUnit:
    def __init__(self, config: SiteConfig, kiosk_id: str, state_dir: Path, *, pin_factory, printer=None,
                 keep_tickets: Path | None = None, now=None):
        self.config = config
        self.kiosk = config.kiosks[kiosk_id]
        self.now = now or (lambda: datetime.now(config.timezone))
        self.inbox: queue.Queue = queue.Queue()
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.counter = TicketCounter(state_dir / "counter.json")
        self.layout = TicketLayout(paper_mm=self.kiosk.printer.get("paper_mm", config.paper_mm),
                                   encoding=self.kiosk.printer.get("encoding"))
        self.printer = printer or open_printer(PrinterConfig(**self.kiosk.printer))
        self.keep_tickets = keep_tickets
        self.issued: list[Ticket] = []
        self._board: contract.Board | None = None
        self._board_at = 0.0
        self._hub_online = False
        self.link = Link(kiosk_id, config.broker, self.inbox, outbox=Outbox(state_dir / "outbox"),
                         subscriptions=(contract.BOARD_TOPIC, contract.status_topic("hub")))
        self.buttons = []
        for spec in self.kiosk.buttons:
            button = Button(spec.pin, pull_up=True, pin_factory=pin_factory)
            button.when_pressed = lambda _device, spec=spec: self.inbox.put(Press(spec))
            self.buttons.append(button)

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        for button in self.buttons:
            button.close()

    def step(self, timeout: float = 0.5) -> None:
        try:
            item = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return
        if isinstance(item, Press):
            self.issue(item.button)
        elif isinstance(item, mqtt.MQTTMessage):
            self._on_message(item)

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        if message.topic == contract.status_topic("hub"):
            self._hub_online = message.payload == contract.ONLINE.encode()
            return
        try:
            self._board = contract.expect(message.payload, contract.Board)
            self._board_at = time.monotonic()
        except contract.ContractError as exc:
            log.warning("%s: ignored board: %s", self.kiosk.id, exc)

    def people_ahead(self, service: str, preferential: bool) -> int | None:
        """From the hub's retained queue figures, only while the hub is online and the figures are fresh."""
        if not (self._hub_online and self.link.connected and self._board):
            return None
        if time.monotonic() - self._board_at > BOARD_FRESH_S:
            return None
        for waiting in self._board.waiting:
            if waiting.service == service:
                return waiting.preferential if preferential else waiting.normal + waiting.preferential
        return None

    def issue(self, spec: ButtonConfig) -> Ticket | None:
        moment = self.now()
        number = self.counter.take(spec.prefix, moment.date())  # on disk before anything is printed
        ticket = Ticket(entity=self.config.name, number=turn_number(spec.prefix, number),
                        service_name=self.config.services[spec.service].name, preferential=spec.preferential,
                        issued_at=moment, people_ahead=self.people_ahead(spec.service, spec.preferential),
                        estimated_wait_min=None, notice=self.config.notice, hours=self.config.hours.text())
        before = len(getattr(self.printer, "output", b""))
        try:
            print_ticket(self.printer, ticket, self.layout)
        except PrinterError as exc:
            log.error("%s: ticket %s was not printed: %s", self.kiosk.id, ticket.number, exc)
            return None
        event = contract.TicketIssued(
            id=contract.new_id(), at=moment.isoformat(timespec="milliseconds"), source=self.kiosk.id,
            turn_id=turn_id(moment.date(), self.kiosk.id, spec.prefix, number), number=ticket.number,
            service=spec.service, preferential=spec.preferential)
        self.link.send(contract.ticket_topic(self.kiosk.id), event)
        self.issued.append(ticket)
        if self.keep_tickets is not None:
            self._keep(ticket, self.printer.output[before:])
        log.info("%s: ticket %s (%s%s)", self.kiosk.id, ticket.number, ticket.service_name,
                 ", preferencial" if ticket.preferential else "")
        return ticket

    def _keep(self, ticket: Ticket, raw: bytes) -> None:
        """The demo's copy of each ticket: the exact ESC/POS bytes and a picture of the paper."""
        self.keep_tickets.mkdir(parents=True, exist_ok=True)
        stem = self.keep_tickets / f"{ticket.issued_at:%Y%m%d-%H%M%S}-{ticket.number}"
        stem.with_suffix(".bin").write_bytes(raw)
        save_preview(ticket, self.layout, stem.with_suffix(".png"))
