"""The desk role: the advisor's buttons, the counter display and the citizen's rating pad.

Advisor buttons: NEXT (closes the turn served as attended and calls the next), RECALL (a button of its own,
or NEXT held down), NO-SHOW and TRANSFER. A press sends a request with an id and waits for the hub's retained
desk state to name that id. A press made while the answer is still missing repeats the same request (same
id), so a lost answer never skips a citizen and never calls two. A request the hub has not answered is kept (on
disk too) and sent again, same id, when the hub is back; RECALL while the hub is away cancels it. TRANSFER shows on the
counter display the services the citizen can be sent to, each further press the next one, and NEXT sends the
citizen to the one shown (RECALL, NO-SHOW or ten seconds without a press: no transfer). PAUSE, where there is one,
ends the attention and pauses the desk (a break); held, it closes the desk; NEXT opens it again. Ratings go
through the durable outbox.

The status light tells the advisor what is going on: steady when ready, a quick flicker while a press is
being answered, short flashes while a request is kept for a hub that is away, a slow blink when the hub does not
answer (offline), long pulses when the attention has lasted longer than the site's limit, a short flash every
three seconds while the desk is paused, off while it is closed. The counter display
shows the turn with the minutes of its attention, the minutes left near the limit, a request kept or cancelled,
the transfer being chosen and why the hub refused a request.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, replace
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
from appliance.desk import counter
from appliance.desk.rating import LABELS, RatingPad
from appliance.drivers.counter_display import CounterDisplay, LogCounterDisplay
from appliance.site import SiteConfig

log = logging.getLogger(__name__)
ANSWER_TIMEOUT_S = 1.0  # past this without an answer the desk shows it is offline
# A request the hub cannot take within this is dropped by the broker, not acted on late (the hub went away before
# its status said so); the desk, which keeps it, sends it again when the hub is back.
REQUEST_EXPIRY_S = 60
NOTICE_S = 6.0          # how long the counter display says that a request was refused or cancelled
CHOICE_S = 10.0         # a transfer being chosen is given up after this long without a press
CODE_S = 10.0           # an advisor's code being typed on the pad is given up after this long without a press


@dataclass(frozen=True)
class DeskPress:
    action: str          # a desk_request action, or "rate"
    value: int = 0
    at: float | None = None   # the monotonic time of the press itself: what it means depends on when it was made


LIGHT_PATTERNS = {"waiting": (0.05, 0.05), "kept": (0.1, 0.9), "offline": (0.5, 0.5), "overdue": (1.0, 0.2),
                  "paused": (0.3, 2.7)}


@dataclass
class TransferChoice:
    """The services TRANSFER offers for the turn served, the one shown, and when the choice is given up."""
    services: list[str]
    shown: int
    until: float


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
        self.pad = RatingPad(config.rating_grace_s, config.rating_min_attention_s)
        self.serving: dict | None = None
        self.overdue = False
        self.status = "open"       # of the desk, as the hub says (DeskState.status)
        self.hub_online = True     # until the hub's retained status says otherwise
        self.pending: contract.DeskRequest | None = None
        self._pending_since = 0.0
        self.choice: TransferChoice | None = None
        self._code: tuple[str, float] | None = None   # the digits of an advisor's code typed so far, and when
        self._notice: tuple[tuple[str, str], float] | None = None   # lines for the counter display, until when
        self._thanks_until = 0.0
        self._lights: tuple[str, str] | None = None
        self.rejected = contract.Refusals()
        state_dir = Path(state_dir)
        self.link = Link(self.device, config.broker, self.inbox, outbox=Outbox(state_dir / "outbox"),
                         subscriptions=(contract.desk_state_topic(number), contract.status_topic("hub")),
                         site_file=config.version)
        self._pending_path = state_dir / "pending.json"
        self._restore_pending()
        # Contact bounce filtered here too: a bouncing NEXT after the answer would call a second citizen.
        self.debounce = debounce or Debouncer()
        pins = config.desk_pins
        self.buttons = [self._button(pin, DeskPress(action), pin_factory)
                        for pin, action in ((pins.recall, "recall"), (pins.no_show, "no_show"),
                                            (pins.transfer, "transfer")) if pin is not None]
        if pins.pause is not None:   # a break when pressed, the end of the day when held
            self.buttons.append(self._tap_or_hold(pins.pause, "pause", "close", pin_factory))
        if pins.recall is None:  # NEXT on release, RECALL when held
            self.next_button = self._tap_or_hold(pins.next, "next", "recall", pin_factory)
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
            # Stamped here, in gpiozero's thread: a loop that takes the press a moment later (a busy Pi) must not
            # rate the next citizen because the grace of the one leaving ran out in between.
            self.inbox.put(replace(press, at=self.monotonic()))

    def _tap_or_hold(self, pin: int, tap: str, hold: str, pin_factory) -> Button:
        """A button that means `tap` when released before recall_hold_seconds and `hold` once held that long
        (at once; its release then does nothing)."""
        button = Button(pin, pull_up=True, pin_factory=pin_factory, hold_time=self.config.desk_settings.recall_hold_s)
        down, held = threading.Event(), threading.Event()

        def pressed(_device) -> None:
            if self.debounce.edge(pin, True):
                down.set()

        def on_hold(_device) -> None:
            held.set()
            self.inbox.put(DeskPress(hold))

        def released(_device) -> None:
            self.debounce.edge(pin, False)
            if not down.is_set():
                return  # the release of a bounce, not of a press
            down.clear()
            if held.is_set():
                held.clear()
            else:
                self.inbox.put(DeskPress(tap))

        button.when_pressed, button.when_held, button.when_released = pressed, on_hold, released
        return button

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        for device in (self.next_button, *self.buttons, *self.rating_buttons, self.status_led, *self.rating_leds):
            device.close()

    @property
    def hub_away(self) -> bool:
        """Nothing the desk sends can be answered now: no broker, or the hub's status says it is offline."""
        return not (self.link.connected and self.hub_online)

    @property
    def offline(self) -> bool:
        waiting_too_long = self.pending is not None and self.monotonic() - self._pending_since > ANSWER_TIMEOUT_S
        return waiting_too_long or self.hub_away

    def step(self, timeout: float = 0.2) -> None:
        for item in arrived(self.inbox, timeout):
            if isinstance(item, DeskPress) and item.action == "rate":
                self.rate(item.value, item.at)
            elif isinstance(item, DeskPress):
                self.press(item.action)
            elif isinstance(item, mqtt.MQTTMessage):   # whatever a state holds, the desk goes on with the last good one
                refusing(self.rejected, self.device, self._on_message, item)
            elif isinstance(item, Connected) and self.pending is not None:
                self._send(self.pending)
        self._show()

    def press(self, action: str) -> None:
        """An advisor's button: a request to the hub, or a step of choosing a transfer, or a cancel."""
        if self.choice is not None:
            self._choose(action)
        elif self.pending is not None and action == "recall" and self.hub_away:   # kept, so still the desk's own
            log.info("%s: %s cancelled by the advisor before the hub answered it", self.device, self.pending.action)
            self._remember(None)
            self._say(counter.cancelled_request())
        elif action == "transfer" and self.pending is None:
            self._offer_transfer()
        else:
            self.request(action)   # while a request waits for its answer, any button asks again with it

    def request(self, action: str, service: str | None = None, code: str | None = None) -> None:
        if self.pending is None:
            self._remember(contract.DeskRequest(
                id=contract.new_id(), at=self._stamp(), source=self.device, desk=self.desk.number, action=action,
                service=service, on_counter=self.serving["turn_id"] if self.serving else "", code=code))
            self._pending_since = self.monotonic()
        else:
            log.info("%s: still waiting for the answer to %s; asking again", self.device, self.pending.action)
        self._send(self.pending)

    # --- choosing a transfer -------------------------------------------------------------------------

    def _offer_transfer(self) -> None:
        if self.serving is None:
            self._say(counter.refused(contract.REFUSALS["nobody"]))
            return
        # Any service some desk attends but the citizen's own; the desk's usual one (transfer_to) first.
        services = [letter for letter in self.config.attended_services() if letter != self.serving["service"]]
        services.sort(key=lambda letter: letter != self.desk.transfer_to)
        if not services:
            self._say(counter.refused("Sin otro servicio"))
            return
        self.choice = TransferChoice(services, 0, self.monotonic() + CHOICE_S)

    def _choose(self, action: str) -> None:
        choice, self.choice = self.choice, None
        if action == "transfer":
            self.choice = TransferChoice(choice.services, (choice.shown + 1) % len(choice.services),
                                         self.monotonic() + CHOICE_S)
        elif action == "next":
            self.request("transfer", choice.services[choice.shown])
        else:
            log.info("%s: transfer not sent (%s pressed while choosing)", self.device, action)

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
        """Sent only while the hub can answer: a request kept for a hub that is away stays on this desk (and on its
        disk), where RECALL can still cancel it; paho or the broker would hand out a queued copy on their own."""
        if self.hub_away:
            return
        self.link.publish(contract.request_topic(self.desk.number), request.to_json(), expiry_s=REQUEST_EXPIRY_S)

    def rate(self, value: int, at: float | None = None) -> None:
        """A press on the pad at `at` (monotonic; None: now) rates the turn the pad was armed for then; on a
        closed desk with nobody to rate, it is a digit of an advisor's sign-in code."""
        at = self.monotonic() if at is None else at
        if self.status == "closed" and self.pad.target(at) is None and self.config.desk_settings.advisor_codes:
            self._type_code(value, at)
            return
        turn = self.pad.press(at)
        if turn is None:
            log.info("%s: rating %d ignored: no turn to rate (or already rated)", self.device, value)
            return
        rating = contract.Rating(id=contract.new_id(), at=self._stamp(), source=self.device, desk=self.desk.number,
                                 turn_id=turn, value=value)
        self.link.send(contract.rating_topic(self.desk.number), rating)
        log.info("%s: rating %d (%s) for %s", self.device, value, LABELS[value], turn)
        self._thank()

    def _type_code(self, digit: int, at: float) -> None:
        typed = self._code[0] if self._code and at - self._code[1] <= CODE_S else ""
        typed += str(digit)
        if len(typed) < contract.SIGN_IN_DIGITS:
            self._code = (typed, at)
            self._say(("Código de asesor", "*" * len(typed)))
            return
        self._code = None
        self.request("sign_in", code=typed)

    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        if message.topic == contract.status_topic("hub"):
            was_away, self.hub_online = self.hub_away, contract.is_online(message.payload)
            if was_away and not self.hub_away and self.pending is not None:
                log.info("%s: the hub is back; sending %s again", self.device, self.pending.action)
                self._send(self.pending)
        else:
            self._on_state(message)

    def _on_state(self, message: mqtt.MQTTMessage) -> None:
        state = contract.expect(message.payload, contract.DeskState)
        if state.desk != self.desk.number:
            raise contract.ContractError(f"state of desk {state.desk} on the topic of desk {self.desk.number}")
        answered_mine = self.pending is not None and state.answered == self.pending.id
        attended = not (answered_mine and self.pending.action in ("no_show", "transfer"))
        if answered_mine:
            if state.refused:
                log.info("%s: %s refused by the hub: %s", self.device, self.pending.action, state.refused)
                self._say(counter.refused(state.refused))
            elif self.pending.action == "sign_in":
                self._say(counter.signed_in(state.advisor or self.desk.advisor))
            self._remember(None)
        if state.serving != self.serving:
            self.choice = None   # a transfer chosen for another citizen is not sent
        self.serving, self.overdue, self.status = state.serving, state.overdue, state.status or "open"
        self.pad.serve(state.serving["turn_id"] if state.serving else None, self.monotonic(),
                       previous_attended=attended)

    def _say(self, lines: tuple[str, str]) -> None:
        self._notice = (lines, self.monotonic() + NOTICE_S)

    def counter_lines(self) -> tuple[str, str]:
        """What the counter display shows now: a notice, the transfer being chosen, a request kept for the hub,
        the attention and its time, or the desk's welcome."""
        now = self.monotonic()
        if self.choice is not None and now >= self.choice.until:
            self.choice = None
        if self._notice is not None and now < self._notice[1]:
            return self._notice[0]
        if self.choice is not None:
            letter = self.choice.services[self.choice.shown]
            return counter.transfer_choice(self.config.services[letter].counter_name, self.choice.shown + 1,
                                           len(self.choice.services))
        if self.pending is not None and self.hub_away:
            return counter.kept_request()
        if self.serving is None:
            return counter.idle(self.desk.name, self.status)
        elapsed = (self.now() - datetime.fromisoformat(self.serving["called_at"])).total_seconds()
        settings = self.config.desk_settings
        return counter.attention(self.desk.name, self.serving["number"], elapsed, settings.attention_limit_min,
                                 settings.attention_warning_min)

    def _show(self) -> None:
        """Brings the counter and the lights in line with the state; gpiozero is only told of changes."""
        self.counter_display.show(*self.counter_lines())
        now = self.monotonic()
        status = ("kept" if self.pending and self.hub_away else "offline" if self.offline else
                  "waiting" if self.pending else "overdue" if self.overdue else
                  "ready" if self.status == "open" or self.serving else self.status)
        pad = "thanks" if now < self._thanks_until else ("armed" if self.pad.target(now) else "off")
        if (status, pad) == self._lights:
            return
        shown_status, shown_pad = self._lights or (None, None)
        if status != shown_status and status == "ready":
            self.status_led.on()
        elif status != shown_status and status == "closed":
            self.status_led.off()
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
