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
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.config import ConfigError, SiteConfig
from appliance.config import load as load_config
from appliance.contract import ContractError
from appliance.link import Connected, Link

from .ledger import CALLED, HISTORY, WAITING, Ledger, fold
from .policy import choose_next
from .store import DayStore

log = logging.getLogger(__name__)
BATCH = 500


class Rejected(Exception):
    """A well-formed message that cannot be applied; the text says why."""


class Hub:
    device = "hub"

    def __init__(self, config: SiteConfig, state_dir: Path, *, now=None, config_path: Path | None = None):
        self.config = config
        self._config_path = config_path
        self._config_mtime = config_path.stat().st_mtime if config_path else None
        self._warned: set[str] = set()  # turns whose desk was told the attention is over the limit
        self.now = now or (lambda: datetime.now(config.timezone))
        self.inbox: queue.Queue = queue.Queue()
        self.store = DayStore(Path(state_dir) / "days")
        # The day never goes back: a Pi has no clock battery, and fake-hwclock restores at boot the time it last
        # saved. A clock set back keeps the newest day already recorded, its waiting turns still waiting.
        self.today = max([self.now().date().isoformat(), *self.store.days()])
        self._clock_behind = False
        self.ledger = fold(self.store.day(self.today))
        self.rejected = contract.Refusals()
        self._recorded: dict[str, list[str]] = {}   # device -> ids of its facts the batch records (Applied)
        self.link = Link(self.device, config.broker, self.inbox, persistent_session=True, manual_ack=True, now=self.now,
                         subscriptions=(contract.TICKETS_ALL, contract.REQUESTS_ALL, contract.RATINGS_ALL))

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        self.store.close()

    # --- the loop ------------------------------------------------------------------------------------

    def step(self, timeout: float = 0.5) -> int:
        """Handles one batch from the inbox (what arrived within `timeout`); returns how many items it took."""
        items = []
        try:
            items.append(self.inbox.get(timeout=timeout))
            while len(items) < BATCH:
                items.append(self.inbox.get_nowait())
        except queue.Empty:
            pass
        self._roll_day()
        self._reload_advisors()
        self._recorded.clear()
        records, desks, board = [], set(), False
        for item in items:
            if isinstance(item, Connected):
                desks.update(self.config.desks)
                board = True
            elif isinstance(item, mqtt.MQTTMessage):
                new, touched = self._handle(item)
                records.extend(new)
                desks.update(touched)
                board = board or any(r["kind"] in ("ticket", "call") for r in new)
        self.store.append(records)  # durable before anything is acknowledged or shown
        for item in items:
            if isinstance(item, mqtt.MQTTMessage) and item.qos > 0:
                self.link.ack(item.mid, item.qos)
        for device, ids in self._recorded.items():  # now the devices may forget them
            applied = contract.Applied(**self._envelope(), ids=ids)
            self.link.publish(contract.applied_topic(device), applied.to_json(), retain=True)
        for desk in sorted(desks):
            self._publish_desk(desk)
        if board:
            self._publish_board()
        self._warn_overdue()
        return len(items)

    def _warn_overdue(self) -> None:
        """Tells a desk once when its attention passes the site's limit."""
        for desk, turn_id in list(self.ledger.serving.items()):
            if turn_id not in self._warned and self._overdue(turn_id):
                self._warned.add(turn_id)
                self._publish_desk(desk)

    def _overdue(self, turn_id: str) -> bool:
        called = self.ledger.turns[turn_id].called_at
        limit = timedelta(minutes=self.config.desk.attention_limit_min)
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

    def _handle(self, message: mqtt.MQTTMessage) -> tuple[list[dict], set[int]]:
        try:
            kind, device = contract.parse_topic(message.topic)
            handler = {"ticket": self._ticket, "request": self._request, "rating": self._rating}[kind]
            expected = {"ticket": (contract.TicketIssued, contract.TicketVoid), "request": (contract.DeskRequest,),
                        "rating": (contract.Rating,)}[kind]
            event = contract.expect(message.payload, *expected)
            self._note_fact(kind, device, event.id)
            return handler(event, device)
        except (ContractError, Rejected) as exc:
            self.rejected.note(self.device, message.topic, exc)
            return [], set()

    def _note_fact(self, kind: str, device: str, event_id: str) -> None:
        """A ticket or a rating comes from a device's outbox: once this batch is on disk, the device is told it
        is recorded (applied, a repeat, or refused for good: sending it again would change nothing)."""
        owner = (device if kind == "ticket" and device in self.config.kiosks else
                 contract.desk_device(int(device)) if kind == "rating" and int(device) in self.config.desks else
                 None)
        if owner is not None:
            self._recorded.setdefault(owner, []).append(event_id)

    def _record(self, kind: str, day: str | None = None, **fields) -> dict:
        record = {"id": fields.pop("id", None) or contract.new_id(), "kind": kind, "day": day or self.today,
                  "at": fields.pop("at", None) or self.now().isoformat(timespec="milliseconds"), **fields}
        if record["day"] == self.today:
            self.ledger.apply(record)
        return record

    # --- facts from devices --------------------------------------------------------------------------

    def _ticket(self, event: contract.TicketIssued | contract.TicketVoid, kiosk: str):
        if event.source != kiosk:
            raise Rejected(f"ticket from {event.source!r} published on kiosk {kiosk!r}'s topic")
        if kiosk not in self.config.kiosks or event.turn_id.split("/")[1] != kiosk:
            raise Rejected(f"ticket {event.turn_id!r} from kiosk {kiosk!r} (configured kiosks: "
                           f"{', '.join(self.config.kiosks)})")
        if event.service not in self.config.services:
            raise Rejected(f"ticket {event.number} is for unknown service {event.service!r}")
        # A kiosk whose clock runs ahead must not hide a citizen in a future day: the turn joins today.
        day = min(event.turn_id[:10], self.today)
        if event.id in self.ledger.seen or (day != self.today and self.store.has(day, event.id)):
            return [], set()
        if day == self.today and event.turn_id in self.ledger.turns:
            raise Rejected(f"{event.TYPE} {event.id} is about turn {event.number}, which is already recorded")
        void = isinstance(event, contract.TicketVoid)
        extra = {"reason": event.reason} if void else {}
        records = [self._record("void" if void else "ticket", day, id=event.id, at=event.at,
                                turn_id=event.turn_id, number=event.number, service=event.service,
                                preferential=event.preferential, kiosk=kiosk,
                                received_at=self.now().isoformat(timespec="milliseconds"), **extra)]
        if void:
            log.warning("%s: number %s void: %s", kiosk, event.number, event.reason)
        elif day < self.today:  # replayed after the day it was for: recorded, and closed as never served
            records.append(self._record("close", day, turn_id=event.turn_id, desk=None, outcome="unattended",
                                        request_id=None))
        return records, set()

    def _request(self, request: contract.DeskRequest, desk_text: str):
        desk = self.config.desks.get(request.desk)
        if desk is None or str(request.desk) != desk_text:
            raise Rejected(f"request for desk {request.desk} on topic of desk {desk_text} (configured desks: "
                           f"{', '.join(map(str, self.config.desks))})")
        if request.id in self.ledger.requests:  # a repeat: the retained answer is published again
            return [], {desk.number}
        if request.action == "transfer" and request.service not in self.config.services:  # before any record
            raise Rejected(f"transfer from desk {desk.number} to unknown service {request.service!r}")
        records = [self._record("request", id=request.id, desk=desk.number, action=request.action,
                                device_at=request.at)]
        serving = self.ledger.serving.get(desk.number)
        if request.action == "recall" and serving:
            records.append(self._call(serving, desk, request.id, recall=True))
        elif request.action in ("next", "no_show", "transfer") and serving:
            outcome = {"next": "attended", "no_show": "no_show", "transfer": "transferred"}[request.action]
            records.append(self._record("close", turn_id=serving, desk=desk.number, outcome=outcome,
                                        request_id=request.id))
            if request.action == "transfer":
                records.append(self._transfer(serving, request))
        if request.action == "next":
            turn = choose_next(self.ledger.waiting(), desk.services, policy=self.config.queue,
                               preferential_streak=self.ledger.preferential_streak.get(desk.number, 0),
                               now=self.now())
            if turn is not None:
                records.append(self._call(turn.turn_id, desk, request.id, recall=False))
        return records, {desk.number}

    def _transfer(self, turn_id: str, request: contract.DeskRequest) -> dict:
        """The citizen keeps the number and joins the other service's queue: at the front (by the time the
        ticket was printed, older than almost everyone waiting) or at the back (from now), as the site says."""
        origin = self.ledger.turns[turn_id]
        queued_at = origin.issued_at if self.config.desk.transfer_front else self.now().isoformat()
        return self._record("transfer", turn_id=f"{turn_id}>{request.service}", from_turn=turn_id,
                            service=request.service, queued_at=queued_at, request_id=request.id)

    def _call(self, turn_id: str, desk, request_id: str, *, recall: bool) -> dict:
        advisor = self.config.desks[desk.number].advisor
        return self._record("call", turn_id=turn_id, desk=desk.number, advisor=advisor, request_id=request_id,
                            recall=recall)

    def _rating(self, rating: contract.Rating, desk_text: str):
        if str(rating.desk) != desk_text:
            raise Rejected(f"rating for desk {rating.desk} on topic of desk {desk_text}")
        if rating.id in self.ledger.seen:
            return [], set()
        turn = self.ledger.turns.get(rating.turn_id)
        if turn is None or turn.desk != rating.desk:
            raise Rejected(f"rating {rating.value} for turn {rating.turn_id}, which desk {rating.desk} has not "
                           "served today")
        if turn.rating is not None:
            raise Rejected(f"turn {turn.number} is already rated {turn.rating}; a second rating {rating.value} "
                           "is ignored")
        return [self._record("rating", id=rating.id, at=rating.at, turn_id=turn.turn_id, desk=rating.desk,
                             advisor=turn.advisor, value=rating.value,
                             received_at=self.now().isoformat(timespec="milliseconds"))], set()

    # --- the day -------------------------------------------------------------------------------------

    def _roll_day(self) -> None:
        """At the first event of a new day, turns left over from the previous one close as unattended. A clock
        that says an earlier day is not followed: the hub stays on its day until the clock catches up."""
        today = self.now().date().isoformat()
        if today < self.today:
            if not self._clock_behind:
                log.error("the clock says %s but the service day is already %s: the clock was set back (no clock "
                          "battery, or fake-hwclock's last saved time); staying on %s until it catches up. Check "
                          "the time: chronyc tracking, timedatectl", today, self.today, self.today)
            self._clock_behind = True
            return
        self._clock_behind = False
        if today == self.today:
            return
        leftovers = [t for t in self.ledger.turns.values() if t.status in (WAITING, CALLED)]
        self.store.append([self._record("close", turn_id=t.turn_id, desk=t.desk, outcome="unattended",
                                        request_id=None) for t in leftovers])
        log.info("new service day %s; %d turn(s) of %s closed as unattended", today, len(leftovers), self.today)
        self.store.close()  # the old day's records leave memory (a late event for it reopens its file)
        self.today, self.ledger = today, Ledger()
        self._warned.clear()
        self._publish_board()
        for desk in self.config.desks:
            self._publish_desk(desk)

    # --- retained state ------------------------------------------------------------------------------

    def _envelope(self) -> dict:
        return {"id": contract.new_id(), "at": self.now().isoformat(timespec="milliseconds"), "source": self.device}

    def _publish_desk(self, number: int) -> None:
        turn = self.ledger.turns.get(self.ledger.serving.get(number, ""))
        serving = None
        if turn is not None:
            serving = {"turn_id": turn.turn_id, "number": turn.number, "service": turn.service,
                       "service_name": self.config.services[turn.service].name,
                       "preferential": turn.preferential, "called_at": turn.called_at}
        state = contract.DeskState(**self._envelope(), desk=number, serving=serving,
                                   answered=self.ledger.answered.get(number),
                                   overdue=turn is not None and self._overdue(turn.turn_id))
        self.link.publish(contract.desk_state_topic(number), state.to_json(), retain=True)

    def board(self) -> contract.Board:
        calls = []
        # At least every call of one batch (one per desk): a display that lists fewer would never announce some.
        for record in islice(self.ledger.calls, max(HISTORY, len(self.config.desks))):
            turn = self.ledger.turns[record["turn_id"]]
            calls.append(contract.Call(
                id=record["id"], at=record["at"], source=self.device, turn_id=turn.turn_id, number=turn.number,
                service=turn.service, service_name=self.config.services[turn.service].name,
                preferential=turn.preferential, desk=record["desk"],
                desk_name=self.config.desks[record["desk"]].name, recall=record["recall"]))
        waiting, queued = [], self.ledger.waiting()
        for letter, service in self.config.services.items():
            turns = [t for t in queued if t.service == letter]
            preferential = sum(t.preferential for t in turns)
            waiting.append(contract.Waiting(service=letter, service_name=service.name,
                                            normal=len(turns) - preferential, preferential=preferential,
                                            minutes_per_turn=self._pace(letter)))
        return contract.Board(**self._envelope(), calls=calls, waiting=waiting)

    def _pace(self, service: str) -> int | None:
        """Minutes between two calls of this service today: the mean attention divided by the desks that
        attend it. None until three attentions have been measured: a guess is not printed on a ticket."""
        durations = [(datetime.fromisoformat(t.closed_at) - datetime.fromisoformat(t.called_at)).total_seconds()
                     for t in self.ledger.turns.values()
                     if t.service == service and t.outcome == "attended" and t.called_at and t.closed_at]
        desks = sum(service in d.services for d in self.config.desks.values())
        if len(durations) < 3 or not desks:
            return None
        return max(1, round(sum(durations) / len(durations) / 60 / desks))

    def _publish_board(self) -> None:
        self.link.publish(contract.BOARD_TOPIC, self.board().to_json(), retain=True)
