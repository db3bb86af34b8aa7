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
import traceback
import uuid
from collections import Counter
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
ROOT = "turnero/v1"
MAX_PAYLOAD_BYTES = 64 * 1024


ONLINE = "online"
OFFLINE = "offline"

ACTIONS = ("next", "recall", "no_show", "transfer")
PRINTER_STATES = ("ok", "low", "out", "offline", "unknown")


class ContractError(ValueError):
    """A payload or topic that does not follow the contract; the message says what is wrong."""


class Refusals(Counter):
    """What a role refused, counted by kind of reason; each refusal is logged once, in one bounded line."""

    def note(self, device: str, topic: str, error: Exception) -> None:
        self[type(error).__name__] += 1
        reason = str(error)
        if not isinstance(error, ValueError):  # not a refusal by name but a fault of the role: where it happened
            frame = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
            where = f" at {Path(frame[0].filename).name}:{frame[0].lineno}" if frame else ""
            reason = f"{type(error).__name__}{where}: {reason}"
        log.warning("%s: refused a message on %s: %s", device, loggable(topic),
                    reason if len(reason) <= 300 else f"{reason[:300]}…")


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
#
# Every input is hostile until it has passed decode(): strict UTF-8 JSON, one object, known fields only, each of
# its type and within the limits below. The limits keep anything the hub builds from input (the board, the desk
# state, `applied`) far below the broker's packet limit, and keep text a person reads printable.

EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._/>+-]{0,127}", re.ASCII)
DEVICE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}", re.ASCII)
SERVICE = re.compile(r"[A-Z]", re.ASCII)
# "2026-11-24/kiosco-1/P007": the day, the kiosk, the prefix and a number of 3 to 6 digits.
TICKET_TURN = re.compile(r"(\d{4}-\d{2}-\d{2})/([a-z0-9][a-z0-9-]{0,39})/([A-Z]{1,2})(\d{3,6})", re.ASCII)
# A transferred turn keeps its number and gets the new service appended: "…/P007>V" (and ">W" if moved again).
TURN = re.compile(TICKET_TURN.pattern + r"(?:>[A-Z]){0,8}", re.ASCII)
NUMBER = re.compile(r"([A-Z]{1,2})-(\d{3,6})", re.ASCII)
FIRST_YEAR, LAST_YEAR = 2000, 2099      # a time outside these is a broken clock or a forgery, not a ticket
MAX_DEPTH = 4                           # board -> calls -> a call -> its fields
MAX_IDS = 200                           # event ids in one `applied`
MAX_CALLS = 100                         # a board lists at least one call per desk (1 to 99)
MAX_SERVICES = 26                       # one per capital letter
MAX_ALARMS = 200
MAX_COUNT = 1_000_000                   # any count of turns in a day
# Text that a person reads: what the screen, the ticket or the page shows, and a log line quotes.
TEXT_LIMITS = {"service_name": 80, "desk_name": 40, "reason": 200, "detail": 200, "problem": 200, "text": 300,
               "subject": 40, "kind": 20}
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
                          "\ue000-\uf8ff\ufeff\ufff9-\uffff]")
_BOM = b"\xef\xbb\xbf"


def shown(value: Any, limit: int = 40) -> str:
    """A bounded repr for an error message or a log line: input can be 60 KB of anything."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…({len(text)} chars)"


def loggable(text: str, limit: int = 100) -> str:
    """Text from input as a log line may quote it: unprintable characters escaped, at most `limit` of them."""
    cut = text if len(text) <= limit else f"{text[:limit]}…"
    return _UNPRINTABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", cut)


def printable(text: str) -> str:
    """Text without the characters no screen or printer should be handed (pygame refuses a NUL outright)."""
    return _UNPRINTABLE.sub("", text)


def _check(name: str, value: Any, kinds: tuple) -> None:
    # bool is an int to Python, not to the contract: a desk number of `true` is refused.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = {str: "text", int: "an integer", bool: "true or false", list: "a list", dict: "an object",
                 type(None): "null"}
        expected = " or ".join(names[k] for k in kinds)
        raise ContractError(f"field '{name}' must be {expected}, got {shown(value)}")


def check_text(name: str, value: str, limit: int) -> None:
    """Printable text of at most `limit` characters: no control, bidi-override or private characters, and no
    lone surrogate (json.loads lets "\\ud800" through; it cannot be written as UTF-8)."""
    if len(value) > limit:
        raise ContractError(f"field '{name}' has {len(value)} characters; at most {limit}")
    bad = _UNPRINTABLE.search(value)
    if bad:
        raise ContractError(f"field '{name}' has the unprintable character U+{ord(bad.group()):04X}")


def _check_pattern(name: str, value: str, pattern: re.Pattern, example: str) -> re.Match:
    match = pattern.fullmatch(value)
    if match is None:
        raise ContractError(f"field '{name}' must look like {example!r}, got {shown(value)}")
    return match


def _check_time(name: str, value: str) -> None:
    if len(value) > 40:
        raise ContractError(f"field '{name}' is not an ISO 8601 time: {shown(value)}")
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise ContractError(f"field '{name}' is not an ISO 8601 time: {shown(value)}") from None
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ContractError(f"field '{name}' has no UTC offset: {shown(value)}")
    if not FIRST_YEAR <= stamp.year <= LAST_YEAR:
        raise ContractError(f"field '{name}' is in the year {stamp.year}, outside {FIRST_YEAR}-{LAST_YEAR}")


def _check_int(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ContractError(f"field '{name}' must be from {low} to {high}, got {shown(value)}")


def _check_field(name: str, value: Any) -> None:
    """The rules of a field by its name: the same name means the same thing in every message."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        low, high = {"desk": (1, 99), "value": (1, 5), "minutes_per_turn": (1, 24 * 60)}.get(name, (0, MAX_COUNT))
        _check_int(name, value, low, high)
    elif name in ("id", "answered"):
        _check_pattern(name, value, EVENT_ID, "an id of letters, digits and :._/>+- up to 128")
    elif name in ("at", "called_at"):
        _check_time(name, value)
    elif name == "source":
        _check_pattern(name, value, DEVICE, "kiosco-1")
    elif name == "service":
        _check_pattern(name, value, SERVICE, "R")
    elif name in ("turn_id", "on_counter"):
        if value or name == "turn_id":  # on_counter "": the desk's counter showed nobody
            _check_pattern(name, value, TURN, "2026-11-24/kiosco-1/P007")
    elif name == "number":
        _check_pattern(name, value, NUMBER, "P-007")
    elif name in TEXT_LIMITS:
        check_text(name, value, TEXT_LIMITS[name])
    elif name in ("action", "state"):
        pass  # one of a list: the message's own validate() says which
    elif isinstance(value, str):  # every text field has a rule: a new one without one is a bug, refused loudly
        raise ContractError(f"field '{name}' has no rule in the contract")


def _check_number_matches(turn_id: str, number: str) -> None:
    """The number a person reads is the turn id's prefix and digits: "…/P007" is "P-007"."""
    turn = TICKET_TURN.match(turn_id)
    prefix, digits = NUMBER.fullmatch(number).groups()
    if (turn.group(3), turn.group(4)) != (prefix, digits):
        raise ContractError(f"number {number!r} is not the number of turn {turn_id!r}")


@dataclass(frozen=True, kw_only=True)
class Record:
    """Strict (de)serialisation of a flat JSON object: known fields only, every field present, of its type and
    within its limits."""

    @classmethod
    def from_dict(cls, data: dict, *, envelope: tuple[str, ...] = ()):
        names = {f.name for f in fields(cls)}
        unknown = [key for key in data if key not in names and key not in envelope]
        if unknown:
            raise ContractError(f"{cls.__name__} has unknown field {shown(unknown[0])}")
        values = {}
        for f in fields(cls):
            if f.name not in data:
                if f.default is not MISSING:
                    continue
                raise ContractError(f"{cls.__name__} is missing field '{f.name}'")
            value = data[f.name]
            _check(f.name, value, _FIELD_KINDS[f.type])
            _check_field(f.name, value)
            values[f.name] = value
        record = cls(**values)
        record.validate()
        return record

    def validate(self) -> None:
        """Checks beyond each field's own; subclasses add theirs."""


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
        turn = _check_pattern("turn_id", self.turn_id, TICKET_TURN, "2026-11-24/kiosco-1/P007")  # no transfer
        try:  # the hub files the turn under this day: 2026-02-30 must not become a day file
            day = date.fromisoformat(turn.group(1))
        except ValueError:
            raise ContractError(f"field 'turn_id' starts with no real day: {shown(self.turn_id)}") from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ContractError(f"field 'turn_id' is for the year {day.year}, outside {FIRST_YEAR}-{LAST_YEAR}")
        if turn.group(2) != self.source:
            raise ContractError(f"turn {self.turn_id!r} is not of kiosk {self.source!r}, which sent it")
        _check_number_matches(self.turn_id, self.number)

    @property
    def day(self) -> str:
        return self.turn_id[:10]

    @property
    def prefix(self) -> str:
        return TICKET_TURN.fullmatch(self.turn_id).group(3)


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
        if len(self.ids) > MAX_IDS:
            raise ContractError(f"field 'ids' lists {len(self.ids)} ids; at most {MAX_IDS}")
        for event_id in self.ids:
            _check("ids[]", event_id, (str,))
            _check_field("id", event_id)


@dataclass(frozen=True, kw_only=True)
class PrinterStatus(Message):
    """Retained by a kiosk: its printer's state, for the coordinators (ok, low, out, offline, unknown)."""

    TYPE: ClassVar[str] = "printer_status"
    state: str
    detail: str

    def validate(self) -> None:
        if self.state not in PRINTER_STATES:
            raise ContractError(f"field 'state' must be one of {', '.join(PRINTER_STATES)}, got {self.state!r}")


@dataclass(frozen=True, kw_only=True)
class Heartbeat(Message):
    """A device's clock (``at``), sent on connect and then every half minute so the hub can flag one that is off.
    QoS 0, not retained, with a short expiry: only a fresh heartbeat says anything about the clock."""

    TYPE: ClassVar[str] = "heartbeat"
    problem: str | None = None   # what keeps the device from doing its work, for the coordinators' page


@dataclass(frozen=True, kw_only=True)
class DeskRequest(Message):
    """An advisor pressed a button; the hub answers in the desk's retained state with the same request id."""

    TYPE: ClassVar[str] = "desk_request"
    desk: int
    action: str
    service: str | None = None     # with "transfer": the service the turn goes to
    # The turn_id the desk's counter showed when the button was pressed ("": nobody). The hub acts only if that is
    # the turn it has the desk serving: a counter showing an old state (a broker restored from an older save) must
    # not close another citizen. None: not said, the hub acts on the turn it has the desk serving.
    on_counter: str | None = None

    def validate(self) -> None:
        if self.action not in ACTIONS:
            raise ContractError(f"field 'action' must be one of {', '.join(ACTIONS)}, got {shown(self.action)}")
        if (self.action == "transfer") != (self.service is not None):
            raise ContractError("field 'service' is required with action 'transfer', and only with it")


@dataclass(frozen=True, kw_only=True)
class Rating(Message):
    """A citizen pressed the rating pad for the turn served at a desk."""

    TYPE: ClassVar[str] = "rating"
    desk: int
    turn_id: str
    value: int



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

    def validate(self) -> None:
        _check_number_matches(self.turn_id, self.number)


@dataclass(frozen=True, kw_only=True)
class Waiting(Record):
    """How many turns wait for one service, for the display and the kiosk's ticket."""

    service: str
    service_name: str
    normal: int
    preferential: int
    minutes_per_turn: int | None = None   # today's pace for this service; None until the hub has measured it

    # Counts are never negative (a ticket must never print "-3 personas antes que usted"): _check_field.


@dataclass(frozen=True, kw_only=True)
class Board(Message):
    """Retained by the hub: the latest calls, newest first, and the queues. What every display shows."""

    TYPE: ClassVar[str] = "board"
    calls: list
    waiting: list

    def validate(self) -> None:
        for name, items, limit in (("calls", self.calls, MAX_CALLS), ("waiting", self.waiting, MAX_SERVICES)):
            if len(items) > limit:
                raise ContractError(f"field '{name}' lists {len(items)} items; at most {limit}")
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
        _check_number_matches(self.turn_id, self.number)


def _parse_nested(cls, item, where: str):
    if isinstance(item, cls):
        return item
    if not isinstance(item, dict):
        raise ContractError(f"every item of '{where}' must be an object")
    return cls.from_dict(item)


@dataclass(frozen=True, kw_only=True)
class Alarm(Record):
    """One thing that needs a coordinator now, inside Alarms."""

    kind: str        # "wait", "device" or "clock"
    subject: str     # the service letter or the device id
    text: str        # Spanish, for the page


@dataclass(frozen=True, kw_only=True)
class Alarms(Message):
    """Retained by the coordinators' page (hub-web) on ALARMS_TOPIC whenever the list changes, and on every
    connect: what needs a coordinator now. Valid while the status of hub-web is "online"."""

    TYPE: ClassVar[str] = "alarms"
    alarms: list     # of Alarm, as objects

    def validate(self) -> None:
        if len(self.alarms) > MAX_ALARMS:
            raise ContractError(f"field 'alarms' lists {len(self.alarms)} items; at most {MAX_ALARMS}")
        for item in self.alarms:
            _parse_nested(Alarm, item, "alarms")


ALARMS_TOPIC = f"{ROOT}/hub/alarms"

_TYPES = {cls.TYPE: cls for cls in (TicketIssued, TicketVoid, PrinterStatus, Heartbeat, DeskRequest, Rating,
                                    Board, DeskState, Applied, Alarms)}
_ENVELOPE = ("v", "type")


def decode(payload: bytes, kinds: tuple[type[Message], ...] = ()) -> Message:
    """Parses a payload into its message class (one of `kinds`, if given), or raises ContractError naming what
    is wrong. The only way in for anything a role reads: whatever the bytes, it returns a valid message or
    raises ContractError."""
    try:
        return _decode(payload, kinds)
    except ContractError:
        raise
    except Exception as exc:  # a case the checks above did not foresee still refuses the message, never more
        raise ContractError(f"payload cannot be read ({type(exc).__name__}: {shown(str(exc), 80)})") from None


def _decode(payload: bytes, kinds: tuple[type[Message], ...]) -> Message:
    if not isinstance(payload, (bytes, bytearray)):
        raise ContractError(f"payload must be bytes, got {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError(f"payload of {len(payload)} bytes is larger than {MAX_PAYLOAD_BYTES}")
    if payload.startswith(_BOM):
        raise ContractError("payload starts with a byte-order mark; the contract is UTF-8 without one")
    try:  # json.loads(bytes) would also take UTF-16 and UTF-32: the text is decoded here, strictly
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(f"payload is not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_object)
    except (ValueError, RecursionError) as exc:  # ContractError is a ValueError too: it says what it found
        if isinstance(exc, ContractError):
            raise
        raise ContractError(f"payload is not JSON: {shown(str(exc), 80)}") from None
    if not isinstance(data, dict):
        raise ContractError("payload must be a JSON object")
    _check_depth(data)
    version = data.get("v")
    if version != SCHEMA_VERSION or type(version) is not int:  # 1.0 and true equal 1 in Python, not here
        raise ContractError(f"unsupported schema version {shown(version)} (this build speaks {SCHEMA_VERSION})")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        raise ContractError(f"unknown message type {shown(kind)}")
    if kinds and _TYPES[kind] not in kinds:
        raise ContractError(f"message type {kind} where {' or '.join(k.TYPE for k in kinds)} is expected")
    return _TYPES[kind].from_dict(data, envelope=_ENVELOPE)


def _no_constant(name: str):
    raise ContractError(f"payload has {name}, which is not JSON")


def _object(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):  # which copy counts would depend on the reader
        raise ContractError(f"payload repeats a field in one object: {shown(sorted(keys)[:8])}")
    return dict(pairs)


def _check_depth(data: dict) -> None:
    """Nesting past the contract's own is refused before any recursive code (repr, asdict, json.dumps) meets
    it; the error names where, as a field's type error would."""
    stack = [(data, 1, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise ContractError(f"field '{path}' is nested deeper than the contract's {MAX_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        stack.extend((child, depth + 1, _child_path(path, key))
                     for key, child in items if isinstance(child, (dict, list)))


def _child_path(path: str, key: str | int) -> str:
    """'calls[0].desk_name': a list's item by index, an object's field by its (bounded) name."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key[:40]}" if path else key[:40]


def expect(payload: bytes, *kinds: type[Message]) -> Message:
    """Decodes a payload that must be of the types its topic carries."""
    return decode(payload, kinds)


def parse_topic(topic: str) -> tuple[str, str]:
    """('ticket', kiosk id), ('request' | 'rating', desk number as text) or ContractError."""
    parts = topic.split("/")
    if len(parts) == 5 and "/".join(parts[:2]) == ROOT:
        role, device, leaf = parts[2:]
        if role == "kiosk" and leaf == "ticket":
            return "ticket", device
        if role == "desk" and leaf in ("request", "rating") and device.isascii() and device.isdigit():
            return leaf, device
    raise ContractError(f"topic {shown(topic, 80)} is not one the hub reads")
