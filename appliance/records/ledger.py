"""The state of a service day as a fold over its records: plain Python, no I/O.

The hub keeps one Ledger for today and rebuilds it from the store after a restart; the CSV export folds the
same records into the same Turns, so what a coordinator exports is exactly what the hub decided.

Applying a record costs the same on a full day as on an empty one: beside the turns, the ledger keeps what the
hub's loop and the coordinators' page ask for at every batch (the waiting queue, the turns being served, the
attentions measured per service, each desk's last advisor), updated as each record is applied, so that no
question needs a pass over every turn of the day.

Records (dicts, stored as they are), each with a unique "id", its "kind", "day" and "at":
  ticket   turn_id, number, service, preferential, kiosk, received_at   a kiosk issued a turn
           (and category, whom a preferential turn serves, when its button says)
  void     the same, and reason                              a number whose ticket came out without it
  request  desk, action (and refused: why nothing was done)            an advisor's button, answered once
  call     turn_id, desk, advisor, request_id, recall (and by)           the hub sent a turn to a desk
  close    turn_id, desk, outcome, request_id                  attended, no_show, transferred or unattended
  transfer turn_id, from_turn, service, queued_at, request_id           the citizen joins another queue
  rating   turn_id, desk, advisor, value, received_at                    the citizen rated the attention
  desk     desk, status, advisor, request_id (and by)                    a desk opened, paused or closed
  advisor  desk, advisor, request_id, by                                 who sits at the desk from now on
  command  action, coordinator, order (and refused)                      a coordinator's order, answered once
  reinstate turn_id, request_id, by                                      a no-show who came back waits again
  undo     desk, undone, closed_turn, called_turn, seconds, request_id, by
                                    a desk's last NEXT (request undone) undone: what it closed is served again
  manual   turn_id, number, service, desk, advisor, issued_at, called_at, closed_at, outcome, by
                                                 an attention given during a manual contingency, entered later
  impossible kiosk, number, service, device_at, received_at   a ticket (or void) beyond what the kiosk's buttons
           can give (hub/pace.py): refused, no turn; its id is the ticket's, so a resend is not counted again
  booking, booking_cancel, booking_move, checkin, checkin_refused, missed   the day's appointments
           (appliance/records/bookings.py); a checkin is also a turn, called first once its time has come
"by" names the coordinator whose order it was; records without it come from the devices.
"""
from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime

from appliance.records.bookings import Bookings
WAITING, CALLED, CLOSED = "waiting", "called", "closed"
CLOSED_DESK = "closed"      # the status of a desk nobody has opened today
KEPT_CALLS = 8
# One batch of the hub's loop can call a turn to every desk (numbered 1 to 99), and a display announces the
# calls it finds on the next board: the ledger keeps enough of them for the board to list a whole batch.
CALLS_KEPT = 99
log = logging.getLogger(__name__)


@dataclass
class Turn:
    turn_id: str
    number: str
    service: str
    preferential: bool
    kiosk: str
    issued_at: str
    status: str = WAITING
    desk: int | None = None
    advisor: str = ""
    called_at: str | None = None
    closed_at: str | None = None
    outcome: str = ""
    recalls: int = 0
    rating: int | None = None
    category: str | None = None     # whom a preferential turn serves (contract.PREFERENTIAL_CATEGORIES)
    manual: bool = False            # given on paper during a manual contingency, entered afterwards
    appointment: str | None = None  # the appointment's code, when the turn is a checked-in appointment
    # Its time, while the turn goes first once it has come (hub.policy); None for a walk-in, and for an
    # appointment checked in past the grace, which waits as one.
    appointment_at: str | None = None

    @cached_property
    def issued_s(self) -> float:
        """issued_at in seconds since the epoch, read once: every NEXT compares the waiting turns by it
        (hub.policy), and numbers compare faster than times with each their own offset."""
        return datetime.fromisoformat(self.issued_at).timestamp()

    @cached_property
    def appointment_s(self) -> float | None:
        return None if self.appointment_at is None else datetime.fromisoformat(self.appointment_at).timestamp()


@dataclass
class Ledger:
    turns: dict[str, Turn] = field(default_factory=dict)
    serving: dict[int, str] = field(default_factory=dict)        # desk -> turn being served
    answered: dict[int, str] = field(default_factory=dict)       # desk -> last request id answered
    refused: dict[int, str | None] = field(default_factory=dict)  # desk -> why that request did nothing, if so
    preferential_streak: dict[int, int] = field(default_factory=dict)  # desk -> preferential calls in a row
    calls: deque = field(default_factory=lambda: deque(maxlen=CALLS_KEPT))  # call records, newest first
    seen: dict[str, str] = field(default_factory=dict)           # id -> kind of every record applied
    queue: dict[str, Turn] = field(default_factory=dict)         # the waiting turns, in the order they came
    called: dict[str, Turn] = field(default_factory=dict)        # the turns called and not closed
    attention: dict[str, tuple[int, float]] = field(default_factory=dict)  # service -> (attended, their seconds)
    advisors: dict[int, str] = field(default_factory=dict)       # desk -> advisor of its latest call
    status: dict[int, str] = field(default_factory=dict)         # desk -> open, paused, closed (missing: closed)
    # desk -> [(at, status, advisor)], each change of its status or of who sits there: the report's desk times
    status_log: dict[int, list] = field(default_factory=dict)
    signed_in: dict[int, str] = field(default_factory=dict)      # desk -> advisor set from the page today
    commands: dict[str, dict] = field(default_factory=dict)     # command id -> its record (refused: why not done)
    # desk -> what its last NEXT did, while nothing else has happened at the desk: {"request", "closed",
    # "called", "seconds"} (the attention it closed and how long it lasted), for a coordinator's undo
    last_next: dict[int, dict] = field(default_factory=dict)
    impossible: dict[str, int] = field(default_factory=dict)     # kiosk -> tickets refused as impossible today
    bookings: Bookings = field(default_factory=Bookings)         # the day's appointments

    def apply(self, record: dict) -> bool:
        """Applies a record once; a record already applied (same id) changes nothing. Returns whether applied."""
        if record["id"] in self.seen:
            return False
        getattr(self, f"_apply_{record['kind']}")(record)
        self.seen[record["id"]] = record["kind"]
        return True

    def waiting(self) -> list[Turn]:
        return list(self.queue.values())

    def unfinished(self) -> list[Turn]:
        """The turns still waiting or being served."""
        return [*self.queue.values(), *self.called.values()]

    def _put(self, turn: Turn) -> None:
        if turn.turn_id in self.turns:
            self._unindex(self.turns[turn.turn_id])
        self.turns[turn.turn_id] = turn
        self._index(turn)

    def _move(self, turn: Turn, status: str) -> None:
        self._unindex(turn)
        turn.status = status
        self._index(turn)

    def _index(self, turn: Turn) -> None:
        if turn.status == WAITING:
            self.queue[turn.turn_id] = turn
        elif turn.status == CALLED:
            self.called[turn.turn_id] = turn

    def _unindex(self, turn: Turn) -> None:
        self.queue.pop(turn.turn_id, None)
        self.called.pop(turn.turn_id, None)

    def _apply_ticket(self, r: dict) -> None:
        self._put(Turn(r["turn_id"], r["number"], r["service"], r["preferential"], r["kiosk"], r["at"],
                       category=r.get("category")))

    def _apply_void(self, r: dict) -> None:
        self._put(Turn(r["turn_id"], r["number"], r["service"], r["preferential"], r["kiosk"], r["at"],
                       status=CLOSED, closed_at=r["at"], outcome="void", category=r.get("category")))

    def desk_status(self, desk: int) -> str:
        return self.status.get(desk, CLOSED_DESK)

    def _apply_request(self, r: dict) -> None:
        self.answered[r["desk"]] = r["id"]
        self.refused[r["desk"]] = r.get("refused")
        if r["action"] == "next" and not r.get("refused"):
            self.last_next[r["desk"]] = {"request": r["id"], "closed": None, "called": None, "seconds": None}
        else:
            self.last_next.pop(r["desk"], None)

    def _next_did(self, desk: int | None, request_id: str | None) -> dict | None:
        """The desk's last NEXT, if this record is part of what it did; any other change at the desk ends the
        chance to undo it."""
        last = self.last_next.get(desk)
        if last is not None and last["request"] == request_id:
            return last
        self.last_next.pop(desk, None)
        return None

    def _apply_call(self, r: dict) -> None:
        turn = self.turns[r["turn_id"]]
        last = self._next_did(r["desk"], r["request_id"])
        if last is not None:
            last["called"] = turn.turn_id
        if r["recall"]:
            turn.recalls += 1
        else:
            self._move(turn, CALLED)
            turn.desk, turn.advisor, turn.called_at = r["desk"], r["advisor"], r["at"]
            self.serving[r["desk"]] = turn.turn_id
            self.advisors[r["desk"]] = r["advisor"]
            streak = self.preferential_streak.get(r["desk"], 0)
            self.preferential_streak[r["desk"]] = streak + 1 if turn.preferential else 0
        self.calls.appendleft(r)

    def _apply_close(self, r: dict) -> None:
        turn = self.turns[r["turn_id"]]
        last = self._next_did(r["desk"], r["request_id"])
        if r["outcome"] == "attended" and turn.called_at:
            seconds = (datetime.fromisoformat(r["at"]) - datetime.fromisoformat(turn.called_at)).total_seconds()
            self._measure(turn.service, 1, seconds)
            if last is not None:
                last["closed"], last["seconds"] = turn.turn_id, seconds
        self._move(turn, CLOSED)
        turn.closed_at, turn.outcome = r["at"], r["outcome"]
        if turn.desk is not None and self.serving.get(turn.desk) == turn.turn_id:
            del self.serving[turn.desk]

    def _apply_transfer(self, r: dict) -> None:
        """Same citizen, same number, another service: a new turn, queued by the time the record says."""
        origin = self.turns[r["from_turn"]]
        self._put(Turn(r["turn_id"], origin.number, r["service"], origin.preferential, origin.kiosk, r["queued_at"],
                       category=origin.category))

    def _apply_rating(self, r: dict) -> None:
        self.turns[r["turn_id"]].rating = r["value"]

    def _measure(self, service: str, count: int, seconds: float) -> None:
        attended, total = self.attention.get(service, (0, 0.0))
        self.attention[service] = (attended + count, total + seconds)

    def _apply_desk(self, r: dict) -> None:
        self.status[r["desk"]] = r["status"]
        self.status_log.setdefault(r["desk"], []).append((r["at"], r["status"], r["advisor"]))

    def _apply_advisor(self, r: dict) -> None:
        if r["advisor"]:
            self.signed_in[r["desk"]] = r["advisor"]
        else:   # signed out: the site file's advisor again
            self.signed_in.pop(r["desk"], None)
        self.status_log.setdefault(r["desk"], []).append((r["at"], self.desk_status(r["desk"]), r["advisor"]))

    def _apply_command(self, r: dict) -> None:
        self.commands[r["id"]] = r

    def _apply_reinstate(self, r: dict) -> None:
        """Waits again from the time on its ticket, so in the place it had; its absent call is forgotten."""
        turn = self.turns[r["turn_id"]]
        self._move(turn, WAITING)
        turn.desk, turn.advisor, turn.called_at, turn.closed_at, turn.outcome = None, "", None, None, ""

    def _apply_undo(self, r: dict) -> None:
        """The turn the NEXT called waits again in its place, and the one it closed is served again."""
        self.last_next.pop(r["desk"], None)
        if r["called_turn"] is not None:
            called = self.turns[r["called_turn"]]
            self._move(called, WAITING)
            called.desk, called.advisor, called.called_at = None, "", None
            self.serving.pop(r["desk"], None)
            self.calls = deque((c for c in self.calls if c["request_id"] != r["undone"]), maxlen=CALLS_KEPT)
        if r["closed_turn"] is not None:
            closed = self.turns[r["closed_turn"]]
            self._move(closed, CALLED)
            closed.closed_at, closed.outcome = None, ""
            self.serving[r["desk"]] = closed.turn_id
            self._measure(closed.service, -1, -r["seconds"])

    def _apply_impossible(self, r: dict) -> None:
        self.impossible[r["kiosk"]] = self.impossible.get(r["kiosk"], 0) + 1

    def _apply_booking(self, r: dict) -> None:
        self.bookings.apply(r)

    _apply_booking_cancel = _apply_booking_move = _apply_checkin_refused = _apply_missed = _apply_booking

    def _apply_checkin(self, r: dict) -> None:
        self.bookings.apply(r)
        self._put(Turn(r["turn_id"], r["number"], r["service"], False, r["kiosk"], r["at"],
                       appointment=r["appointment"], appointment_at=None if r["late"] else r["slot"]))

    def _apply_manual(self, r: dict) -> None:
        self._put(Turn(r["turn_id"], r["number"], r["service"], False, "manual", r["issued_at"], status=CLOSED,
                       desk=r["desk"], advisor=r["advisor"], called_at=r["called_at"], closed_at=r["closed_at"],
                       outcome=r["outcome"], manual=True))


def fold(records, ledger: Ledger | None = None) -> Ledger:
    """The ledger of a day's records, or `ledger` brought up to date with more of them. A record that does not
    fit (it names a turn that is not recorded, after a damaged line of the journal for instance) is logged and
    skipped: the rest of the day is still read."""
    ledger = Ledger() if ledger is None else ledger
    for record in records:
        try:
            ledger.apply(record)
        except (KeyError, AttributeError, TypeError, ValueError) as exc:
            log.error("record %.80s (%.20s) of %.10s does not fit the records before it (%s: %.80s); skipped",
                      record.get("id"), record.get("kind"), record.get("day"), type(exc).__name__, exc)
    return ledger
