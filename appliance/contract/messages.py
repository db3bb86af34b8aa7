"""Every payload as a frozen dataclass: the envelope (`Message`), the facts devices send and the state the hub
retains."""
from __future__ import annotations

import json
import uuid
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import date, datetime
from typing import ClassVar

from appliance.contract.fields import (FIRST_YEAR, LAST_YEAR, MAX_ALARMS, MAX_CALLS, MAX_IDS, MAX_SERVICES,
                                       TICKET_TURN, ContractError, check_field, check_kind, check_number_matches,
                                       check_pattern, shown)

SCHEMA_VERSION = 1
ACTIONS = ("next", "recall", "no_show", "transfer", "pause", "close", "sign_in")
# A desk is open (it calls turns and counts in the estimates), paused (a break: the advisor comes back) or closed;
# a desk nobody has opened today is closed, and its NEXT opens it.
DESK_STATUSES = ("open", "paused", "closed")
DESK_STATUS_NAMES = {"open": "abierto", "paused": "en pausa", "closed": "cerrado"}   # "Módulo 2 queda en pausa."
# What a coordinator orders from the page (Command); each names the fields it needs (COMMAND_FIELDS).
COMMAND_FIELDS = {
    "desk_status": ("desk", "status"),           # open, pause or close a desk
    "advisor": ("desk", "advisor"),              # who sits at the desk from now on
    "call": ("desk", "number"),                  # call this waiting number to that desk
    "reinstate": ("number",),                    # a no-show who came back waits again, in their place
    "undo_next": ("desk",),                      # the desk's last NEXT undone: the turn closed is served again
    "manual": ("number", "service", "desk", "advisor", "issued_at", "called_at", "closed_at", "outcome"),
    "book": ("service", "slot"),                 # an appointment at that slot (docs/appointments.md)
    "book_first": ("service",),                  # "cita prioritaria mañana": the first free slot of the next day
    "cancel_booking": ("appointment",),
    "move_booking": ("appointment", "slot"),
    "check_in": ("appointment",),                # reception checks the citizen in, as the kiosk's reader would
}
# The citizen's name and phone, only with the consent (Ley 1581) and only when booking: kept by the hub apart
# from the journal (it is shipped to the central) and deleted after [appointments] retention_days.
CONTACT_FIELDS = ("name", "phone", "consent")
BOOKING_ACTIONS = ("book", "book_first")
# What the central's page may order a site's hub, through the site's bridge: appointments, never a desk's work;
# no name or phone crosses the WAN (docs/appointments.md).
CENTRAL_SOURCE = "central-web"
CENTRAL_ACTIONS = ("book", "book_first", "cancel_booking", "move_booking")
CENTRAL_ORDER_S = 120       # an order of the central's older than this when it reaches the hub is refused as late
# Markup in a name would be harmless where it is escaped, but it is no one's name.
_NOT_IN_A_NAME = set("<>{}[]\\|=;@#$%^*_~`\"")
MANUAL_OUTCOMES = ("attended", "no_show")
# Why a desk's request did nothing (DeskState.refused), as its counter display shows it: REFUSAL_CHARS at most.
REFUSALS = {"nobody": "Nadie en atención", "unknown": "Servicio desconocido", "same": "Es el mismo servicio",
            "unattended": "No hay quien atienda", "code": "Código desconocido"}
PRINTER_STATES = ("ok", "low", "out", "offline", "unknown")
# Whom a preferential turn serves (seed 001's list), as a kiosk's button may say; the names are what the ticket,
# the CSV's readers and the report show.
PREFERENTIAL_CATEGORIES = {
    "persona_mayor": "Persona mayor", "gestante": "Mujer gestante", "nna": "Niños, niñas y adolescentes",
    "discapacidad": "Persona con discapacidad", "talla_baja": "Persona de talla baja",
    "vulnerable": "Población en situación de vulnerabilidad", "etnia": "Grupo étnico minoritario"}


def new_id() -> str:
    return uuid.uuid4().hex


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
            check_kind(f.name, value, _FIELD_KINDS[f.type])
            check_field(f.name, value)
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

    def body(self) -> dict:
        # An optional field left at its default None is not sent: a receiver of before the field takes the
        # message, and one that knows the field reads the same None.
        unsent = {f.name for f in fields(self) if f.default is None and getattr(self, f.name) is None}
        return {"v": SCHEMA_VERSION, "type": self.TYPE,
                **{key: value for key, value in asdict(self).items() if key not in unsent}}

    def to_json(self) -> bytes:
        return json.dumps(self.body(), ensure_ascii=False, separators=(",", ":")).encode()


_FIELD_KINDS = {"str": (str,), "int": (int,), "bool": (bool,), "bool | None": (bool, type(None)), "list": (list,),
                "list | None": (list, type(None)), "dict": (dict,),
                "dict | None": (dict, type(None)), "str | None": (str, type(None)), "int | None": (int, type(None))}


@dataclass(frozen=True, kw_only=True)
class _TicketFact(Message):
    """What a kiosk says about a number it took."""

    turn_id: str
    number: str
    service: str
    preferential: bool
    category: str | None = None    # a key of PREFERENTIAL_CATEGORIES, on a preferential turn whose button says

    def validate(self) -> None:
        if self.category is not None:
            if self.category not in PREFERENTIAL_CATEGORIES:
                raise ContractError(f"field 'category' must be one of {', '.join(PREFERENTIAL_CATEGORIES)}, got "
                                    f"{shown(self.category)}")
            if not self.preferential:
                raise ContractError("field 'category' is only for a preferential turn")
        turn = check_pattern("turn_id", self.turn_id, TICKET_TURN, "2026-11-24/kiosco-1/P007")  # no transfer
        try:  # the hub files the turn under this day: 2026-02-30 must not become a day file
            day = date.fromisoformat(turn.group(1))
        except ValueError:
            raise ContractError(f"field 'turn_id' starts with no real day: {shown(self.turn_id)}") from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ContractError(f"field 'turn_id' is for the year {day.year}, outside {FIRST_YEAR}-{LAST_YEAR}")
        if turn.group(2) != self.source:
            raise ContractError(f"turn {self.turn_id!r} is not of kiosk {self.source!r}, which sent it")
        check_number_matches(self.turn_id, self.number)

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
    """A number the kiosk took but whose ticket came out without it: recorded, so the series has no unexplained
    gap. (A ticket cut short after its number is a TicketIssued: the citizen holds a readable number.)"""

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
            check_kind("ids[]", event_id, (str,))
            check_field("id", event_id)


@dataclass(frozen=True, kw_only=True)
class PrinterStatus(Message):
    """Retained by a kiosk: its printer's state (ok, low, out, offline, unknown), for the coordinators' page and the
    waiting-room screens, with the time of its last ticket that came out without a number."""

    TYPE: ClassVar[str] = "printer_status"
    state: str
    detail: str
    void_at: str | None = None     # when the last ticket came out with no readable number: the screen asks for another

    def validate(self) -> None:
        if self.state not in PRINTER_STATES:
            raise ContractError(f"field 'state' must be one of {', '.join(PRINTER_STATES)}, got {self.state!r}")


@dataclass(frozen=True, kw_only=True)
class Heartbeat(Message):
    """A device's clock (``at``), sent on connect and then every half minute so the hub can flag one that is off.
    QoS 0, not retained, with a short expiry: only a fresh heartbeat says anything about the clock."""

    TYPE: ClassVar[str] = "heartbeat"
    problem: str | None = None   # what keeps the device from doing its work, for the coordinators' page
    software: str | None = None  # the turnero it runs, and the version of the site file it read: for the
    site_file: str | None = None  # technician, on the pages' lists of devices


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
    code: str | None = None        # with "sign_in": the advisor's code typed on the rating pad

    def validate(self) -> None:
        if self.action not in ACTIONS:
            raise ContractError(f"field 'action' must be one of {', '.join(ACTIONS)}, got {shown(self.action)}")
        if (self.action == "transfer") != (self.service is not None):
            raise ContractError("field 'service' is required with action 'transfer', and only with it")
        if (self.action == "sign_in") != (self.code is not None):
            raise ContractError("field 'code' is required with action 'sign_in', and only with it")


@dataclass(frozen=True, kw_only=True)
class Command(Message):
    """A coordinator's order from the page (hub-web), with the coordinator's name. The hub records it once by id,
    with `refused` when it did nothing and why: the page reads the answer in the day's journal."""

    TYPE: ClassVar[str] = "command"
    action: str
    coordinator: str
    desk: int | None = None
    status: str | None = None         # desk_status: one of DESK_STATUSES
    advisor: str | None = None
    number: str | None = None
    service: str | None = None        # manual: the service the citizen came for
    issued_at: str | None = None      # manual: the paper number given, the call and the end of the attention
    called_at: str | None = None
    closed_at: str | None = None
    outcome: str | None = None        # manual: one of MANUAL_OUTCOMES
    slot: str | None = None           # book, move_booking: the start of the appointment's slot
    appointment: str | None = None    # the appointment's code
    name: str | None = None           # book: the citizen's, with `consent` (CONTACT_FIELDS)
    phone: str | None = None
    consent: bool | None = None       # book: the citizen, of age, authorised keeping the name and phone

    def validate(self) -> None:
        needed = COMMAND_FIELDS.get(self.action)
        if needed is None:
            raise ContractError(f"field 'action' must be one of {', '.join(COMMAND_FIELDS)}, got {shown(self.action)}")
        given = {f.name for f in fields(Command) if f.default is None and getattr(self, f.name) is not None}
        optional = set(CONTACT_FIELDS) if self.action in BOOKING_ACTIONS else set()
        wrong = sorted((set(needed) ^ given) - optional)
        if wrong:
            raise ContractError(f"field '{wrong[0]}' is {'required' if wrong[0] in needed else 'not taken'} with "
                                f"action '{self.action}'")
        if not self.coordinator.strip() or (self.advisor is not None and not self.advisor.strip()):
            raise ContractError("a name must not be blank")
        if self.status is not None and self.status not in DESK_STATUSES:
            raise ContractError(f"field 'status' must be one of {', '.join(DESK_STATUSES)}, got {shown(self.status)}")
        if self.outcome is not None and self.outcome not in MANUAL_OUTCOMES:
            raise ContractError(f"field 'outcome' must be one of {', '.join(MANUAL_OUTCOMES)}, got "
                                f"{shown(self.outcome)}")
        if (self.name is not None or self.phone is not None) and self.consent is not True:
            raise ContractError("a name or a phone is kept only with the citizen's consent (field 'consent')")
        if self.name is not None and (not self.name.strip() or _NOT_IN_A_NAME & set(self.name)):
            # Not quoted, as a refusal of other fields is: a citizen's name is not for the log.
            raise ContractError("field 'name' is not a person's name: blank, or with markup")
        if self.action == "manual":
            issued, called, closed = (datetime.fromisoformat(t) for t in (self.issued_at, self.called_at,
                                                                          self.closed_at))
            if not issued <= called <= closed:
                raise ContractError("a manual attention's times must follow one another: issued, called, closed")
            if not (self.issued_at[:10] == self.called_at[:10] == self.closed_at[:10]):
                raise ContractError("a manual attention's times must be of one day")


@dataclass(frozen=True, kw_only=True)
class CheckIn(Message):
    """A kiosk's reader read an appointment's slip: the hub decides (the first scan of a code wins) and answers
    with a CheckInAnswer of the same id. Not kept in the outbox: a citizen at the kiosk waits for the answer a few
    seconds, never for a hub that comes back later."""

    TYPE: ClassVar[str] = "check_in"
    appointment: str


@dataclass(frozen=True, kw_only=True)
class CheckInAnswer(Message):
    """The hub's answer to a CheckIn (`answered`): the turn to print, or why there is none (`reason`, in
    Spanish, for the slip). `late`: past the site's grace, the turn is a walk-in's."""

    TYPE: ClassVar[str] = "check_in_answer"
    answered: str
    appointment: str
    reason: str | None = None
    turn_id: str | None = None
    number: str | None = None
    service: str | None = None
    slot: str | None = None
    late: bool = False

    def validate(self) -> None:
        turn = (self.turn_id, self.number, self.service, self.slot)
        if (self.reason is None) == (None in turn):
            raise ContractError("an answer gives either a reason or the turn (turn_id, number, service, slot)")
        if self.turn_id is not None:
            check_number_matches(self.turn_id, self.number)


@dataclass(frozen=True, kw_only=True)
class AppointmentSlip(Message):
    """The coordinators' page asks a kiosk to print an appointment's slip; the kiosk words it from its site file."""

    TYPE: ClassVar[str] = "appointment_slip"
    appointment: str
    service: str
    slot: str


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
        check_number_matches(self.turn_id, self.number)


@dataclass(frozen=True, kw_only=True)
class Waiting(Record):
    """How many turns wait for one service, for the display and the kiosk's ticket."""

    service: str
    service_name: str
    normal: int
    preferential: int
    minutes_per_turn: int | None = None   # the pace for this service; None until the hub has measured it
    from_history: bool = False            # the pace is that of other days (the same weekday and hour), not today's
    # Appointments booked within the hour and not yet arrived: they will go first (left out when none).
    booked: int | None = None

    def estimated_minutes(self, ahead: int) -> int | None:
        """The wait of a citizen with `ahead` people before them, and the appointments that will go first, at
        today's pace; None while it is unknown."""
        return None if self.minutes_per_turn is None else (ahead + (self.booked or 0) + 1) * self.minutes_per_turn

    # Counts are never negative (a ticket must never print "-3 personas antes que usted"): check_field.


@dataclass(frozen=True, kw_only=True)
class DeskStatus(Record):
    """Whether one desk is open, paused or closed, inside the Board: the room's screen says so."""

    desk: int
    desk_name: str
    status: str

    def validate(self) -> None:
        if self.status not in DESK_STATUSES:
            raise ContractError(f"field 'status' must be one of {', '.join(DESK_STATUSES)}, got {shown(self.status)}")


@dataclass(frozen=True, kw_only=True)
class Board(Message):
    """Retained by the hub: the latest calls, newest first, the queues and the desks. What every display shows."""

    TYPE: ClassVar[str] = "board"
    calls: list
    waiting: list
    desks: list | None = None    # of DeskStatus: the desks paused or closed; left out while every desk is open

    def validate(self) -> None:
        for name, items, limit in (("calls", self.calls, MAX_CALLS), ("waiting", self.waiting, MAX_SERVICES),
                                   ("desks", self.desks or (), MAX_CALLS)):
            if len(items) > limit:
                raise ContractError(f"field '{name}' lists {len(items)} items; at most {limit}")
        parsed_calls = tuple(parse_nested(Call, item, "calls") for item in self.calls)
        parsed_waiting = tuple(parse_nested(Waiting, item, "waiting") for item in self.waiting)
        object.__setattr__(self, "calls", list(parsed_calls))
        object.__setattr__(self, "waiting", list(parsed_waiting))
        if self.desks is not None:
            object.__setattr__(self, "desks", [parse_nested(DeskStatus, item, "desks") for item in self.desks])

    def body(self) -> dict:
        # asdict() recurses into the nested records. A queue without appointments due leaves `booked` out, as a
        # message leaves out an optional field it does not set: a kiosk or display of before takes the board.
        body = super().body()
        body["waiting"] = [{key: value for key, value in item.items() if key != "booked" or value is not None}
                           for item in body["waiting"]]
        return body


@dataclass(frozen=True, kw_only=True)
class DeskState(Message):
    """Retained by the hub per desk: the turn being served and the last request answered."""

    TYPE: ClassVar[str] = "desk_state"
    desk: int
    serving: dict | None
    answered: str | None
    overdue: bool = False          # the attention has lasted longer than the site's limit
    refused: str | None = None     # why the request answered did nothing, for the counter display; None: done
    status: str | None = None      # "paused" or "closed"; left out while the desk is open
    advisor: str | None = None     # who sits at the desk, when set from the coordinators' page today

    def validate(self) -> None:
        if self.status not in (None, "paused", "closed"):
            raise ContractError(f"field 'status' must be paused or closed (left out: open), got {shown(self.status)}")
        if self.serving is not None:  # checked, but kept a dict: desks and the coordinators' page read it so
            parse_nested(Serving, self.serving, "serving")


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
        check_number_matches(self.turn_id, self.number)


def parse_nested(cls, item, where: str):
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
            parse_nested(Alarm, item, "alarms")


TYPES = {cls.TYPE: cls for cls in (TicketIssued, TicketVoid, PrinterStatus, Heartbeat, DeskRequest, Command, Rating,
                                   Board, DeskState, Applied, Alarms, CheckIn, CheckInAnswer, AppointmentSlip)}
