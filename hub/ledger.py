"""The state of a service day as a fold over its records: plain Python, no I/O.

The hub keeps one Ledger for today and rebuilds it from the store after a restart; the CSV export folds the
same records into the same Turns, so what a coordinator exports is exactly what the hub decided.

Records (dicts, stored as they are), each with a unique "id", its "kind", "day" and "at":
  ticket   turn_id, number, service, preferential, kiosk, received_at   a kiosk issued a turn
  void     the same, and reason                                          a number taken but not printed
  request  desk, action                                                  an advisor's button, answered once
  call     turn_id, desk, advisor, request_id, recall                    the hub sent a turn to a desk
  close    turn_id, desk, outcome, request_id                  attended, no_show, transferred or unattended
  transfer turn_id, from_turn, service, queued_at, request_id           the citizen joins another queue
  rating   turn_id, desk, advisor, value, received_at                    the citizen rated the attention
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

WAITING, CALLED, CLOSED = "waiting", "called", "closed"
HISTORY = 8
# One batch of the hub's loop can call a turn to every desk (numbered 1 to 99), and a display announces the
# calls it finds on the next board: the ledger keeps enough of them for the board to list a whole batch.
CALLS_KEPT = 99


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


@dataclass
class Ledger:
    turns: dict[str, Turn] = field(default_factory=dict)
    serving: dict[int, str] = field(default_factory=dict)        # desk -> turn being served
    answered: dict[int, str] = field(default_factory=dict)       # desk -> last request id answered
    requests: set[str] = field(default_factory=set)
    preferential_streak: dict[int, int] = field(default_factory=dict)  # desk -> preferential calls in a row
    calls: deque = field(default_factory=lambda: deque(maxlen=CALLS_KEPT))  # call records, newest first
    seen: set[str] = field(default_factory=set)

    def apply(self, record: dict) -> bool:
        """Applies a record once; a record already applied (same id) changes nothing. Returns whether applied."""
        if record["id"] in self.seen:
            return False
        self.seen.add(record["id"])
        getattr(self, f"_apply_{record['kind']}")(record)
        return True

    def _apply_ticket(self, r: dict) -> None:
        self.turns[r["turn_id"]] = Turn(r["turn_id"], r["number"], r["service"], r["preferential"], r["kiosk"],
                                        r["at"])

    def _apply_void(self, r: dict) -> None:
        self.turns[r["turn_id"]] = Turn(r["turn_id"], r["number"], r["service"], r["preferential"], r["kiosk"],
                                        r["at"], status=CLOSED, closed_at=r["at"], outcome="void")

    def _apply_request(self, r: dict) -> None:
        self.requests.add(r["id"])
        self.answered[r["desk"]] = r["id"]

    def _apply_call(self, r: dict) -> None:
        turn = self.turns[r["turn_id"]]
        if r["recall"]:
            turn.recalls += 1
        else:
            turn.status, turn.desk, turn.advisor, turn.called_at = CALLED, r["desk"], r["advisor"], r["at"]
            self.serving[r["desk"]] = turn.turn_id
            streak = self.preferential_streak.get(r["desk"], 0)
            self.preferential_streak[r["desk"]] = streak + 1 if turn.preferential else 0
        self.calls.appendleft(r)

    def _apply_close(self, r: dict) -> None:
        turn = self.turns[r["turn_id"]]
        turn.status, turn.closed_at, turn.outcome = CLOSED, r["at"], r["outcome"]
        if turn.desk is not None and self.serving.get(turn.desk) == turn.turn_id:
            del self.serving[turn.desk]

    def _apply_transfer(self, r: dict) -> None:
        """Same citizen, same number, another service: a new turn, queued by the time the record says."""
        origin = self.turns[r["from_turn"]]
        self.turns[r["turn_id"]] = Turn(r["turn_id"], origin.number, r["service"], origin.preferential,
                                        origin.kiosk, r["queued_at"])

    def _apply_rating(self, r: dict) -> None:
        self.turns[r["turn_id"]].rating = r["value"]

    def waiting(self) -> list[Turn]:
        return [t for t in self.turns.values() if t.status == WAITING]


def fold(records) -> Ledger:
    ledger = Ledger()
    for record in records:
        ledger.apply(record)
    return ledger
