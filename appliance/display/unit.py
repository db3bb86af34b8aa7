"""The display role: the waiting-room screen that announces which turn goes to which desk.

Everything it shows comes from retained state (the hub's board, each kiosk's printer), so a rebooted or
reconnected screen is right within a moment; whether the site is open it reads from the site file's hours. A call is new when the display has not seen its id before (it remembers more than a board lists, on
disk with a state directory): each new call is highlighted and announced once, in order, even when several
arrive together; the board present at start-up is shown, not announced.
It redraws only when something changes (a board, the hub's or a dispenser's state, the minute, the end of a
highlight).
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
from appliance.screens.scene import STILL_SERVING, TAKE_ANOTHER, Scene, build_scene, dispenser_notice
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
VOID_SHOWN_S = 60        # how long the screen asks a citizen whose ticket has no number to take another
# A ticket without number this long ago (a retained state found at start) is not news for the room any more.
VOID_NEWS = timedelta(minutes=5)


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
        self.kiosks_online: dict[str, bool] = {}                  # kiosk id -> its availability (last will)
        self._void_until = float("-inf")
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
        self._kiosk_status = {contract.status_topic(kiosk): kiosk for kiosk in config.kiosks}
        self.link = Link(display_id, config.broker, self.inbox,
                         subscriptions=(contract.BOARD_TOPIC, contract.status_topic("hub"), *self._printer_topics,
                                        *self._kiosk_status), site_file=config.version)

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
        if message.topic in self._kiosk_status:
            self.kiosks_online[self._kiosk_status[message.topic]] = contract.is_online(message.payload)
            return
        if message.topic in self._printer_topics:
            self._printer(self._printer_topics[message.topic], contract.expect(message.payload, contract.PrinterStatus))
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

    def _printer(self, kiosk: str, status: contract.PrinterStatus) -> None:
        if status.source != kiosk:
            raise contract.ContractError(f"printer state from {status.source!r} on kiosk {kiosk!r}'s topic")
        before = self.printers.get(kiosk)
        self.printers[kiosk] = status
        # A new ticket without number: the room is asked for a minute of this screen's own time, so a kiosk's clock
        # that is off neither hides nor stretches it; one found retained from long ago is not news.
        if status.void_at and status.void_at != (before and before.void_at) and \
                abs(self.now() - datetime.fromisoformat(status.void_at)) <= VOID_NEWS:
            self._void_until = self.monotonic() + VOID_SHOWN_S

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
        """Why the site does not attend now and when it opens again (else its hours); None while it is open."""
        if self.hours.is_open(now):
            return None
        return f"{self.hours.reason(now)} {self.hours.reopening(now) or self.config.hours.line()}"

    def _notice(self, now: datetime) -> str | None:
        """A line the whole room must read now: a dispenser that does not work or cannot print, a ticket that came
        out without its number, or no more tickets today."""
        several = len(self.config.kiosks) > 1
        for kiosk in self.config.kiosks:
            status = self.printers.get(kiosk)
            trouble = ("down" if self.kiosks_online.get(kiosk) is False else
                       status.state if status is not None and status.state in ("out", "offline") else None)
            if trouble:
                return dispenser_notice(trouble, kiosk if several else None)
        if self.monotonic() < self._void_until:
            return TAKE_ANOTHER
        if self.hours.is_open(now) and not self.hours.issues_tickets(now):
            return f"{self.hours.reason(now)} {STILL_SERVING}"
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
