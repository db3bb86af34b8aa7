"""The desk role: the advisor's buttons, the counter display and the citizen's rating pad.

Advisor buttons: NEXT (closes the turn served as attended and calls the next), RECALL (a button of its own,
or NEXT held down), NO-SHOW and TRANSFER. A press sends a request with an id and waits for the hub's retained
desk state to name that id. A press made while the answer is still missing repeats the same request (same
id), so a lost answer never skips a citizen and never calls two. Ratings go through the durable outbox.

The status light tells the advisor what is going on: steady when ready, a quick flicker while a press is
being answered, a slow blink when the hub does not answer (offline), long pulses when the attention has
lasted longer than the site's limit.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from gpiozero import LED, Button

from appliance import contract
from appliance.core.debounce import Debouncer
from appliance.core.durable import write_atomic
from appliance.core.link import Connected, Link
from appliance.core.outbox import Outbox
from appliance.core.steps import arrived, refusing
from appliance.desk.rating import LABELS, RatingPad
from appliance.drivers.counter_display import CounterDisplay, LogCounterDisplay
from appliance.site import SiteConfig

log = logging.getLogger(__name__)
ANSWER_TIMEOUT_S = 1.0  # past this without an answer the desk shows it is offline
REQUEST_EXPIRY_S = 60   # a request the hub cannot take within this is dropped by the broker, not acted on late


@dataclass(frozen=True)
class DeskPress:
    action: str          # a desk_request action, or "rate"
    value: int = 0


LIGHT_PATTERNS = {"waiting": (0.05, 0.05), "offline": (0.5, 0.5), "overdue": (1.0, 0.2)}


class DeskUnit:
    def __init__(self, config: SiteConfig, number: int, state_dir: Path, *, pin_factory,
                 counter_display: CounterDisplay | None = None, now=None, monotonic=time.monotonic,
                 debounce: Debouncer | None = None):
        self.config = config
        self.desk = config.desks[number]
        self.device = contract.desk_device(number)
        self.now = now or (lambda: datetime.now(config.timezone))
        self.monotonic = monotonic
        self.inbox: queue.Queue = queue.Queue()
        self.counter_display = counter_display or LogCounterDisplay(self.desk.name)
        self.pad = RatingPad(config.rating_grace_s)
        self.serving: dict | None = None
        self.overdue = False
        self.pending: contract.DeskRequest | None = None
        self._pending_since = 0.0
        self._thanks_until = 0.0
        self._lights: tuple[str, str] | None = None
        self.rejected = contract.Refusals()
        state_dir = Path(state_dir)
        self.link = Link(self.device, config.broker, self.inbox, outbox=Outbox(state_dir / "outbox"),
                         subscriptions=(contract.desk_state_topic(number),))
        self._pending_path = state_dir / "pending.json"
        self._restore_pending()
        # Contact bounce filtered here too: a bouncing NEXT after the answer would call a second citizen.
        self.debounce = debounce or Debouncer()
        pins = config.desk_pins
        self.buttons = [self._button(pin, DeskPress(action), pin_factory)
                        for pin, action in ((pins.recall, "recall"), (pins.no_show, "no_show"),
                                            (pins.transfer, "transfer")) if pin is not None]
        if pins.recall is None:  # NEXT on release, RECALL when held
            self.next_button = self._button(pins.next, None, pin_factory, hold_time=config.desk_settings.recall_hold_s)
            self._next_down, self._held = threading.Event(), threading.Event()
            self.next_button.when_pressed = self._next_pressed
            self.next_button.when_held = self._next_held
            self.next_button.when_released = self._next_released
        else:
            self.next_button = self._button(pins.next, DeskPress("next"), pin_factory)
        self.rating_buttons = [self._button(pin, DeskPress("rate", value), pin_factory)
                               for value, pin in enumerate(pins.rating, start=1)]
        self.status_led = LED(pins.status_led, pin_factory=pin_factory)
        self.rating_leds = [LED(pin, pin_factory=pin_factory) for pin in pins.rating_leds]

    def _button(self, pin: int, press: DeskPress | None, pin_factory, **options) -> Button:
        """gpiozero's thread: every edge goes through the bounce filter; a real press is queued."""
        button = Button(pin, pull_up=True, pin_factory=pin_factory, **options)
        button.when_pressed = lambda _d: self._pressed(pin, press)
        button.when_released = lambda _d: self.debounce.edge(pin, False)
        return button

    def _pressed(self, pin: int, press: DeskPress) -> None:
        if self.debounce.edge(pin, True):
            self.inbox.put(press)

    def _next_pressed(self, _device) -> None:
        if self.debounce.edge(self.config.desk_pins.next, True):
            self._next_down.set()

    def _next_held(self, _device) -> None:
        self._held.set()
        self.inbox.put(DeskPress("recall"))

    def _next_released(self, _device) -> None:
        self.debounce.edge(self.config.desk_pins.next, False)
        if not self._next_down.is_set():
            return  # the release of a bounce, not of a press
        self._next_down.clear()
        if self._held.is_set():
            self._held.clear()
        else:
            self.inbox.put(DeskPress("next"))

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        for device in (self.next_button, *self.buttons, *self.rating_buttons, self.status_led, *self.rating_leds):
            device.close()

    @property
    def offline(self) -> bool:
        waiting_too_long = self.pending is not None and self.monotonic() - self._pending_since > ANSWER_TIMEOUT_S
        return waiting_too_long or not self.link.connected

    def step(self, timeout: float = 0.2) -> None:
        for item in arrived(self.inbox, timeout):
            if isinstance(item, DeskPress) and item.action == "rate":
                self.rate(item.value)
            elif isinstance(item, DeskPress):
                self.request(item.action)
            elif isinstance(item, mqtt.MQTTMessage):   # whatever a state holds, the desk goes on with the last good one
                refusing(self.rejected, self.device, self._on_state, item)
            elif isinstance(item, Connected) and self.pending is not None:
                self._send(self.pending)
        self._show()

    def request(self, action: str) -> None:
        if action == "transfer" and not self.desk.transfer_to:
            log.warning("%s: TRANSFER pressed, but this desk has no transfer_to service configured", self.device)
            return
        if self.pending is None:
            self._remember(contract.DeskRequest(
                id=contract.new_id(), at=self._stamp(), source=self.device, desk=self.desk.number, action=action,
                service=self.desk.transfer_to if action == "transfer" else None,
                on_counter=self.serving["turn_id"] if self.serving else ""))
            self._pending_since = self.monotonic()
        else:
            log.info("%s: still waiting for the answer to %s; asking again", self.device, self.pending.action)
        self._send(self.pending)

    def _remember(self, request: contract.DeskRequest | None) -> None:
        """The request waiting for its answer is kept on disk: after a power cut the desk asks again with the
        same id, so a press the hub already holds (queued while it was away) is not followed by a second one."""
        self.pending = request
        if request is None:
            self._pending_path.unlink(missing_ok=True)
        else:
            write_atomic(self._pending_path, request.to_json())

    def _restore_pending(self) -> None:
        """A request pressed before a restart is asked again the same day (a late call is better than two calls);
        one from an earlier day is dropped."""
        try:
            request = contract.expect(self._pending_path.read_bytes(), contract.DeskRequest)
            today = datetime.fromisoformat(request.at).date() == self.now().date()
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:  # ContractError is a ValueError
            log.error("%s: the unanswered request kept in %s is unreadable (%s); dropped", self.device,
                      self._pending_path, exc)
            today = False
        if today:
            self.pending, self._pending_since = request, self.monotonic()
            log.info("%s: asking again for the answer to %s, pressed before the restart", self.device, request.action)
        else:
            self._pending_path.unlink(missing_ok=True)

    def _send(self, request: contract.DeskRequest) -> None:
        self.link.publish(contract.request_topic(self.desk.number), request.to_json(), expiry_s=REQUEST_EXPIRY_S)

    def rate(self, value: int) -> None:
        turn = self.pad.press(self.monotonic())
        if turn is None:
            log.info("%s: rating %d ignored: no turn to rate (or already rated)", self.device, value)
            return
        rating = contract.Rating(id=contract.new_id(), at=self._stamp(), source=self.device, desk=self.desk.number,
                                 turn_id=turn, value=value)
        self.link.send(contract.rating_topic(self.desk.number), rating)
        log.info("%s: rating %d (%s) for %s", self.device, value, LABELS[value], turn)
        self._thank()

    def _on_state(self, message: mqtt.MQTTMessage) -> None:
        state = contract.expect(message.payload, contract.DeskState)
        if state.desk != self.desk.number:
            raise contract.ContractError(f"state of desk {state.desk} on the topic of desk {self.desk.number}")
        answered_mine = self.pending is not None and state.answered == self.pending.id
        attended = not (answered_mine and self.pending.action in ("no_show", "transfer"))
        if answered_mine:
            self._remember(None)
        self.serving, self.overdue = state.serving, state.overdue
        self.pad.serve(state.serving["turn_id"] if state.serving else None, self.monotonic(),
                       previous_attended=attended)

    def _show(self) -> None:
        """Brings the counter and the lights in line with the state; gpiozero is only told of changes."""
        self.counter_display.show(self.desk.name, f"Turno {self.serving['number']}" if self.serving else "Bienvenido")
        now = self.monotonic()
        status = ("offline" if self.offline else "waiting" if self.pending else
                  "overdue" if self.overdue else "ready")
        pad = "thanks" if now < self._thanks_until else ("armed" if self.pad.target(now) else "off")
        if (status, pad) == self._lights:
            return
        shown_status, shown_pad = self._lights or (None, None)
        if status != shown_status and status == "ready":
            self.status_led.on()
        elif status != shown_status:
            self.status_led.blink(*LIGHT_PATTERNS[status])
        if pad == "thanks" and shown_pad != "thanks":
            for led in self.rating_leds:
                led.blink(on_time=0.15, off_time=0.15, n=3)
        elif pad != "thanks":
            for led in self.rating_leds:
                led.value = pad == "armed"
        self._lights = (status, pad)

    def _thank(self) -> None:
        """A short 'gracias' light pattern across the pad after a rating."""
        self._thanks_until = self.monotonic() + 0.9

    def _stamp(self) -> str:
        return self.now().isoformat(timespec="milliseconds")
