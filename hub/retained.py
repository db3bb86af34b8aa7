"""What the hub retains for devices to show after any restart: the board (the latest calls and the queues, for
displays and kiosks) and each desk's state, built from the ledger as plain data; and the publisher that keeps
every retained packet within the broker's limit."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from appliance import contract
from appliance.core.link import Link
from appliance.records.bookings import BOOKED
from appliance.records.ledger import KEPT_CALLS, Ledger
from appliance.site import SiteConfig

log = logging.getLogger(__name__)
MEASURED = 3     # attentions that make a pace: fewer say too little to print on a ticket
BOOKED_AHEAD = timedelta(hours=1)   # the appointments that count in a walk-in's estimate: those due this soon


def build_board(ledger: Ledger, config: SiteConfig, envelope: dict, past: Past | None = None) -> contract.Board:
    """`past`: the attentions of the same weekday and hour in the last weeks (hub.history), for the services that
    have not measured enough today."""
    calls = []
    # At least every call of one batch (one per desk): a display that lists fewer would never announce some.
    for record in islice(ledger.calls, max(KEPT_CALLS, len(config.desks))):
        turn = ledger.turns[record["turn_id"]]
        calls.append(contract.Call(
            id=record["id"], at=record["at"], source=envelope["source"], turn_id=turn.turn_id, number=turn.number,
            service=turn.service, service_name=config.services[turn.service].name,
            preferential=turn.preferential, desk=record["desk"],
            desk_name=config.desks[record["desk"]].name, recall=record["recall"]))
    queued = Counter((t.service, t.preferential) for t in ledger.waiting())
    booked = _booked(ledger, config, datetime.fromisoformat(envelope["at"]))
    waiting = []
    for letter, service in config.services.items():
        minutes, from_history = pace(ledger, config, letter, past)
        waiting.append(contract.Waiting(service=letter, service_name=service.name, normal=queued[letter, False],
                                        preferential=queued[letter, True], minutes_per_turn=minutes,
                                        from_history=from_history, booked=booked[letter] or None))
    # Only the desks that call nobody: a board of a day whose desks are all open is what displays of before read.
    desks = [contract.DeskStatus(desk=number, desk_name=desk.name, status=ledger.desk_status(number))
             for number, desk in config.desks.items() if ledger.desk_status(number) != "open"]
    return contract.Board(**envelope, calls=calls, waiting=waiting, desks=desks or None)


def _booked(ledger: Ledger, config: SiteConfig, now: datetime) -> Counter:
    """Per service, the appointments due within BOOKED_AHEAD (or still within their grace) and not yet arrived:
    they will be called before the walk-ins, so the estimates count them."""
    if config.appointments is None:
        return Counter()
    first = (now - timedelta(minutes=config.appointments.grace_min)).timestamp()
    last = (now + BOOKED_AHEAD).timestamp()
    return Counter(b.service for b in ledger.bookings.by_code.values() if b.status == BOOKED and
                   first <= b.slot_s <= last)


@dataclass(frozen=True)
class Past:
    """What other days say of a service's pace at this hour: hub.history's attentions, and the hour now."""
    attentions: dict[tuple[str, int], tuple[int, float]]
    hour: int


def pace(ledger: Ledger, config: SiteConfig, service: str, past: Past | None = None) -> tuple[int | None, bool]:
    """Minutes between two calls of this service, and whether they come from other days: the mean attention
    divided by the open desks that attend it (a paused or closed desk calls nobody). Today's own once three
    attentions have been measured; before that, the same weekday and hour of the last weeks when they had three;
    else None, for a guess is not printed on a ticket. None too while no open desk attends the service."""
    desks = sum(service in d.services and ledger.desk_status(n) == "open" for n, d in config.desks.items())
    attended, seconds = ledger.attention.get(service, (0, 0.0))
    from_history = attended < MEASURED and past is not None
    if from_history:
        attended, seconds = past.attentions.get((service, past.hour), (0, 0.0))
    if attended < MEASURED or not desks:
        return None, False
    return max(1, round(seconds / attended / 60 / desks)), from_history


def advisor_at(ledger: Ledger, config: SiteConfig, number: int) -> str:
    """Who sits at the desk: the advisor set from the coordinators' page today, or the site file's default."""
    return ledger.signed_in.get(number) or config.desks[number].advisor


def build_desk_state(ledger: Ledger, config: SiteConfig, number: int, envelope: dict, *, overdue: bool) -> contract.DeskState:
    turn = ledger.turns.get(ledger.serving.get(number, ""))
    serving = None
    if turn is not None:
        serving = {"turn_id": turn.turn_id, "number": turn.number, "service": turn.service,
                   "service_name": config.services[turn.service].name,
                   "preferential": turn.preferential, "called_at": turn.called_at}
    return contract.DeskState(**envelope, desk=number, serving=serving, answered=ledger.answered.get(number),
                              refused=ledger.refused.get(number), overdue=overdue,
                              status=None if ledger.desk_status(number) == "open" else ledger.desk_status(number),
                              advisor=ledger.signed_in.get(number))


class RetainedPublisher:
    """Retained state within the broker's packet limit: a bigger packet would make the broker drop the hub's
    connection at every try. One that does not fit is not sent; the hub says so in its log and in its heartbeat
    (the coordinators' page raises an alarm), and `fits` turns false for the watchdog."""

    def __init__(self, link: Link):
        self.link = link
        self.oversize: set[str] = set()     # topics whose state was too large to publish

    @property
    def fits(self) -> bool:
        return not self.oversize

    def publish(self, topic: str, message: contract.Message) -> None:
        payload = message.to_json()
        if len(payload) <= contract.MAX_PAYLOAD_BYTES:
            if topic in self.oversize:
                self.oversize.discard(topic)
                log.info("%s fits the broker's packet limit again", topic)
                self._say_problem()
            self.link.publish(topic, payload, retain=True)
            return
        if topic not in self.oversize:
            self.oversize.add(topic)
            log.error("%s would be %d bytes, over the broker's limit of %d: not published", topic, len(payload),
                      contract.MAX_PAYLOAD_BYTES)
            self._say_problem()

    def _say_problem(self) -> None:
        problem = (f"cannot publish {', '.join(sorted(self.oversize))}: over the broker's packet limit"
                   if self.oversize else None)
        self.link.report_problem(problem)
