"""The hub role: the single authority on which turn each desk gets, and the record of every fact.

One loop drains the inbox in batches. For each batch it decides, writes every new record durably, and only
then acknowledges the messages to the broker (manual ack) and publishes the retained state that desks and
displays show. A crash before the write loses nothing: the broker redelivers the unacknowledged messages to
the hub's persistent session, and the events are applied idempotently by id.
"""
from __future__ import annotations

import dataclasses
import logging
import queue
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.link import Connected, Link
from appliance.core.spanish import clock, either, long_date
from appliance.core.steps import arrived, refusing
from appliance.records.journal import DayStore
from appliance.records.bookings import BOOKED, BOOKING_KINDS, CANCELLED, CHECKED_IN, Booking
from appliance.records.ledger import fold
from appliance.site import ConfigError, SiteConfig, appointment_prefix
from appliance.site import load as load_config
from hub.appointments import Calendar
from hub.day import REPLAY_DAYS, ServiceDay, oldest_replayable, plausible, recorded_day
from hub.history import past_attentions
from hub.pace import Pace
from hub.policy import choose_next
from hub.positions import POSITIONS_EVERY_S, PositionsPublisher
from hub.retained import Past, RetainedPublisher, advisor_at, build_board, build_desk_state

log = logging.getLogger(__name__)
BATCH = 500
# Records that change the board: its calls, its queues (a ticket, a call, a transfer, a waiting turn closed) and
# its pace (an attention closed). A batch with one of them publishes the board again, even if nobody is called.
BOARD_KINDS = ("ticket", "call", "close", "transfer", "desk", "reinstate", "undo")
# While nothing changes the board is published again this often, with a new time: a kiosk prints the queue's
# figures only from a board it received in the last two minutes (kiosk.unit.BOARD_FRESH_S), so a quiet spell must
# not leave the next citizen without them.
BOARD_REFRESH_S = 30
MANUAL_DAYS = 31     # how far back attentions given during a manual contingency may be entered
ANSWER_EXPIRY_S = 30  # a check-in's answer for a kiosk that is gone by then is dropped by the broker
RECEPTION = "recepcion"   # the "kiosk" of an appointment checked in from the coordinators' page


class Rejected(ValueError):
    """A well-formed message that cannot be applied; the text says why."""


class Refused(Exception):
    """A coordinator's order the hub will not carry out: the text, in Spanish, is what the page shows."""


_STATUS_SAID = {"cancelled": "fue cancelada", "moved": "se movió a otro día", "checked_in": "se registró",
                "missed": "pasó sin que el ciudadano llegara"}


def _by(coordinator: str | None) -> dict:
    return {} if coordinator is None else {"by": coordinator}


class Hub:
    device = "hub"

    def __init__(self, config: SiteConfig, state_dir: Path, *, now=None, monotonic=time.monotonic,
                 config_path: Path | None = None):
        self.config = config
        self._config_path = config_path
        self._config_mtime = config_path.stat().st_mtime if config_path else None
        self._warned: set[str] = set()  # turns whose desk was told the attention is over the limit
        self.now = now or (lambda: datetime.now(config.timezone))
        self.monotonic = monotonic
        self._board_sent = float("-inf")
        self.inbox: queue.Queue = queue.Queue()
        self.store = DayStore(Path(state_dir) / "days")
        # A clock set back at boot keeps the newest day already recorded (day.py).
        clock_day = self.now().date().isoformat()
        self.day = ServiceDay(recorded_day(clock_day, self.store.served_days(clock_day)))
        self.ledger = fold(self.store.resume(self.today))   # a torn end of the day's journal is cut here
        self.pace = self._pace_of_today()
        self._past = past_attentions(self.store, date.fromisoformat(self.today), config.timezone)
        self.calendar = Calendar(config, self.store, Path(state_dir))
        self.calendar.load(self.today, self.ledger.bookings)
        self._answers: list[dict] = []              # check-in records of this batch, answered once it is on disk
        self.rejected = contract.Refusals()
        self._made: list[dict] = []                 # records of this batch, for its one durable write
        self._recorded: dict[str, list[str]] = {}   # device -> ids of its facts the batch records (Applied)
        self.link = Link(self.device, config.broker, self.inbox, persistent_session=True, manual_ack=True,
                         facts_only=True, now=self.now, site_file=config.version,
                         subscriptions=(contract.TICKETS_ALL, contract.REQUESTS_ALL, contract.RATINGS_ALL,
                                        contract.COMMAND_TOPIC, contract.CHECK_INS_ALL))
        self.retained = RetainedPublisher(self.link)
        self.positions = PositionsPublisher(config, self.retained)
        self._positions_due: contract.Board | None = None     # the board whose positions are still to publish
        self._positions_sent = float("-inf")
        self._positions_failing = False

    @property
    def today(self) -> str:
        return self.day.today

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        self.store.close()

    # --- the loop ------------------------------------------------------------------------------------

    def step(self, timeout: float = 0.5) -> int:
        """Handles one batch from the inbox (what arrived within `timeout`); returns how many items it took."""
        items = arrived(self.inbox, timeout, BATCH)
        self._roll_day()
        self._reload_advisors()
        self._recorded.clear()
        desks, board_changed = set(), False
        for item in items:
            if isinstance(item, Connected):
                desks.update(self.config.desks)
                board_changed = True
                self.positions.forget()     # the broker may have lost what it retained
            elif isinstance(item, mqtt.MQTTMessage):
                desks.update(refusing(self.rejected, self.device, self._handle, item) or ())
        self._miss_appointments()
        records = self._flush()  # durable before anything is acknowledged or shown
        board_changed = board_changed or any(r["kind"] in BOARD_KINDS for r in records)
        for item in items:  # refused ones too: a refusal is final, the broker must not send it again
            if isinstance(item, mqtt.MQTTMessage) and item.qos > 0:
                self.link.ack(item.mid, item.qos)
        for device, ids in self._recorded.items():  # now the devices may forget them
            for start in range(0, len(ids), contract.MAX_IDS):  # each within the broker's packet limit
                applied = contract.Applied(**self._envelope(), ids=ids[start:start + contract.MAX_IDS])
                self.retained.publish(contract.applied_topic(device), applied)
        for desk in sorted(desks):
            self._publish_desk(desk)
        self._answer_check_ins()
        # While the broker is away nothing is repeated: paho would queue every copy and hand them out at once.
        if board_changed or (self.link.connected and self.monotonic() - self._board_sent >= BOARD_REFRESH_S):
            self._publish_board()
        self._warn_overdue()
        self._publish_positions()
        return len(items)

    def _flush(self) -> list[dict]:
        """Writes the records made since the last flush, in one durable append; returns them."""
        records, self._made = self._made, []
        self.store.append(records)
        return records

    def _warn_overdue(self) -> None:
        """Tells a desk once when its attention passes the site's limit."""
        for desk, turn_id in list(self.ledger.serving.items()):
            if turn_id not in self._warned and self._overdue(turn_id):
                self._warned.add(turn_id)
                self._publish_desk(desk)

    def _overdue(self, turn_id: str) -> bool:
        called = self.ledger.turns[turn_id].called_at
        limit = timedelta(minutes=self.config.desk_settings.attention_limit_min)
        return called is not None and self.now() - datetime.fromisoformat(called) > limit

    def _reload_advisors(self) -> None:
        """Who sits at each desk changes during the day: the site file is re-read when it changes, and only
        the advisors are taken from it (desks and services stay as the day started)."""
        if self._config_path is None:
            return
        try:
            mtime = self._config_path.stat().st_mtime
            if mtime == self._config_mtime:
                return
            self._config_mtime = mtime
            fresh = load_config(self._config_path)
        except (OSError, ConfigError) as exc:
            log.error("the site file changed but cannot be used; advisors unchanged: %s", exc)
            return
        desks = {n: dataclasses.replace(d, advisor=fresh.desks[n].advisor) if n in fresh.desks else d
                 for n, d in self.config.desks.items()}
        self.config = dataclasses.replace(self.config, desks=desks)
        log.info("advisors now: %s", ", ".join(f"{n}: {d.advisor}" for n, d in desks.items()))

    def _handle(self, message: mqtt.MQTTMessage) -> set[int]:
        """Applies one message; returns the desks whose state changed. Whatever it holds, the message is either
        applied or refused (by `refusing`, and acknowledged with the rest of the batch). A fault of ours is
        refused too: the records it made are kept, memory and disk agree."""
        if message.retain:  # replayed by the broker at every subscribe: a fact or a command is never retained
            raise Rejected("a retained copy; facts and commands are never retained (clear it with "
                           "mosquitto_pub -r -n on that topic)")
        kind, device = contract.parse_topic(message.topic)
        handler = {"ticket": self._ticket, "request": self._request, "rating": self._rating,
                   "command": self._command, "checkin": self._check_in}[kind]
        expected = {"ticket": (contract.TicketIssued, contract.TicketVoid), "request": (contract.DeskRequest,),
                    "rating": (contract.Rating,), "command": (contract.Command,),
                    "checkin": (contract.CheckIn,)}[kind]
        event = contract.expect(message.payload, *expected)
        self._note_fact(kind, device, event.id)
        return handler(event, device)

    def _note_fact(self, kind: str, device: str, event_id: str) -> None:
        """A ticket or a rating comes from a device's outbox: once this batch is on disk, the device is told it
        is recorded (applied, a repeat, or refused for good: sending it again would change nothing)."""
        owner = (device if kind == "ticket" and device in self.config.kiosks else
                 contract.desk_device(int(device)) if kind == "rating" and int(device) in self.config.desks else
                 None)
        if owner is not None:
            self._recorded.setdefault(owner, []).append(event_id)

    def _record(self, kind: str, day: str | None = None, **fields) -> dict:
        """A new record: applied to today's ledger at once (the rest of the batch decides on it) and kept in
        `_made` for the batch's durable write."""
        record = {"id": fields.pop("id", None) or contract.new_id(), "kind": kind, "day": day or self.today,
                  "at": fields.pop("at", None) or self.now().isoformat(timespec="milliseconds"), **fields}
        if record["day"] == self.today:
            self.ledger.apply(record)
        elif kind in BOOKING_KINDS:
            self.calendar.apply(record)
        self._made.append(record)
        return record

    # --- facts from devices --------------------------------------------------------------------------

    def _ticket(self, event: contract.TicketIssued | contract.TicketVoid, kiosk: str) -> set[int]:
        if event.source != kiosk:
            raise Rejected(f"ticket from {event.source!r} published on kiosk {kiosk!r}'s topic")
        spec = self.config.kiosks.get(kiosk)
        if spec is None:
            raise Rejected(f"ticket from kiosk {kiosk!r}, which is not configured (kiosks: "
                           f"{', '.join(self.config.kiosks)})")
        if event.service not in self.config.services:
            raise Rejected(f"ticket {event.number} is for unknown service {event.service!r}")
        # The category is not part of a button's identity: a ticket printed before a button was given one (or
        # another) is still the citizen's turn.
        button = (event.service, event.preferential, event.prefix)
        if button not in {(b.service, b.preferential, b.prefix) for b in spec.buttons}:
            raise Rejected(f"ticket {event.number} ({'preferential' if event.preferential else 'normal'}, service "
                           f"{event.service}) matches no button of kiosk {kiosk}")
        if self.ledger.seen.get(event.id) == "impossible":      # refused already, and the kiosk told so
            return set()
        # A kiosk whose clock runs ahead must not hide a citizen in a future day: the turn joins today.
        day = min(event.day, self.today)
        if day < oldest_replayable(self.today):
            raise Rejected(f"ticket {event.number} is for {day}, older than the {REPLAY_DAYS} days a kiosk's "
                           "outbox is taken back")
        if self._repeat(event, ("ticket", "void")):
            if day == self.today and event.turn_id not in self.ledger.turns:  # a kiosk would drop a citizen
                raise Rejected(f"{event.TYPE} {event.id} reuses the id of another turn's ticket; {event.number} "
                               "is NOT recorded")
            return set()
        if day != self.today and self._recorded_on(day, event.id):
            return set()
        if day == self.today and event.turn_id in self.ledger.turns:
            raise Rejected(f"{event.TYPE} {event.id} is about turn {event.number}, which is already recorded")
        void = isinstance(event, contract.TicketVoid)
        extra = {"reason": event.reason} if void else {}
        received = self.now().isoformat(timespec="milliseconds")
        if not self.pace.admits(kiosk, button, datetime.fromisoformat(event.at)):
            self._record("impossible", day, id=event.id, kiosk=kiosk, number=event.number, service=event.service,
                         device_at=event.at, received_at=received)
            raise Rejected(f"{event.TYPE} {event.number} at {event.at}: more than kiosk {kiosk}'s button could give "
                           f"({self.config.press_limit} in {self.config.press_window_s} s); NOT recorded as a turn")
        at = self._plausible_time(event, day, received)
        if at != event.at:
            extra["device_at"] = event.at
        if event.category:
            extra["category"] = event.category
        self._record("void" if void else "ticket", day, id=event.id, at=at, turn_id=event.turn_id,
                     number=event.number, service=event.service, preferential=event.preferential, kiosk=kiosk,
                     received_at=received, **extra)
        if void:
            log.warning("%s: number %s void: %s", kiosk, event.number, contract.shown(event.reason, 200))
        elif day < self.today:  # replayed after the day it was for: recorded, and closed as never served
            self._record("close", day, turn_id=event.turn_id, desk=None, outcome="unattended", request_id=None)
        return set()

    def _pace_of_today(self) -> Pace:
        """The buttons' pace, counting the tickets already recorded today (after a restart too)."""
        pace = Pace(self.config.press_limit, self.config.press_window_s)
        for turn in self.ledger.turns.values():
            if turn.kiosk in self.config.kiosks and ">" not in turn.turn_id:     # not a transfer's second turn
                button = (turn.service, turn.preferential, turn.number.split("-")[0])
                pace.admits(turn.kiosk, button, datetime.fromisoformat(turn.issued_at))
        return pace

    def _plausible_time(self, event: contract.Message, day: str, received: str) -> str:
        """The kiosk's time of a ticket orders the queue and measures the wait: one that cannot be true (before
        its day began, or later than now) is replaced by the hub's receive time, and the kiosk's is kept."""
        if plausible(datetime.fromisoformat(event.at), day, self.now(), self.config.timezone):
            return event.at
        log.warning("%s: %s %s says it happened at %s, which cannot be; the hub's time %s is used", event.source,
                    event.TYPE, event.id, event.at, received)
        return received

    def _recorded_on(self, day: str, record_id: str) -> bool:
        """Whether an earlier day's file has the record, or this batch is about to write it there (two copies of
        one replayed ticket can come in one batch)."""
        return self.store.has(day, record_id) or any(r["id"] == record_id for r in self._made)

    def _repeat(self, event: contract.Message, kinds: tuple[str, ...]) -> bool:
        """Whether an event's id is already recorded today as one of `kinds` (a repeat, applied once). Ids are
        one namespace: an id recorded as anything else is refused, or a NEXT that reused a ticket's id would
        never be answered and every resend would call another citizen."""
        kind = self.ledger.seen.get(event.id)
        if kind is not None and kind not in kinds:
            raise Rejected(f"{event.TYPE} {event.id} reuses the id of a {kind} already recorded")
        return kind is not None

    def _request(self, request: contract.DeskRequest, desk_text: str) -> set[int]:
        desk = self.config.desks.get(request.desk)
        if desk is None or str(request.desk) != desk_text:
            raise Rejected(f"request for desk {request.desk} on topic of desk {desk_text} (configured desks: "
                           f"{', '.join(map(str, self.config.desks))})")
        if request.source != contract.desk_device(desk.number):
            raise Rejected(f"request from {request.source!r} for desk {desk.number}")
        if self._repeat(request, ("request",)):  # the retained answer is published again
            return {desk.number}
        serving = self.ledger.serving.get(desk.number)
        stale = request.on_counter is not None and request.on_counter != (serving or "")
        refusal = None if stale else self._refusal(request, serving)
        self._record("request", id=request.id, desk=desk.number, action=request.action, device_at=request.at,
                     **({"refused": refusal} if refusal else {}))
        if stale:
            # The advisor pressed for another turn than the one this desk serves: its counter showed an old state
            # (a broker restored from an older save). Answered with the turn it serves; nobody closed or called.
            log.warning("desk %d: %s pressed for %s, but the desk serves %s; answered, nothing done",
                        desk.number, request.action, request.on_counter or "nobody", serving or "nobody")
            return {desk.number}
        if refusal:
            log.info("desk %d: %s %s refused: %s", desk.number, request.action, request.service or "", refusal)
            return {desk.number}
        if request.action == "sign_in":   # the advisor's code typed on the pad: recorded as the page's sign-in is
            self._record("advisor", desk=desk.number, advisor=self.config.desk_settings.advisor_codes[request.code],
                         request_id=request.id)
            return {desk.number}
        if request.action in ("pause", "close"):   # the attention served ends, and nobody else is called
            if serving:
                self._record("close", turn_id=serving, desk=desk.number, outcome="attended", request_id=request.id)
            self._set_status(desk.number, "paused" if request.action == "pause" else "closed", request.id)
            return {desk.number}
        if request.action == "next":   # NEXT at a paused or closed desk opens it
            self._set_status(desk.number, "open", request.id)
        if request.action == "recall" and serving:
            self._call(serving, desk, request.id, recall=True)
        elif request.action in ("next", "no_show", "transfer") and serving:
            outcome = {"next": "attended", "no_show": "no_show", "transfer": "transferred"}[request.action]
            self._record("close", turn_id=serving, desk=desk.number, outcome=outcome, request_id=request.id)
            if request.action == "transfer":
                self._transfer(serving, request)
        if request.action == "next":
            turn = choose_next(self.ledger.waiting(), desk.services, policy=self.config.queue,
                               preferential_streak=self.ledger.preferential_streak.get(desk.number, 0),
                               now=self.now())
            if turn is not None:
                self._call(turn.turn_id, desk, request.id, recall=False)
        return {desk.number}

    def _refusal(self, request: contract.DeskRequest, serving: str | None) -> str | None:
        """Why the hub will not do what the desk asks, in words for its counter display (at most
        contract.REFUSAL_CHARS): the desk shows them instead of waiting for an answer that never comes. None: it
        will."""
        if request.action in ("recall", "no_show", "transfer") and not serving:
            return contract.REFUSALS["nobody"]
        if request.action == "sign_in" and request.code not in self.config.desk_settings.advisor_codes:
            return contract.REFUSALS["code"]
        if request.action != "transfer":
            return None
        if request.service not in self.config.services:   # a desk with another version of the site file
            return contract.REFUSALS["unknown"]
        if request.service == self.ledger.turns[serving].service:
            return contract.REFUSALS["same"]
        if request.service not in self.config.attended_services():
            return contract.REFUSALS["unattended"]
        return None

    def _transfer(self, turn_id: str, request: contract.DeskRequest) -> dict:
        """The citizen keeps the number and joins the other service's queue: at the front (by the time the
        ticket was printed, older than almost everyone waiting) or at the back (from now), as the site says."""
        origin = self.ledger.turns[turn_id]
        queued_at = origin.issued_at if self.config.desk_settings.transfer_front else self.now().isoformat()
        return self._record("transfer", turn_id=f"{turn_id}>{request.service}", from_turn=turn_id,
                            service=request.service, queued_at=queued_at, request_id=request.id)

    def _call(self, turn_id: str, desk, request_id: str, *, recall: bool, by: str | None = None) -> dict:
        return self._record("call", turn_id=turn_id, desk=desk.number, advisor=advisor_at(self.ledger, self.config,
                                                                                          desk.number),
                            request_id=request_id, recall=recall, **_by(by))

    def _set_status(self, number: int, status: str, request_id: str, by: str | None = None) -> None:
        if self.ledger.desk_status(number) != status:
            self._record("desk", desk=number, status=status, advisor=advisor_at(self.ledger, self.config, number),
                         request_id=request_id, **_by(by))
        if status == "closed" and number in self.ledger.signed_in:   # a closed desk has nobody signed in
            self._record("advisor", desk=number, advisor="", request_id=request_id, **_by(by))

    # --- the coordinators' orders ----------------------------------------------------------------------

    def _command(self, command: contract.Command, _device: str) -> set[int]:
        """Carried out, or refused with the reason the page shows; either way recorded once, with the
        coordinator's name, in the same durable batch as what it did."""
        if command.source not in ("hub-web", contract.CENTRAL_SOURCE):
            raise Rejected(f"command from {command.source!r}: only the coordinators' pages (hub-web, central-web) "
                           "give them")
        if command.source == contract.CENTRAL_SOURCE and (command.action not in contract.CENTRAL_ACTIONS
                                                           or command.name or command.phone):
            raise Rejected(f"the central ordered {command.action!r} (with a name or phone: "
                           f"{bool(command.name or command.phone)}): from it, only appointments, no personal data")
        if self._repeat(command, ("command",)):
            return set()
        try:
            self._in_time(command)
            desks, refusal = getattr(self, f"_order_{command.action}")(command), None
        except Refused as exc:
            desks, refusal = set(), str(exc)
        # The citizen's name and phone stay out of the journal (records.contacts keeps them).
        order = {key: value for key, value in command.body().items()
                 if key not in ("v", "type", "id", "at", "source", "name", "phone")}
        self._record("command", id=command.id, action=command.action, coordinator=command.coordinator, order=order,
                     **({"refused": refusal} if refusal else {}), **self._appointment_made(command.id))
        log.info("%s ordered %s: %s", command.coordinator, command.action, refusal or "done")
        return desks

    def _in_time(self, command: contract.Command) -> None:
        """An order of the central's that a WAN outage held back is refused: the coordinator saw no answer."""
        if command.source == contract.CENTRAL_SOURCE and \
                (self.now() - datetime.fromisoformat(command.at)).total_seconds() > contract.CENTRAL_ORDER_S:
            raise Refused("La orden de la central llegó a la sede demasiado tarde (la conexión estuvo caída): no se "
                          "hizo. Revise las citas y repítala si hace falta.")

    def _appointment_made(self, command_id: str) -> dict:
        """What an appointment order made, for the page to say: the appointment booked and its slot, or the
        number of the turn checked in."""
        for r in self._made:
            if r.get("request_id") == command_id and r["kind"] in ("booking", "checkin"):
                return {key: r[key] for key in ("appointment", "slot", "number") if key in r}
        return {}

    def _desk_named(self, command: contract.Command):
        desk = self.config.desks.get(command.desk)
        if desk is None:
            raise Refused(f"El módulo {command.desk} no existe en este sitio.")
        return desk

    def _order_desk_status(self, command: contract.Command) -> set[int]:
        desk = self._desk_named(command)
        if self.ledger.desk_status(desk.number) == command.status:
            raise Refused(f"{desk.name} ya está {contract.DESK_STATUS_NAMES[command.status]}.")
        self._set_status(desk.number, command.status, command.id, by=command.coordinator)
        return {desk.number}

    def _order_advisor(self, command: contract.Command) -> set[int]:
        desk = self._desk_named(command)
        if advisor_at(self.ledger, self.config, desk.number) == command.advisor:
            raise Refused(f"{command.advisor} ya está en {desk.name}.")
        self._record("advisor", desk=desk.number, advisor=command.advisor, request_id=command.id,
                     by=command.coordinator)
        return {desk.number}

    def _order_call(self, command: contract.Command) -> set[int]:
        desk = self._desk_named(command)
        if self.ledger.desk_status(desk.number) != "open":
            status = contract.DESK_STATUS_NAMES[self.ledger.desk_status(desk.number)]
            raise Refused(f"{desk.name} está {status}: ábralo antes.")
        turn = next((t for t in self.ledger.queue.values() if t.number == command.number), None)
        if turn is None:
            raise Refused(f"El turno {command.number} no está en espera.")
        if turn.service not in desk.services:   # its advisor does not do that: the citizen would be sent back
            service = self.config.services[turn.service].name
            others = [d.name for d in self.config.desks.values() if turn.service in d.services]
            raise Refused(f"{desk.name} no atiende {service}: " + (
                f"llame el turno {turn.number} a {either(others)}." if others else
                f"ningún módulo lo atiende; traslade el turno {turn.number} a otro servicio."))
        serving = self.ledger.serving.get(desk.number)
        if serving:
            raise Refused(f"{desk.name} atiende el turno {self.ledger.turns[serving].number}: ciérrelo antes de "
                          "llamar otro.")
        self._call(turn.turn_id, desk, command.id, recall=False, by=command.coordinator)
        return {desk.number}

    def _order_reinstate(self, command: contract.Command) -> set[int]:
        if any(t.number == command.number for t in self.ledger.unfinished()):
            raise Refused(f"El turno {command.number} ya está en espera o en atención.")
        absent = [t for t in self.ledger.turns.values() if t.number == command.number and t.outcome == "no_show"]
        if not absent:
            raise Refused(f"El turno {command.number} no figura hoy como ausente.")
        self._record("reinstate", turn_id=absent[-1].turn_id, request_id=command.id, by=command.coordinator)
        return set()

    def _order_undo_next(self, command: contract.Command) -> set[int]:
        desk = self._desk_named(command)
        last = self.ledger.last_next.get(desk.number)
        if last is None or (last["closed"] is None and last["called"] is None):
            raise Refused(f"{desk.name} no tiene un SIGUIENTE que deshacer: no lo hubo hoy, o después ocurrió algo "
                          "más en el módulo.")
        self._record("undo", desk=desk.number, undone=last["request"], closed_turn=last["closed"],
                     called_turn=last["called"], seconds=last["seconds"], request_id=command.id,
                     by=command.coordinator)
        return {desk.number}

    def _order_manual(self, command: contract.Command) -> set[int]:
        """An attention given on paper while the system was down, filed under its own day as a closed turn."""
        desk = self._desk_named(command)
        if command.service not in self.config.services:
            raise Refused(f"El servicio {command.service} no existe en este sitio.")
        day = command.issued_at[:10]
        oldest = (date.fromisoformat(self.today) - timedelta(days=MANUAL_DAYS)).isoformat()
        if not oldest <= day <= self.today:
            raise Refused(f"Las atenciones manuales se registran para los últimos {MANUAL_DAYS} días, hasta hoy; "
                          f"{day} no lo es.")
        prefix, digits = contract.NUMBER.fullmatch(command.number).groups()
        turn_id = f"{day}/manual/{prefix}{digits}"
        record_id = f"manual:{turn_id}"
        if record_id in self.ledger.seen if day == self.today else self._recorded_on(day, record_id):
            raise Refused(f"El número {command.number} ya está registrado el {day}.")
        self._record("manual", day, id=record_id, at=command.closed_at, turn_id=turn_id, number=command.number,
                     service=command.service, desk=desk.number, advisor=command.advisor,
                     issued_at=command.issued_at, called_at=command.called_at, closed_at=command.closed_at,
                     outcome=command.outcome, request_id=command.id, by=command.coordinator)
        return set()

    # --- appointments (docs/appointments.md) -----------------------------------------------------------

    def _service_booked(self, service: str) -> str:
        """The service's name, if the site books appointments for it."""
        if self.config.appointments is None:
            raise Refused("Este sitio no da citas: su archivo de sitio no tiene [appointments].")
        if service not in self.config.services:
            raise Refused(f"El servicio {service} no existe en este sitio.")
        name = self.config.services[service].name
        if not self.calendar.capacity(service):
            raise Refused(f"{name} no tiene citas: el archivo de sitio no le da cupo.")
        return name

    def _bookable(self, service: str, slot_text: str) -> datetime:
        name = self._service_booked(service)
        slot = datetime.fromisoformat(slot_text).astimezone(self.config.timezone)
        refusal = self.calendar.slots.refusal(slot, self.now())
        if refusal:
            raise Refused(refusal)
        capacity = self.calendar.capacity(service)
        if self.calendar.taken(service, slot) >= capacity:
            raise Refused(f"La hora {clock(slot)} del {long_date(slot.date())} ya tiene {capacity} "
                          f"{'cita' if capacity == 1 else 'citas'} de {name}, su cupo: elija otra.")
        return slot

    def _booking(self, command: contract.Command) -> Booking:
        """The appointment an order names, still to come."""
        booking = self.calendar.find(command.appointment) if self.config.appointments else None
        if booking is None:
            raise Refused("Esa cita no existe en este sitio.")
        if booking.status != BOOKED:
            raise Refused(f"La cita de las {clock(datetime.fromisoformat(booking.slot))} del "
                          f"{long_date(date.fromisoformat(booking.day))} ya {_STATUS_SAID[booking.status]}.")
        return booking

    def _book(self, command: contract.Command, slot: datetime, code: str | None = None,
              contact: dict | None = None) -> set[int]:
        day = slot.date().isoformat()
        code = code or self.calendar.new_code()
        contact = contact or {key: value for key in ("name", "phone") if (value := getattr(command, key))}
        if contact:    # with consent only (the contract refuses a name or phone without it)
            self.calendar.contacts.put(day, code, contact)
        self._record("booking", day, appointment=code, service=command.service, slot=slot.isoformat(),
                     contact=bool(contact), request_id=command.id, by=command.coordinator)
        return set()

    def _order_book(self, command: contract.Command) -> set[int]:
        return self._book(command, self._bookable(command.service, command.slot))

    def _order_book_first(self, command: contract.Command) -> set[int]:
        name = self._service_booked(command.service)
        slot = self.calendar.first_free(command.service, self.now())
        if slot is None:
            raise Refused(f"No quedan citas de {name} en los próximos {self.config.appointments.days_ahead} días.")
        return self._book(command, slot)

    def _order_cancel_booking(self, command: contract.Command) -> set[int]:
        booking = self._booking(command)
        self._record("booking_cancel", booking.day, appointment=booking.appointment, request_id=command.id,
                     by=command.coordinator)
        self.calendar.contacts.put(booking.day, booking.appointment, None)
        return set()

    def _order_move_booking(self, command: contract.Command) -> set[int]:
        booking = self._booking(command)
        slot = datetime.fromisoformat(command.slot).astimezone(self.config.timezone)
        if slot.timestamp() == booking.slot_s:
            raise Refused(f"La cita ya es a las {clock(slot)} del {long_date(slot.date())}.")
        slot = self._bookable(booking.service, command.slot)
        self._record("booking_move", booking.day, appointment=booking.appointment, slot=slot.isoformat(),
                     request_id=command.id, by=command.coordinator)
        if slot.date().isoformat() != booking.day:   # the same code, filed under its new day
            contact = self.calendar.contacts.of_day(booking.day).get(booking.appointment)
            self.calendar.contacts.put(booking.day, booking.appointment, None)
            self._book(dataclasses.replace(command, service=booking.service), slot, booking.appointment, contact)
        return set()

    def _order_check_in(self, command: contract.Command) -> set[int]:
        made = self._admit(command.appointment, RECEPTION, command.id, by=command.coordinator)
        if isinstance(made, str):
            raise Refused(made)
        return set()

    def _check_in(self, scan: contract.CheckIn, kiosk: str) -> set[int]:
        """A kiosk's reader read a slip: the first scan of a code gets the turn, every other one the reason why
        not, each recorded once by the scan's id and answered (again, for a resend) after the batch's write."""
        if scan.source != kiosk or kiosk not in self.config.kiosks:
            raise Rejected(f"check-in from {scan.source!r} on kiosk {kiosk!r}'s topic")
        if self.config.appointments is None:
            raise Rejected("a check-in, but this site books no appointments")
        if not self._repeat(scan, ("checkin", "checkin_refused")):
            made = self._admit(scan.appointment, kiosk, scan.id, record_id=scan.id)
            if isinstance(made, str):
                log.info("%s: appointment scan refused: %s", kiosk, made)
                self._record("checkin_refused", id=scan.id, appointment=scan.appointment, kiosk=kiosk, reason=made,
                             request_id=scan.id)
        self._answers.append(self.ledger.bookings.answers[scan.id])
        return set()

    def _admit(self, code: str, kiosk: str, request_id: str, *, record_id: str | None = None,
               by: str | None = None) -> dict | str:
        """The checkin record of an appointment of today, or (text) why there is none."""
        booking = self.calendar.find(code)
        if booking is None:
            return "Este código no corresponde a ninguna cita de este sitio."
        slot = datetime.fromisoformat(booking.slot).astimezone(self.config.timezone)
        when = f"el {long_date(slot.date())} a las {clock(slot)}"
        if booking.status == CANCELLED:
            return f"Esta cita, del {when[3:]}, fue cancelada."
        if booking.status == CHECKED_IN:
            arrived = datetime.fromisoformat(booking.arrived_at).astimezone(self.config.timezone)
            return f"Esta cita ya se registró a las {clock(arrived)}: su turno es el {booking.number}."
        if booking.day > self.today:
            return f"Su cita es {when}: preséntese ese día con este comprobante."
        if booking.day < self.today:
            return f"Su cita era {when}; esa fecha ya pasó."
        late = self.now() > slot + timedelta(minutes=self.config.appointments.grace_min)
        prefix = appointment_prefix(booking.service)
        digits = f"{self.ledger.bookings.numbered.get(prefix, 0) + 1:03d}"
        return self._record("checkin", id=record_id, appointment=code, turn_id=f"{self.today}/{kiosk}/{prefix}{digits}",
                            number=f"{prefix}-{digits}", service=booking.service, kiosk=kiosk, slot=booking.slot,
                            late=late, request_id=request_id, **_by(by))

    def _answer_check_ins(self) -> None:
        """Each scan of the batch answered on its kiosk's topic, now that what it decided is on disk."""
        answers, self._answers = self._answers, []
        for record in answers:
            turn = ({"reason": record["reason"]} if record["kind"] == "checkin_refused" else
                    {key: record[key] for key in ("turn_id", "number", "service", "slot", "late")})
            answer = contract.CheckInAnswer(**self._envelope(), answered=record["request_id"],
                                            appointment=record["appointment"], **turn)
            self.link.publish(contract.check_in_answer_topic(record["kiosk"]), answer.to_json(),
                              expiry_s=ANSWER_EXPIRY_S)

    def _miss_appointments(self) -> None:
        """An appointment whose time and grace have passed with nobody is recorded as missed (once)."""
        if self.config.appointments is None:
            return
        limit = (self.now() - timedelta(minutes=self.config.appointments.grace_min)).timestamp()
        for booking in list(self.ledger.bookings.by_code.values()):
            if booking.status == BOOKED and booking.slot_s < limit:
                self._record("missed", appointment=booking.appointment)

    def _rating(self, rating: contract.Rating, desk_text: str) -> set[int]:
        if str(rating.desk) != desk_text or rating.source != contract.desk_device(rating.desk):
            raise Rejected(f"rating from {rating.source!r} for desk {rating.desk} on topic of desk {desk_text}")
        if self._repeat(rating, ("rating",)):
            return set()
        turn = self.ledger.turns.get(rating.turn_id)
        if turn is None or turn.desk != rating.desk:
            raise Rejected(f"rating {rating.value} for turn {rating.turn_id}, which desk {rating.desk} has not "
                           "served today")
        if turn.rating is not None:
            raise Rejected(f"turn {turn.number} is already rated {turn.rating}; a second rating {rating.value} "
                           "is ignored")
        self._record("rating", id=rating.id, at=rating.at, turn_id=turn.turn_id, desk=rating.desk,
                     advisor=turn.advisor, value=rating.value,
                     received_at=self.now().isoformat(timespec="milliseconds"))
        return set()

    # --- the day -------------------------------------------------------------------------------------

    def _roll_day(self) -> None:
        """At the first event of a new day, turns left over from the previous one close as unattended. A clock
        that says an earlier day is not followed: the hub stays on its day until the clock catches up."""
        today = self.now().date().isoformat()
        if not self.day.reaches(today):
            return
        self._miss_appointments()   # those of the day that ends
        leftovers = self.ledger.unfinished()
        for turn in leftovers:
            self._record("close", turn_id=turn.turn_id, desk=turn.desk, outcome="unattended", request_id=None)
        self._flush()
        log.info("new service day %s; %d turn(s) of %s closed as unattended", today, len(leftovers), self.today)
        self.store.close()  # the old day's records leave memory (a late event for it reopens its file)
        self.day.today, self.ledger = today, fold(self.store.resume(today))   # it may hold its appointments
        self.calendar.load(today, self.ledger.bookings)
        self.positions.forget()
        self.pace.forget()
        self._past = past_attentions(self.store, date.fromisoformat(today), self.config.timezone)
        self._warned.clear()
        self._publish_board()
        for desk in self.config.desks:
            self._publish_desk(desk)

    # --- retained state ------------------------------------------------------------------------------

    def _envelope(self) -> dict:
        return {"id": contract.new_id(), "at": self.now().isoformat(timespec="milliseconds"), "source": self.device}

    def _publish_desk(self, number: int) -> None:
        turn_id = self.ledger.serving.get(number)
        overdue = turn_id in self.ledger.turns and self._overdue(turn_id)
        self.retained.publish(contract.desk_state_topic(number),
                              build_desk_state(self.ledger, self.config, number, self._envelope(), overdue=overdue))

    def board(self) -> contract.Board:
        return build_board(self.ledger, self.config, self._envelope(), Past(self._past, self.now().hour))

    def _publish_board(self) -> None:
        board = self.board()
        self.retained.publish(contract.BOARD_TOPIC, board)
        self._board_sent = self.monotonic()
        self._positions_due = board

    def _publish_positions(self) -> None:
        """The turns' positions after the board they follow, at most every POSITIONS_EVERY_S: a phone reads them
        every few seconds, and a NEXT must not wait for each batch's. Not while the broker is away: paho would keep
        every copy (a shard a second, an outage long); the reconnection sends them all anew."""
        if self._positions_due is None or not self.link.connected \
                or self.monotonic() - self._positions_sent < POSITIONS_EVERY_S:
            return
        board, self._positions_due, self._positions_sent = self._positions_due, None, self.monotonic()
        try:
            self.positions.publish(self.ledger, board, self.today, self.now(), self._envelope)
            self._positions_failing = False
        except Exception:   # the page is the citizens' extra: a fault of ours there never stops the queue
            if not self._positions_failing:     # said once, not every second
                log.exception("the positions of the \"Mi turno\" page were not published; the hub goes on")
            self._positions_failing = True

    def healthy(self) -> bool:
        """For the watchdog: the loop runs, and what it decides reaches the devices."""
        return self.retained.fits and not self.link.flapping
