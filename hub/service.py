"""The hub role: the single authority on which turn each desk gets, and the record of every fact.

One loop drains the inbox in batches. For each batch it decides, writes every new record durably, and only
then acknowledges the messages to the broker (manual ack) and publishes the retained state that desks and
displays show. A crash before the write loses nothing: the broker redelivers the unacknowledged messages to
the hub's persistent session, and the events are applied idempotently by id.
"""
from __future__ import annotations

import logging
import queue
from collections import Counter
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.config import SiteConfig
from appliance.contract import ContractError
from appliance.link import Connected, Link

from .ledger import CALLED, WAITING, Ledger, fold
from .policy import choose_next
from .store import DayStore

log = logging.getLogger(__name__)
BATCH = 500


class Rejected(Exception):
    """A well-formed message that cannot be applied; the text says why."""


class Hub:
    device = "hub"

    def __init__(self, config: SiteConfig, state_dir: Path, *, now=None):
        self.config = config
        self.now = now or (lambda: datetime.now(config.timezone))
        self.inbox: queue.Queue = queue.Queue()
        self.store = DayStore(Path(state_dir) / "days")
        self.today = self.now().date().isoformat()
        self.ledger = fold(self.store.day(self.today))
        self.rejected: Counter = Counter()
        self.link = Link(self.device, config.broker, self.inbox, persistent_session=True, manual_ack=True,
                         subscriptions=(contract.TICKETS_ALL, contract.REQUESTS_ALL, contract.RATINGS_ALL))

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        self.store.close()

    # --- the loop ------------------------------------------------------------------------------------

    def step(self, timeout: float = 0.5) -> int:
        """Handles one batch from the inbox; returns how many items it took."""
        try:
            items = [self.inbox.get(timeout=timeout)]
        except queue.Empty:
            self._roll_day()
            return 0
        while len(items) < BATCH:
            try:
                items.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        self._roll_day()
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
        for desk in sorted(desks):
            self._publish_desk(desk)
        if board:
            self._publish_board()
        return len(items)

    def _handle(self, message: mqtt.MQTTMessage) -> tuple[list[dict], set[int]]:
        try:
            kind, device = contract.parse_topic(message.topic)
            handler = {"ticket": self._ticket, "request": self._request, "rating": self._rating}[kind]
            expected = {"ticket": contract.TicketIssued, "request": contract.DeskRequest,
                        "rating": contract.Rating}[kind]
            return handler(contract.expect(message.payload, expected), device)
        except (ContractError, Rejected) as exc:
            self.rejected[type(exc).__name__] += 1
            log.warning("rejected message on %s: %s", message.topic, exc)
            return [], set()

    def _record(self, kind: str, day: str | None = None, **fields) -> dict:
        record = {"id": fields.pop("id", None) or contract.new_id(), "kind": kind, "day": day or self.today,
                  "at": fields.pop("at", None) or self.now().isoformat(timespec="milliseconds"), **fields}
        if record["day"] == self.today:
            self.ledger.apply(record)
        return record

    # --- facts from devices --------------------------------------------------------------------------

    def _ticket(self, event: contract.TicketIssued, kiosk: str):
        if event.source != kiosk:
            raise Rejected(f"ticket from {event.source!r} published on kiosk {kiosk!r}'s topic")
        if event.service not in self.config.services:
            raise Rejected(f"ticket {event.number} is for unknown service {event.service!r}")
        # A kiosk whose clock runs ahead must not hide a citizen in a future day: the turn joins today.
        day = min(event.turn_id[:10], self.today)
        if event.id in self.ledger.seen or (day != self.today and self.store.has(day, event.id)):
            return [], set()
        records = [self._record("ticket", day, id=event.id, at=event.at, turn_id=event.turn_id,
                                number=event.number, service=event.service, preferential=event.preferential,
                                kiosk=kiosk, received_at=self.now().isoformat(timespec="milliseconds"))]
        if day < self.today:  # replayed after the day it was for: recorded, and closed as never served
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
        records = [self._record("request", id=request.id, desk=desk.number, action=request.action,
                                device_at=request.at)]
        serving = self.ledger.serving.get(desk.number)
        if request.action == "recall" and serving:
            records.append(self._call(serving, desk, request.id, recall=True))
        elif request.action in ("next", "no_show") and serving:
            outcome = "attended" if request.action == "next" else "no_show"
            records.append(self._record("close", turn_id=serving, desk=desk.number, outcome=outcome,
                                        request_id=request.id))
        if request.action == "next":
            turn = choose_next(self.ledger.waiting(), desk.services, policy=self.config.queue,
                               preferential_streak=self.ledger.preferential_streak.get(desk.number, 0),
                               now=self.now())
            if turn is not None:
                records.append(self._call(turn.turn_id, desk, request.id, recall=False))
        return records, {desk.number}

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
        """At the first event of a new day, turns left over from the previous one close as unattended."""
        today = self.now().date().isoformat()
        if today == self.today:
            return
        leftovers = [t for t in self.ledger.turns.values() if t.status in (WAITING, CALLED)]
        self.store.append([self._record("close", turn_id=t.turn_id, desk=t.desk, outcome="unattended",
                                        request_id=None) for t in leftovers])
        log.info("new service day %s; %d turn(s) of %s closed as unattended", today, len(leftovers), self.today)
        self.today, self.ledger = today, Ledger()
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
                                   answered=self.ledger.answered.get(number))
        self.link.publish(contract.desk_state_topic(number), state.to_json(), retain=True)

    def board(self) -> contract.Board:
        calls = []
        for record in self.ledger.calls:
            turn = self.ledger.turns[record["turn_id"]]
            calls.append(contract.Call(
                id=record["id"], at=record["at"], source=self.device, turn_id=turn.turn_id, number=turn.number,
                service=turn.service, service_name=self.config.services[turn.service].name,
                preferential=turn.preferential, desk=record["desk"],
                desk_name=self.config.desks[record["desk"]].name, recall=record["recall"]))
        waiting = []
        for letter, service in self.config.services.items():
            turns = [t for t in self.ledger.waiting() if t.service == letter]
            preferential = sum(t.preferential for t in turns)
            waiting.append(contract.Waiting(service=letter, service_name=service.name,
                                            normal=len(turns) - preferential, preferential=preferential))
        return contract.Board(**self._envelope(), calls=calls, waiting=waiting)

    def _publish_board(self) -> None:
        self.link.publish(contract.BOARD_TOPIC, self.board().to_json(), retain=True)
