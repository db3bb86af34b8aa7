"""Where each of the day's turns stands, for the "Mi turno" page a citizen opens from the QR code on the ticket.

The hub publishes them retained, keyed by each ticket's public code (appliance.core.public_code) and spread over
SHARDS topics by the code's first character: a reader (the hub's guest page, or the central through the bridge)
finds a turn with nothing but the code the citizen's phone sent, and needs no site secret. A shard holds at most
MAX_POSITIONS turns, so each message stays far below the broker's packet limit whatever the day brings; the
hub publishes a shard again only when what it holds changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from appliance.contract.fields import CODE_ALPHABET, ContractError, shown
from appliance.contract.messages import SCHEMA_VERSION, Message, Record, parse_nested
from appliance.contract.topics import ROOT

SHARDS = CODE_ALPHABET                 # a shard per first character of the code
MAX_POSITIONS = 300                    # turns in one shard: 9,600 a day in all, each message under 40 KB
# What the page shows: waiting (with the people ahead and the estimate), called (to a desk), and how it ended.
POSITION_STATES = ("waiting", "called", "attended", "no_show", "closed")
POSITIONS_ALL = f"{ROOT}/hub/positions/+"


def positions_topic(shard: str) -> str:
    """Retained by the hub: the turns whose public code starts with `shard`."""
    return f"{ROOT}/hub/positions/{shard}"


def parse_positions_topic(topic: str) -> str:
    """The shard of a hub's positions topic, or ContractError."""
    prefix, _, shard = topic.rpartition("/")
    if prefix == f"{ROOT}/hub/positions" and len(shard) == 1 and shard in SHARDS:
        return shard
    raise ContractError(f"topic {shown(topic, 80)} is not a hub's positions")


def shard_of(code: str) -> str:
    return code[0]


@dataclass(frozen=True, kw_only=True)
class Position(Record):
    """One turn of the day, as the citizen holding its ticket may see it: no name, no document, no desk's
    advisor; only the number printed on the ticket and where it stands."""

    public_code: str
    number: str
    state: str
    service_name: str
    ahead: int | None = None               # waiting: the people before this turn in its queue
    minutes: int | None = None             # waiting: the estimated wait; None while the hub has no pace
    desk_name: str | None = None           # called: where to go

    def validate(self) -> None:
        if self.state not in POSITION_STATES:
            raise ContractError(f"field 'state' must be one of {', '.join(POSITION_STATES)}, got {shown(self.state)}")
        if (self.state == "waiting") != (self.ahead is not None):
            raise ContractError("field 'ahead' is required for a waiting turn, and only for one")
        if self.minutes is not None and self.state != "waiting":
            raise ContractError("field 'minutes' is only for a waiting turn")
        if (self.state == "called") != (self.desk_name is not None):
            raise ContractError("field 'desk_name' is required for a called turn, and only for one")


@dataclass(frozen=True, kw_only=True)
class Positions(Message):
    """Retained by the hub on positions_topic(shard): the day's turns whose code starts with `shard`."""

    TYPE: ClassVar[str] = "positions"
    name: str                # the site's, as the page's title says it
    day: str
    shard: str
    positions: list          # of Position, as objects

    def validate(self) -> None:
        if len(self.positions) > MAX_POSITIONS:
            raise ContractError(f"field 'positions' lists {len(self.positions)} items; at most {MAX_POSITIONS}")
        parsed = [parse_nested(Position, item, "positions") for item in self.positions]
        if any(shard_of(p.public_code) != self.shard for p in parsed):
            raise ContractError(f"a position in shard {self.shard!r} has a code of another shard")
        object.__setattr__(self, "positions", parsed)

    def body(self) -> dict:
        # The hub builds the positions as plain objects (each a Position's fields, the unset ones left out), and
        # thousands of them at every change: asdict()'s deep copy of each would cost the hub more than the rest.
        positions = [item if isinstance(item, dict) else
                     {key: value for key, value in vars(item).items() if value is not None} for item in self.positions]
        return {"v": SCHEMA_VERSION, "type": self.TYPE, "id": self.id, "at": self.at, "source": self.source,
                "name": self.name, "day": self.day, "shard": self.shard, "positions": positions}
