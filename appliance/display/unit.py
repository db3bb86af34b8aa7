"""The display role: the waiting-room screen that announces which turn goes to which desk.

Everything it shows comes from retained state (the hub's board, each kiosk's printer), so a rebooted or
reconnected screen is right within a moment; whether the site is open it reads from the site file's hours. A call is new when the display has not seen its id before (it remembers more than a board lists, on
disk with a state directory): each new call is highlighted and announced once, in order, even when several
arrive together; the board present at start-up is shown, not announced.
It redraws only when something changes (a board, the hub's availability, the minute, the end of a highlight).
"""
from __future__ import annotations

import json
import logging
import queue
import time
from collections import deque
from datetime import datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.durable import write_json_atomic
from appliance.core.hours import OpeningHours
from appliance.core.link import Link
from appliance.core.steps import arrived, refusing
from appliance.display.spoken import announcement
from appliance.drivers.sound import Announcer
from appliance.screens.scene import LAST_TICKET_GIVEN, Scene, build_scene
from appliance.site import SiteConfig

log = logging.getLogger(__name__)
HIGHLIGHT_S = 8.0
# Call ids remembered, more than a board lists (at most one call per desk, desks 1 to 99): a board older than the
# last one (a broker restored from its last save after a power cut), then the current one again, must not
# announce the same citizen twice, even across a reboot of the display (they are kept on disk).
KNOWN_CALLS = 256
MEMORY_NAME = "announced.json"
FOOTER_S = 12.0
ANNOUNCED_KEPT = 200     # `announced`: the latest calls said, for the demo's screenshots and the tests
VOID_SHOWN = timedelta(minutes=1)   # how long the screen asks a citizen whose ticket has no number to take another


class DisplayUnit:
    def __init__(self, config: SiteConfig, display_id: str, *, screen=None, announcer: Announcer | None = None,
                 now=None, monotonic=time.monotonic, key_help: str | None = None, state_dir: Path | None = None,
                 opening: OpeningHours | None = None):
        self.config = config
        self.display = config.displays[display_id]
        self.now = now or (lambda: datetime.now(config.timezone))
        self.monotonic = monotonic
        self.screen = screen
        self.announcer = announcer
        self.key_help = key_help
        self.inbox: queue.Queue = queue.Queue()
        self.board: contract.Board | None = None
        self.hub_online = False
        self.hours = opening or OpeningHours(config.hours, config.holidays)
        self.printers: dict[str, contract.PrinterStatus] = {}   # kiosk id -> its printer's latest state
        self.announced: list[contract.Call] = []
        self._memory = None
        if state_dir is not None:
            Path(state_dir).mkdir(parents=True, exist_ok=True)
            self._memory = Path(state_dir) / MEMORY_NAME
        self._known_calls: deque[str] = deque(self._remembered(), maxlen=KNOWN_CALLS)
        self._highlight_until = 0.0
        self._drawn: Scene | None = None
        self.rejected = contract.Refusals()
        self._printer_topics = {contract.printer_topic(kiosk): kiosk for kiosk in config.kiosks}
        self.link = Link(display_id, config.broker, self.inbox,
                         subscriptions=(contract.BOARD_TOPIC, contract.status_topic("hub"), *self._printer_topics))

    def start(self) -> None:
        if self.announcer:
            self.announcer.start()
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        if self.announcer:
            self.announcer.stop()

    def step(self, timeout: float = 0.05) -> None:
        for item in arrived(self.inbox, timeout):
            if isinstance(item, mqtt.MQTTMessage):   # whatever a board holds, the screen keeps the last good one
                refusing(self.rejected, self.display.id, self._on_message, item)
        self.redraw()

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        if message.topic == contract.status_topic("hub"):
            self.hub_online = contract.is_online(message.payload)
            return
        if message.topic in self._printer_topics:
            status = contract.expect(message.payload, contract.PrinterStatus)
            kiosk = self._printer_topics[message.topic]
            if status.source != kiosk:
                raise contract.ContractError(f"printer state from {status.source!r} on kiosk {kiosk!r}'s topic")
            self.printers[kiosk] = status
            return
        board = contract.expect(message.payload, contract.Board)
        fresh = [c for c in board.calls if c.id not in self._known_calls]
        self._known_calls.extend(c.id for c in reversed(fresh))
        if self.board is None:
            fresh = []  # the board found at start is shown, not announced
        self.board = board
        for call in reversed(fresh):  # the board lists newest first; announce in the order they were made
            self.announced.append(call)
            if self.announcer:
                self.announcer.announce(announcement(call.number, call.desk_name, call.recall))
        if fresh:
            self._highlight_until = self.monotonic() + HIGHLIGHT_S
            if self._memory is not None:
                write_json_atomic(self._memory, list(self._known_calls))
        del self.announced[:-ANNOUNCED_KEPT]  # a screen runs for months: only the latest are kept

    def _remembered(self) -> list[str]:
        """The call ids announced before this start; none when there is no memory yet or it cannot be read."""
        if self._memory is None:
            return []
        try:
            ids = json.loads(self._memory.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("%s: %s is unreadable (%s); starting with no memory of announced calls", self.display.id,
                        self._memory, exc)
            return []
        return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []

    def scene(self) -> Scene:
        now = self.now()
        rotation = int(time.time() // FOOTER_S)
        return build_scene(self.board, now, size=self.display.size, portrait=self.display.portrait,
                           highlight=self.monotonic() < self._highlight_until, hub_online=self.hub_online,
                           footer=self.display.footer, footer_index=rotation, key_help=self.key_help,
                           closed=self._closed(now), notice=self._notice(now))

    def _closed(self, now: datetime) -> str | None:
        """Why the site does not attend now, with its hours; None while it is open."""
        if self.hours.is_open(now):
            return None
        hours = self.config.hours.line()
        holiday, closed_day = self.hours.holiday(now), self.hours.closed_day(now)
        if holiday:
            return f"Hoy es festivo: {holiday}. {hours}"
        if closed_day:
            return f"Hoy no estamos atendiendo: {closed_day}. {hours}"
        return hours

    def _notice(self, now: datetime) -> str | None:
        """A line the whole room must read now: a dispenser that cannot print, a ticket that came out without its
        number, or no more tickets today."""
        several = len(self.config.kiosks) > 1
        for kiosk, status in sorted(self.printers.items()):
            which = f"El dispensador de turnos {kiosk}" if several else "El dispensador de turnos"
            if status.state == "out":
                return f"{which} no tiene papel: por favor avise a un asesor."
            if status.state == "offline":
                return f"{which} no está imprimiendo: por favor avise a un asesor."
        for status in self.printers.values():
            if status.void_at and timedelta(0) <= now - datetime.fromisoformat(status.void_at) <= VOID_SHOWN:
                return "Si su tiquete salió sin número, tome otro turno."
        if self.hours.is_open(now) and not self.hours.issues_tickets(now):
            return LAST_TICKET_GIVEN
        return None

    def redraw(self) -> bool:
        """Draws the scene if it differs from what is on screen; the scene carries the clock to the minute,
        so an idle screen redraws about once a minute."""
        scene = self.scene()
        if scene == self._drawn or self.screen is None:
            self._drawn = scene
            return False
        self.screen.show(scene)
        self._drawn = scene
        return True
