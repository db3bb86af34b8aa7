"""The MQTT contract: every topic and payload that crosses the broker, in one place.

Devices and the hub import this module and nothing else to talk to each other, so a change to the wire
format is a change here (and a new schema version). docs/protocol.md describes the same for technicians.

Every payload is a JSON object with ``v`` (schema version), ``type``, ``id`` (unique per fact, so that a
replay is recognised) and ``at`` (ISO 8601 with offset, the sender's clock). Facts are delivered at least
once (QoS 1) and applied idempotently by ``id``; what a rebooted screen or desk must show is retained.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from collections import Counter
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
ROOT = "turnero/v1"
MAX_PAYLOAD_BYTES = 64 * 1024

_TURN_ID = re.compile(r"\d{4}-\d{2}-\d{2}/[a-z0-9-]+/[A-Z]{1,2}\d{3,}")

ONLINE = "online"
OFFLINE = "offline"

ACTIONS = ("next", "recall", "no_show", "transfer")
PRINTER_STATES = ("ok", "low", "out", "offline", "unknown")
RATING_VALUES = range(1, 6)


class ContractError(ValueError):
    """A payload or topic that does not follow the contract; the message says what is wrong."""


class Refusals(Counter):
    """What a role refused, counted by kind of reason; each refusal is logged with what is wrong."""

    def note(self, device: str, topic: str, error: Exception) -> None:
        self[type(error).__name__] += 1
        log.warning("%s: refused a message on %s: %s", device, topic, error)


# --- topics -------------------------------------------------------------------------------------------

def status_topic(device: str) -> str:
    """Retained "online"/"offline" of a device, also its last will."""
    return f"{ROOT}/status/{device}"


def desk_device(number: int) -> str:
    """The device name of desk `number`'s unit: its MQTT client, status topic and broker user."""
    return f"escritorio-{number}"


def heartbeat_topic(device: str) -> str:
    """A device's clock, published now and then so the hub can flag one that is off (not retained)."""
    return f"{ROOT}/heartbeat/{device}"


def applied_topic(device: str) -> str:
    """Retained by the hub per device: which of the device's facts it has recorded (Applied)."""
    return f"{ROOT}/hub/applied/{device}"


def ticket_topic(kiosk: str) -> str:
    return f"{ROOT}/kiosk/{kiosk}/ticket"


def printer_topic(kiosk: str) -> str:
    """Retained PrinterStatus of a kiosk."""
    return f"{ROOT}/kiosk/{kiosk}/printer"


def request_topic(desk: int) -> str:
    return f"{ROOT}/desk/{desk}/request"


def rating_topic(desk: int) -> str:
    return f"{ROOT}/desk/{desk}/rating"


def desk_state_topic(desk: int) -> str:
    return f"{ROOT}/desk/{desk}/state"


BOARD_TOPIC = f"{ROOT}/hub/board"
TICKETS_ALL = f"{ROOT}/kiosk/+/ticket"
REQUESTS_ALL = f"{ROOT}/desk/+/request"
RATINGS_ALL = f"{ROOT}/desk/+/rating"


def new_id() -> str:
    return uuid.uuid4().hex


def is_online(status: bytes) -> bool:
    """A retained status: "online", or "offline" (also when cleared: empty); anything else is refused."""
    if status in (ONLINE.encode(), OFFLINE.encode(), b""):
        return status == ONLINE.encode()
    raise ContractError(f"a status must be '{ONLINE}' or '{OFFLINE}', got {status[:40]!r}")


# --- payloads -------------------------------------------------------------------------------------------

def _check(name: str, value: Any, kinds: tuple) -> None:
    # bool is an int to Python, not to the contract: a desk number of `true` is refused.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = {str: "text", int: "an integer", bool: "true or false", list: "a list", dict: "an object",
                 type(None): "null"}
        expected = " or ".join(names[k] for k in kinds)
        raise ContractError(f"field '{name}' must be {expected}, got {json.dumps(value)[:40]}")


def _check_time(name: str, value: str) -> None:
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise ContractError(f"field '{name}' is not an ISO 8601 time: {value!r}") from None
    if stamp.tzinfo is None:
        raise ContractError(f"field '{name}' has no UTC offset: {value!r}")


@dataclass(frozen=True, kw_only=True)
class Record:
    """Strict (de)serialisation of a flat JSON object: every field present and of its type."""

    @classmethod
    def from_dict(cls, data: dict):
        values = {}
        for f in fields(cls):
            if f.name not in data:
                if f.default is not MISSING:
                    continue
                raise ContractError(f"{cls.__name__} is missing field '{f.name}'")
            value = data[f.name]
            _check(f.name, value, _FIELD_KINDS[f.type])
            values[f.name] = value
        record = cls(**values)
        record.validate()
        return record

    def validate(self) -> None:
        """Checks beyond types; subclasses add theirs."""


@dataclass(frozen=True, kw_only=True)
class Message(Record):
    """A payload on its own topic: the envelope (version, type, id, time, sender) around a record."""

    TYPE: ClassVar[str] = ""
    id: str
    at: str
    source: str

    def to_json(self) -> bytes:
        body = {"v": SCHEMA_VERSION, "type": self.TYPE, **asdict(self)}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def validate(self) -> None:
        if not self.id:
            raise ContractError("field 'id' is empty")
        _check_time("at", self.at)


_FIELD_KINDS = {"str": (str,), "int": (int,), "bool": (bool,), "list": (list,), "dict": (dict,),
                "dict | None": (dict, type(None)), "str | None": (str, type(None)), "int | None": (int, type(None))}


@dataclass(frozen=True, kw_only=True)
class _TicketFact(Message):
    """What a kiosk says about a number it took."""

    turn_id: str
    number: str
    service: str
    preferential: bool

    def validate(self) -> None:
        super().validate()
        for name in ("turn_id", "number", "service"):
            if not getattr(self, name):
                raise ContractError(f"field '{name}' is empty")
        if not _TURN_ID.fullmatch(self.turn_id):
            raise ContractError(f"field 'turn_id' must look like 'YYYY-MM-DD/kiosk/number', got {self.turn_id!r}")
        try:  # the hub files the turn under this day: 2026-02-30 must not become a day file
            date.fromisoformat(self.turn_id[:10])
        except ValueError:
            raise ContractError(f"field 'turn_id' starts with no real day: {self.turn_id!r}") from None


@dataclass(frozen=True, kw_only=True)
class TicketIssued(_TicketFact):
    """A kiosk printed a ticket: the turn exists from now on."""

    TYPE: ClassVar[str] = "ticket_issued"


@dataclass(frozen=True, kw_only=True)
class TicketVoid(_TicketFact):
    """A number the kiosk took but could not print: recorded, so the series has no unexplained gap."""

    TYPE: ClassVar[str] = "ticket_void"
    reason: str


@dataclass(frozen=True, kw_only=True)
class Applied(Message):
    """Retained by the hub per device, after each batch: the ids of the device's facts that batch recorded on
    disk (or refused for good). A device keeps a fact in its outbox until its id comes back here: the broker's
    acknowledgement is not enough, since Mosquitto holds what it queued for an absent hub in memory until its
    next save, and a power cut of the hub's Pi would lose it."""

    TYPE: ClassVar[str] = "applied"
    ids: list

    def validate(self) -> None:
        super().validate()
        if not all(isinstance(i, str) and i for i in self.ids):
            raise ContractError("field 'ids' must be a list of event ids (non-empty text)")


@dataclass(frozen=True, kw_only=True)
class PrinterStatus(Message):
    """Retained by a kiosk: its printer's state, for the coordinators (ok, low, out, offline, unknown)."""

    TYPE: ClassVar[str] = "printer_status"
    state: str
    detail: str

    def validate(self) -> None:
        super().validate()
        if self.state not in PRINTER_STATES:
            raise ContractError(f"field 'state' must be one of {', '.join(PRINTER_STATES)}, got {self.state!r}")


@dataclass(frozen=True, kw_only=True)
class Heartbeat(Message):
    """A device's clock (``at``), sent on connect and then every half minute so the hub can flag one that is off.
    QoS 0, not retained, with a short expiry: only a fresh heartbeat says anything about the clock."""

    TYPE: ClassVar[str] = "heartbeat"

    def validate(self) -> None:
        super().validate()
        if not self.source:
            raise ContractError("field 'source' is empty")


@dataclass(frozen=True, kw_only=True)
class DeskRequest(Message):
    """An advisor pressed a button; the hub answers in the desk's retained state with the same request id."""

    TYPE: ClassVar[str] = "desk_request"
    desk: int
    action: str
    service: str | None = None     # with "transfer": the service the turn goes to

    def validate(self) -> None:
        super().validate()
        if self.action not in ACTIONS:
            raise ContractError(f"field 'action' must be one of {', '.join(ACTIONS)}, got {self.action!r}")
        if (self.action == "transfer") != (self.service is not None):
            raise ContractError("field 'service' is required with action 'transfer', and only with it")
        if self.desk < 1:
            raise ContractError(f"field 'desk' must be a desk number from 1, got {self.desk}")


@dataclass(frozen=True, kw_only=True)
class Rating(Message):
    """A citizen pressed the rating pad for the turn served at a desk."""

    TYPE: ClassVar[str] = "rating"
    desk: int
    turn_id: str
    value: int

    def validate(self) -> None:
        super().validate()
        if self.value not in RATING_VALUES:
            raise ContractError(f"field 'value' must be 1 to 5, got {self.value}")
        if not self.turn_id:
            raise ContractError("field 'turn_id' is empty")


@dataclass(frozen=True, kw_only=True)
class Call(Message):
    """One announcement on the board: a turn sent to a desk (again, when ``recall``)."""

    TYPE: ClassVar[str] = "call"
    turn_id: str
    number: str
    service: str
    service_name: str
    preferential: bool
    desk: int
    desk_name: str
    recall: bool = False


@dataclass(frozen=True, kw_only=True)
class Waiting(Record):
    """How many turns wait for one service, for the display and the kiosk's ticket."""

    service: str
    service_name: str
    normal: int
    preferential: int
    minutes_per_turn: int | None = None   # today's pace for this service; None until the hub has measured it

    def validate(self) -> None:  # a ticket must never print "-3 personas antes que usted"
        for name in ("normal", "preferential"):
            if getattr(self, name) < 0:
                raise ContractError(f"field '{name}' must not be negative, got {getattr(self, name)}")
        if self.minutes_per_turn is not None and self.minutes_per_turn < 1:
            raise ContractError(f"field 'minutes_per_turn' must be at least 1, got {self.minutes_per_turn}")


@dataclass(frozen=True, kw_only=True)
class Board(Message):
    """Retained by the hub: the latest calls, newest first, and the queues. What every display shows."""

    TYPE: ClassVar[str] = "board"
    calls: list
    waiting: list

    def validate(self) -> None:
        super().validate()
        parsed_calls = tuple(_parse_nested(Call, item, "calls") for item in self.calls)
        parsed_waiting = tuple(_parse_nested(Waiting, item, "waiting") for item in self.waiting)
        object.__setattr__(self, "calls", list(parsed_calls))
        object.__setattr__(self, "waiting", list(parsed_waiting))

    def to_json(self) -> bytes:
        # asdict() recurses into the nested records, so the base serialisation serves as it is.
        return super().to_json()


@dataclass(frozen=True, kw_only=True)
class DeskState(Message):
    """Retained by the hub per desk: the turn being served and the last request answered."""

    TYPE: ClassVar[str] = "desk_state"
    desk: int
    serving: dict | None
    answered: str | None
    overdue: bool = False          # the attention has lasted longer than the site's limit

    def validate(self) -> None:
        super().validate()
        if self.desk < 1:
            raise ContractError(f"field 'desk' must be a desk number from 1, got {self.desk}")
        if self.serving is not None:  # checked, but kept a dict: desks and the coordinators' page read it so
            _parse_nested(Serving, self.serving, "serving")


@dataclass(frozen=True, kw_only=True)
class Serving(Record):
    """The turn a desk serves, inside its DeskState."""

    turn_id: str
    number: str
    service: str
    service_name: str
    preferential: bool
    called_at: str

    def validate(self) -> None:
        _check_time("serving.called_at", self.called_at)


def _parse_nested(cls, item, where: str):
    if isinstance(item, cls):
        return item
    if not isinstance(item, dict):
        raise ContractError(f"every item of '{where}' must be an object")
    return cls.from_dict(item)


_TYPES = {cls.TYPE: cls for cls in (TicketIssued, TicketVoid, PrinterStatus, Heartbeat, DeskRequest, Rating,
                                    Board, DeskState, Applied)}


def decode(payload: bytes) -> Message:
    """Parses a payload into its message class, or raises ContractError naming what is wrong."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(f"payload of {len(payload)} bytes is larger than {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as exc:  # also numbers of over 4300 digits and nesting too deep
        raise ContractError(f"payload is not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise ContractError("payload must be a JSON object")
    version = data.get("v")
    if version != SCHEMA_VERSION or type(version) is not int:  # 1.0 and true equal 1 in Python, not here
        raise ContractError(f"unsupported schema version {version!r} (this build speaks {SCHEMA_VERSION})")
    kind = _TYPES.get(data.get("type"))
    if kind is None:
        raise ContractError(f"unknown message type {data.get('type')!r}")
    return kind.from_dict(data)


def expect(payload: bytes, *kinds: type[Message]) -> Message:
    """Decodes a payload that must be of the types its topic carries."""
    message = decode(payload)
    if not isinstance(message, kinds):
        raise ContractError(f"expected {' or '.join(k.TYPE for k in kinds)}, got {message.TYPE}")
    return message


def parse_topic(topic: str) -> tuple[str, str]:
    """('ticket', kiosk id), ('request' | 'rating', desk number as text) or ContractError."""
    parts = topic.split("/")
    if len(parts) == 5 and "/".join(parts[:2]) == ROOT:
        role, device, leaf = parts[2:]
        if role == "kiosk" and leaf == "ticket":
            return "ticket", device
        if role == "desk" and leaf in ("request", "rating") and device.isdigit():
            return leaf, device
    raise ContractError(f"topic {topic!r} is not one the hub reads")
