"""Bad input on every topic the hub and the devices read.

Hypothesis builds payloads close to valid ones (the real contract classes, then one field dropped, retyped or
changed, a schema version, a day in the future, odd topics) and plain garbage (not JSON, not UTF-8, nested too
deep, too large, numbers of thousands of digits, NaN). Each goes through the role's own step(), as its loop
does. Whatever arrives: the role goes on, a refusal is logged naming what is wrong and counted, and nothing
refused changes what the role keeps or shows. Last, a flood through a real Mosquitto on every topic the hub
reads, after which a ticket is called as usual.
"""
import copy
import dataclasses
import json
import logging
import queue
from datetime import datetime, timedelta

import pytest
from gpiozero.pins.mock import MockFactory
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.desk.unit import DeskUnit
from appliance.dev.always_open import AlwaysOpen
from appliance.display.unit import DisplayUnit
from appliance.drivers.printer import SimulatedPrinter
from appliance.kiosk.unit import KioskUnit
from appliance.records.journal import DayStore
from appliance.records.ledger import fold
from hub.service import Hub
from tests.harness.hub_feed import mqtt_message
from tests.harness.roles import STEP_DEADLINE_S, Running, wait_until

CONFIG = site_config.load(site_config.EXAMPLE)
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=CONFIG.timezone)
TODAY = NOW.date().isoformat()
AT = NOW.isoformat(timespec="milliseconds")
EXAMPLES = 500
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- valid payloads, from the contract's own classes ---------------------------------------------------------

def ticket(n: int = 1, service: str = "R", kiosk: str = "kiosco-1", day: str = TODAY, void: bool = False,
           **changes) -> contract.TicketIssued:
    fields = dict(id=f"t-{kiosk}-{service}{n}-{void}", at=AT, source=kiosk, turn_id=f"{day}/{kiosk}/{service}{n:03d}",
                  number=f"{service}-{n:03d}", service=service, preferential=False)
    if void:
        return contract.TicketVoid(**{**fields, "reason": "sin papel", **changes})
    return contract.TicketIssued(**{**fields, **changes})


def request(desk: int = 1, action: str = "next", rid: str = "r-1", **changes) -> contract.DeskRequest:
    return contract.DeskRequest(**{**dict(id=rid, at=AT, source=f"escritorio-{desk}", desk=desk, action=action,
                                          service="V" if action == "transfer" else None), **changes})


def rating(desk: int = 1, turn_id: str = f"{TODAY}/kiosco-1/R001", value: int = 5, **changes) -> contract.Rating:
    return contract.Rating(**{**dict(id="g-1", at=AT, source=f"escritorio-{desk}", desk=desk, turn_id=turn_id,
                                     value=value), **changes})


# A valid order of each action from the coordinators' page.
ORDERS = {"desk_status": dict(desk=2, status="paused"), "advisor": dict(desk=3, advisor="Carlos Andrés Núñez"),
          "call": dict(desk=2, number="R-003"), "reinstate": dict(number="R-002"), "undo_next": dict(desk=1),
          "manual": dict(number="TM-001", service="S", desk=2, advisor="José Muñoz", outcome="attended",
                         issued_at="2026-11-23T10:02:00-05:00", called_at="2026-11-23T10:20:00-05:00",
                         closed_at="2026-11-23T10:31:00-05:00"),
          "book": dict(service="R", slot="2026-11-25T10:30:00-05:00"), "cancel_booking": dict(appointment="A" * 16)}


def order(action: str, rid: str = "o-1") -> contract.Command:
    return contract.Command(id=rid, at=AT, source="hub-web", action=action, coordinator="coordinacion",
                            **ORDERS[action])


def board() -> contract.Board:
    call = contract.Call(id="c-1", at=AT, source="hub", turn_id=f"{TODAY}/kiosco-1/R001", number="R-001",
                         service="R", service_name="Registro y Aportes", preferential=False, desk=1,
                         desk_name="Módulo 1")
    waiting = contract.Waiting(service="R", service_name="Registro y Aportes", normal=3, preferential=1,
                               minutes_per_turn=4)
    return contract.Board(id="b-1", at=AT, source="hub", calls=[call], waiting=[waiting])


def printer_status(state: str = "out") -> contract.PrinterStatus:
    return contract.PrinterStatus(id="p-1", at=AT, source="kiosco-1", state=state, detail="usb TM-T20II",
                                  void_at=AT)


def desk_state(desk: int = 1) -> contract.DeskState:
    serving = {"turn_id": f"{TODAY}/kiosco-1/R001", "number": "R-001", "service": "R",
               "service_name": "Registro y Aportes", "preferential": False, "called_at": AT}
    return contract.DeskState(id="s-1", at=AT, source="hub", desk=desk, serving=serving, answered="r-1")


def body(message: contract.Message) -> dict:
    return json.loads(message.to_json())


def encode(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()   # NaN and Infinity as Python writes them


# --- strategies -----------------------------------------------------------------------------------------------

SCALARS = (st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats(allow_nan=True)
           | st.text(max_size=30))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
# Values of the right type that a device could well send and the hub must still judge: other devices, services,
# days and turns, some configured, some not.
PLAUSIBLE = {
    "service": ["R", "S", "V", "Z", "r", "", "RR"], "desk": [0, 1, 2, 3, 9, 99, -1, 2 ** 63],
    "source": ["kiosco-1", "kiosco-9", "escritorio-1", "escritorio-2", "hub", ""],
    "turn_id": [f"{TODAY}/kiosco-1/R001", f"{TODAY}/kiosco-1/R002", f"{TODAY}/kiosco-9/R001", "2027-01-01/kiosco-1/R001",
                "2026-02-30/kiosco-1/R001", "0000-00-00/kiosco-1/R001", "2026-11-23/kiosco-1/S001", "R001", ""],
    "number": ["R-001", "", "R-999"], "value": [0, 1, 3, 5, 6, -5], "action": [*contract.ACTIONS, "NEXT", ""],
    "id": ["r-1", "g-1", "t-kiosco-1-R1-False", ""], "answered": ["r-1", None, ""],
    "at": ["2026-11-24T09:30:00", "2026-11-24T09:30:00+00:00", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00",
           "2026-13-01T00:00:00-05:00", "hoy"],
    "called_at": ["2026-11-24T09:30:00", "9999-12-31T23:59:59+14:00", ""], "normal": [0, -5, 10 ** 6],
    "preferential": [True, False, 0, 1, -2], "minutes_per_turn": [None, 0, 1, -3], "overdue": [True, False, None],
}
PYTHON_KINDS = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "None": type(None)}


def fits(annotation: str, value) -> bool:
    """Whether a JSON value has the type a contract field declares (true is not a number there)."""
    kinds = tuple(PYTHON_KINDS[name.strip()] for name in annotation.split("|"))
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


@st.composite
def one_thing_wrong(draw, data: dict, record: type, inside: bool = False) -> tuple[dict, str | None]:
    """A copy of a valid payload (or of a record `inside` one) with one change (or none), and the word a refusal
    of it must name."""
    data = copy.deepcopy(data)
    annotations = {f.name: f.type for f in dataclasses.fields(record)}
    how = draw(st.sampled_from(["keep", "keep", "drop", "retype", "revalue", "plausible", "plausible", "plausible",
                                "extra", "version", "type", "future", "future"]))
    key = draw(st.sampled_from(sorted(annotations)))
    if how == "plausible":
        key = draw(st.sampled_from(sorted(set(annotations) & set(PLAUSIBLE)) or sorted(annotations)))
        data[key] = draw(st.sampled_from(PLAUSIBLE.get(key, [None])))
    if how == "drop":
        data.pop(key, None)   # an optional field left at None is not sent at all
        return data, key
    if how == "retype":
        data[key] = draw(JSON.filter(lambda v: not fits(annotations[key], v)))
        return data, key
    if how == "revalue":
        data[key] = draw(JSON)
    elif how == "extra":
        data[draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in data))] = draw(JSON)
    elif how == "version":
        data["v"] = draw(st.sampled_from([0, 2, -1, 1.0, True, "1", None, float("nan")]))
        return data, "unknown field" if inside else "NaN" if data["v"] != data["v"] else "version"
    elif how == "type":
        data["type"] = draw(st.sampled_from(["", "Ticket_Issued", "call", "alarms", None, 7]))
        return data, "unknown field" if inside else "type"
    elif how == "future" and "at" in data:
        later = NOW + timedelta(days=draw(st.integers(1, 4000)), seconds=draw(st.integers(0, 86399)))
        data["at"] = later.isoformat()
        if "turn_id" in data and record is not contract.Rating:
            data["turn_id"] = f"{later.date().isoformat()}{data['turn_id'][10:]}"
    return data, None


def nested(parent: dict, key: str, index: int | None):
    return parent[key] if index is None else parent[key][index]


@st.composite
def near_valid(draw, message: contract.Message, inner: dict[str, tuple[type, int | None]] = {}):  # noqa: B006
    """A valid payload with one thing wrong at the top or inside one of its nested records."""
    data = body(message)
    where = draw(st.sampled_from([None, *inner]))
    if where is None:
        return draw(one_thing_wrong(data, type(message)))
    record, index = inner[where]
    changed, word = draw(one_thing_wrong(nested(data, where, index), record, inside=True))
    if index is None:
        data[where] = changed
    else:
        data[where][index] = changed
    return data, word


def constant(text: bytes) -> str | None:
    """NaN, Infinity or -Infinity, if the text has one outside a string."""
    found = []
    json.loads(text, parse_constant=found.append)
    return found[0].lstrip("-") if found else None


@st.composite
def wire(draw, payload: tuple[dict, str | None]) -> tuple[bytes, str | None]:
    """Most as JSON; some broken on the way: cut short, not UTF-8, nested too deep, too large, a huge number."""
    data, word = payload
    text = encode(data)
    word = constant(text) or word   # NaN and Infinity are refused as they are read, before any field
    how = draw(st.sampled_from(["json"] * 6 + ["cut", "latin1", "deep", "large", "digits"]))
    if how == "cut":
        cut = text[:draw(st.integers(0, len(text) - 1))]
        return cut, "not JSON" if cut.decode(errors="ignore").encode() == cut else "not UTF-8"   # mid-"ó"
    if how == "latin1":
        return json.dumps(data).replace("\\u00f3", "ó").encode("latin-1", errors="replace") + b"\xf3", "not UTF-8"
    if how == "deep":
        depth = draw(st.integers(2_000, 25_000))
        return text[:-1] + b', "x": ' + b"[" * depth + b"]" * depth + b"}", constant(text) or "not JSON"
    if how == "large":
        return text[:-1] + b', "x": "' + b"a" * contract.MAX_PAYLOAD_BYTES + b'"}', "larger than"
    if how == "digits":
        return text[:-1] + b', "x": ' + b"9" * draw(st.integers(4_301, 20_000)) + b"}", constant(text) or "not JSON"
    return text, word


GARBAGE = (st.binary(max_size=200).map(lambda raw: (raw, None))
           | JSON.map(lambda value: (encode(value), None)))


def payloads(message: contract.Message, **inner) -> st.SearchStrategy:
    near = near_valid(message, inner).flatmap(wire)
    return st.one_of(near, near, near, GARBAGE)


# --- the hub ---------------------------------------------------------------------------------------------------

class RefusalLog(logging.Handler):
    """The refusal lines a role logs (the hypothesis tests share one role per test, so not caplog)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def refusals():
    handler = RefusalLog()
    logging.getLogger("appliance.contract").addHandler(handler)
    yield handler
    logging.getLogger("appliance.contract").removeHandler(handler)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Mid-morning: three turns waiting, desk 1 serving R-001."""
    unit = Hub(CONFIG, tmp_path_factory.mktemp("hub"), now=lambda: NOW)
    for n in (1, 2, 3):
        unit.inbox.put(mqtt_message(contract.ticket_topic("kiosco-1"), ticket(n).to_json()))
    unit.inbox.put(mqtt_message(contract.request_topic(1), request().to_json()))
    while unit.step(timeout=0):
        pass
    assert unit.ledger.serving[1] == f"{TODAY}/kiosco-1/R001"
    yield unit
    unit.store.close()


def deliver(hub: Hub, topic: str, payload: bytes, refusals: RefusalLog) -> str | None:
    """One message through the hub's loop; the reason it was refused, or None. Checks that a refusal changed
    nothing and that, either way, what the hub holds in memory is what it has on disk."""
    ledger, stored, refused, lines = copy.deepcopy(hub.ledger), len(hub.store.day(TODAY)), hub.rejected.total(), \
        len(refusals.lines)
    hub.inbox.put(mqtt_message(topic, payload))
    assert hub.step(timeout=0) == 1
    assert fold(hub.store.day(TODAY)) == hub.ledger                      # memory is what the disk says
    if hub.rejected.total() == refused:
        assert len(refusals.lines) == lines
        return None
    assert hub.rejected.total() == refused + 1 and len(refusals.lines) == lines + 1
    assert hub.ledger == ledger and len(hub.store.day(TODAY)) == stored  # nothing refused is kept
    line = refusals.lines[-1]
    assert f"refused a message on {contract.loggable(topic)}: " in line and line.split(": ", 2)[2].strip()
    return line


def hub_topics(kind: str, right: str) -> st.SearchStrategy:
    """Mostly the right topic; also ones with odd segments, another device's, or none the hub reads."""
    odd = {"ticket": ["turnero/v1/kiosk//ticket", "turnero/v1/kiosk/kiosco-1/ticket/x", "turnero/v1/kiosk/KIOSCO-1/ticket",
                      contract.ticket_topic("kiosco-9"), contract.request_topic(1)],
           "request": ["turnero/v1/desk/01/request", "turnero/v1/desk/-1/request", "turnero/v1/desk/١/request",
                       contract.request_topic(2), contract.request_topic(99), contract.rating_topic(1)],
           "rating": ["turnero/v1/desk/1/rating/", "turnero/v1/desk/+/rating", contract.rating_topic(3),
                      contract.ticket_topic("kiosco-1")],
           "command": ["turnero/v1/hub/command/", "turnero/v1/hub/Command", contract.request_topic(1)]}[kind]
    return st.sampled_from([right] * 4 + odd + ["turnero/v2/desk/1/request", "turnero/v1/hub/board", ""]) | st.text(
        max_size=40)


HUB_CASES = st.one_of(
    st.tuples(st.just("ticket"), hub_topics("ticket", contract.ticket_topic("kiosco-1")),
              st.integers(4, 999).flatmap(lambda n: payloads(ticket(n, service="S")))),
    st.tuples(st.just("ticket"), hub_topics("ticket", contract.ticket_topic("kiosco-1")),
              st.integers(1, 999).flatmap(lambda n: payloads(ticket(n, service="E", void=True)))),
    st.tuples(st.just("request"), hub_topics("request", contract.request_topic(1)),
              st.tuples(st.sampled_from(contract.ACTIONS), st.uuids()).flatmap(
                  lambda a: payloads(request(action=a[0], rid=a[1].hex)))),
    st.tuples(st.just("rating"), hub_topics("rating", contract.rating_topic(1)), payloads(rating())),
    st.tuples(st.just("command"), hub_topics("command", contract.COMMAND_TOPIC),
              st.tuples(st.sampled_from(sorted(ORDERS)), st.uuids()).flatmap(
                  lambda a: payloads(order(a[0], rid=a[1].hex)))),
)


@FUZZ
@given(case=HUB_CASES)
def test_the_hub_refuses_what_is_wrong_with_its_reason_and_keeps_only_what_is_right(hub, refusals, case):
    kind, topic, (payload, word) = case
    before = hub.rejected.total()
    reason = deliver(hub, topic, payload, refusals)
    try:
        valid = contract.expect(payload, *{"ticket": (contract.TicketIssued, contract.TicketVoid),
                                           "request": (contract.DeskRequest,), "rating": (contract.Rating,),
                                           "command": (contract.Command,)}[kind])
    except contract.ContractError:
        valid = None
    event("refused" if reason else "taken (or a repeat)")
    if valid is None:                       # never applied: the contract refuses it
        assert reason is not None and hub.rejected.total() == before + 1
        if word is not None and _read_by_hub(topic, kind):
            assert word in reason, (word, reason)


def _read_by_hub(topic: str, kind: str) -> bool:
    try:
        return contract.parse_topic(topic)[0] == kind
    except contract.ContractError:
        return False


# Each kind of bad input the brief of the hub names, with the words its refusal must contain.
TICKETS, REQUESTS = contract.ticket_topic("kiosco-1"), contract.request_topic(1)
DEEP = b'{"v": 1, "type": "rating", "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
BAD = [
    ("not JSON", TICKETS, b"ticket R-004", "not JSON"),
    ("empty", REQUESTS, b"", "not JSON"),
    ("not UTF-8", TICKETS, encode(body(ticket(4))).replace(b"kiosco-1", b"kiosco-\xf1", 1), "not UTF-8"),
    ("nested too deep", contract.rating_topic(1), DEEP, "not JSON"),
    ("a number of 5000 digits", REQUESTS, b'{"v": ' + b"1" * 5000 + b"}", "not JSON"),
    ("too large", TICKETS, encode({**body(ticket(4)), "pad": "x" * contract.MAX_PAYLOAD_BYTES}), "larger than"),
    ("a list", REQUESTS, b"[1, 2]", "JSON object"),
    ("NaN", TICKETS, encode({**body(ticket(4)), "preferential": float("nan")}), "NaN, which is not JSON"),
    ("Infinity", REQUESTS, encode({**body(request(rid="r-9")), "desk": float("inf")}), "Infinity, which is not JSON"),
    ("old schema", TICKETS, encode({**body(ticket(4)), "v": 0}), "schema version 0"),
    ("new schema", TICKETS, encode({**body(ticket(4)), "v": 2}), "schema version 2"),
    ("schema true", TICKETS, encode({**body(ticket(4)), "v": True}), "schema version True"),
    ("unknown type", REQUESTS, encode({**body(request(rid="r-9")), "type": "teleport"}), "unknown message type"),
    ("another topic's type", REQUESTS, ticket(4).to_json(),
     "message type ticket_issued where desk_request is expected"),
    ("missing field", TICKETS, encode({k: v for k, v in body(ticket(4)).items() if k != "service"}),
     "missing field 'service'"),
    ("wrong type", contract.rating_topic(1), encode({**body(rating()), "value": "5"}), "field 'value'"),
    ("unknown service", TICKETS, ticket(4, service="Z").to_json(), "unknown service 'Z'"),
    ("unknown kiosk", contract.ticket_topic("kiosco-9"), ticket(4, kiosk="kiosco-9").to_json(), "'kiosco-9'"),
    ("another kiosk's turn", TICKETS, ticket(4, turn_id=f"{TODAY}/kiosco-2/R004").to_json(), "kiosco-2"),
    ("source not its topic", TICKETS, ticket(4, source="kiosco-2").to_json(), "is not of kiosk 'kiosco-2'"),
    ("a day that does not exist", TICKETS, ticket(4, day="2026-02-30").to_json(), "no real day"),
    ("unknown desk", contract.request_topic(9), request(9, rid="r-9").to_json(), "request for desk 9"),
    ("desk not its topic", REQUESTS, request(2, rid="r-9").to_json(), "on topic of desk 1"),
    ("a rating for a future day's turn", contract.rating_topic(1),
     rating(turn_id="2026-11-25/kiosco-1/R001").to_json(), "has not served"),
    ("a rating of 6", contract.rating_topic(1), rating(value=6).to_json(), "1 to 5"),
    ("a topic with an odd segment", "turnero/v1/desk/01/request", request(rid="r-9").to_json(), "desk 01"),
    ("a topic it does not read", "turnero/v1/desk/1/other", request(rid="r-9").to_json(), "not one the hub reads"),
    # Structure: what once stopped the hub for good, or was recorded though wrong.
    ("a list as the type of a ticket", TICKETS, b'{"v":1,"type":[]}', "unknown message type []"),
    ("a list as the type of a request", REQUESTS, b'{"v":1,"type":[]}', "unknown message type []"),
    ("an object as the type of a rating", contract.rating_topic(1), b'{"v":1,"type":{}}', "unknown message type {}"),
    ("a lone surrogate in a number", TICKETS, ticket(4).to_json().replace(b'"R-004"', b'"R-\\ud800"'),
     "field 'number' must look like"),
    ("a lone surrogate in a reason", TICKETS, ticket(4, void=True).to_json().replace(b'papel"', b'\\ud800"'),
     "U+D800"),
    ("an id nested 500 deep", TICKETS, ticket(4).to_json().replace(b'"t-kiosco-1-R4-False"', b"[" * 500 + b"]" * 500),
     "field 'id[0]"),
    ("a turn id of 60,000 digits", TICKETS, ticket(4, turn_id=f"{TODAY}/kiosco-1/R{'4' * 60_000}").to_json(),
     "field 'turn_id' must look like"),
    ("a rating id of 40,000 characters", contract.rating_topic(1), rating(id="r" * 40_000).to_json(),
     "field 'id' must look like"),
    ("a NUL in a number", TICKETS, ticket(4, number="R-004\u0000").to_json(), "field 'number' must look like"),
    ("a control character in a reason", TICKETS, ticket(4, void=True, reason="sin\x1bpapel").to_json(), "U+001B"),
    ("a NEXT with a ticket's id", REQUESTS, request(rid="t-kiosco-1-R1-False").to_json(), "reuses the id of a ticket"),
    ("a rating with a request's id", contract.rating_topic(1), rating(id="r-1").to_json(),
     "reuses the id of a request"),
    ("a ticket of a new turn with another ticket's id", TICKETS, ticket(4, id="t-kiosco-1-R1-False").to_json(),
     "R-004 is NOT recorded"),
    ("a ticket of 1900", TICKETS, ticket(4, day="1900-01-01").to_json(), "year 1900"),
    ("a ticket older than the replay window", TICKETS, ticket(4, day="2026-11-10").to_json(), "older than the 7 days"),
    ("a time in the year 1", TICKETS, ticket(4, at="0001-01-01T00:00:00-05:00").to_json(), "year 1,"),
    ("a time in the year 9999", TICKETS, ticket(4, at="9999-12-31T23:59:59+14:00").to_json(), "year 9999"),
    ("a category on a normal turn", TICKETS, encode({**body(ticket(4)), "category": "gestante"}),
     "only for a preferential turn"),
    ("a category that is not one", TICKETS, encode({**body(ticket(4, turn_id=f"{TODAY}/kiosco-1/P004", number="P-004",
                                                            preferential=True)), "category": "VIP"}),
     "must be one of persona_mayor"),
    ("preferential on a normal prefix", TICKETS, ticket(4, preferential=True).to_json(), "matches no button"),
    ("a number that is not its turn's", TICKETS, ticket(4, number="R-999").to_json(), "is not the number of turn"),
    ("a byte-order mark", TICKETS, b"\xef\xbb\xbf" + ticket(4).to_json(), "byte-order mark"),
    ("UTF-16", TICKETS, ticket(4).to_json().decode().encode("utf-16"), "not UTF-8"),
    ("a field twice", TICKETS, ticket(4).to_json()[:-1] + b',"service":"S"}', "repeats a field"),
    ("an unknown field", TICKETS, encode({**body(ticket(4)), "priority": 1}), "unknown field 'priority'"),
    ("a request from another desk's unit", REQUESTS, request(rid="r-9", source="escritorio-2").to_json(),
     "from 'escritorio-2'"),
    ("an order from a kiosk", contract.COMMAND_TOPIC, encode({**body(order("undo_next")), "source": "kiosco-1"}),
     "only the coordinators' page"),
    ("an order with a field its action does not take", contract.COMMAND_TOPIC,
     encode({**body(order("reinstate")), "desk": 1}), "field 'desk' is not taken with action 'reinstate'"),
    ("an order without a field its action needs", contract.COMMAND_TOPIC,
     encode({k: v for k, v in body(order("call")).items() if k != "number"}), "field 'number' is required"),
    ("an order no page gives", contract.COMMAND_TOPIC, encode({**body(order("undo_next")), "action": "delete_day"}),
     "field 'action' must be one of desk_status"),
    ("a desk status that is not one", contract.COMMAND_TOPIC,
     encode({**body(order("desk_status")), "status": "lunch"}), "field 'status' must be one of open"),
    ("a manual attention that ends before it starts", contract.COMMAND_TOPIC,
     encode({**body(order("manual")), "closed_at": "2026-11-23T09:00:00-05:00"}), "must follow one another"),
    ("a blank coordinator", contract.COMMAND_TOPIC, encode({**body(order("undo_next")), "coordinator": " "}),
     "a name must not be blank"),
    ("a booking with a name and no consent", contract.COMMAND_TOPIC, encode({**body(order("book")), "name": "Rosa"}),
     "only with the citizen's consent"),
    ("a booking with markup for a name", contract.COMMAND_TOPIC,
     encode({**body(order("book")), "name": "<img src=x>", "consent": True}), "is not a person's name"),
    ("a booking with a phone that is not one", contract.COMMAND_TOPIC,
     encode({**body(order("book")), "phone": "+57 300", "consent": True}), "field 'phone' must be 7 or 10 digits"),
    ("a booking at a time that is not one", contract.COMMAND_TOPIC, encode({**body(order("book")), "slot": "mañana"}),
     "field 'slot' is not an ISO 8601 time"),
    ("a name on a cancellation", contract.COMMAND_TOPIC,
     encode({**body(order("cancel_booking")), "name": "Rosa", "consent": True}), "field 'consent' is not taken"),
    ("a check-in on another kiosk's topic", contract.check_in_topic("kiosco-2"),
     contract.CheckIn(id="s-1", at=AT, source="kiosco-1", appointment="A" * 16).to_json(), "on kiosk 'kiosco-2'"),
    ("a check-in of a code that is not one", contract.check_in_topic("kiosco-1"),
     encode({**body(contract.CheckIn(id="s-1", at=AT, source="kiosco-1", appointment="A" * 16)),
             "appointment": "aaaa'; DROP TABLE"}), "field 'appointment' must look like"),
    ("a check-in with a ticket's id", contract.check_in_topic("kiosco-1"),
     contract.CheckIn(id="t-kiosco-1-R1-False", at=AT, source="kiosco-1", appointment="A" * 16).to_json(),
     "reuses the id of a ticket"),
]


@pytest.fixture
def fresh_hub(tmp_path):
    unit = Hub(CONFIG, tmp_path, now=lambda: NOW)
    for n in (1, 2, 3):
        unit.inbox.put(mqtt_message(TICKETS, ticket(n).to_json()))
    unit.inbox.put(mqtt_message(REQUESTS, request().to_json()))
    while unit.step(timeout=0):
        pass
    yield unit
    unit.store.close()


@pytest.mark.parametrize("topic, payload, reason", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_each_kind_of_bad_input_is_refused_by_name_and_changes_nothing(fresh_hub, refusals, topic, payload, reason):
    line = deliver(fresh_hub, topic, payload, refusals)
    assert line is not None and reason in line, line


def test_a_ticket_from_a_kiosk_whose_clock_runs_days_ahead_joins_todays_queue(fresh_hub, refusals):
    ahead = ticket(4, day="2026-11-27", at="2026-11-27T09:30:00.000-05:00")
    assert deliver(fresh_hub, TICKETS, ahead.to_json(), refusals) is None
    assert [t.number for t in fresh_hub.ledger.waiting()] == ["R-002", "R-003", "R-004"]
    assert fresh_hub.store.has(TODAY, ahead.id)


# --- the devices -----------------------------------------------------------------------------------------------

STATUS = contract.status_topic("hub")
PRINTER = contract.printer_topic("kiosco-1")
KINDS = {"/desk/": contract.DeskState, "/printer": contract.PrinterStatus}
STATUSES = st.sampled_from([b"online", b"offline", b"", b"Online", b"online\n", b"\xff\xfe", b"1", b"null"]) | st.binary(
    max_size=20)


def board_cases() -> st.SearchStrategy:
    board_payloads = payloads(board(), calls=(contract.Call, 0), waiting=(contract.Waiting, 0))
    return (st.tuples(st.just(contract.BOARD_TOPIC), board_payloads)
            | st.tuples(st.just(STATUS), STATUSES.map(lambda raw: (raw, None))))


def screen_cases() -> st.SearchStrategy:
    """What a display reads: the board, the hub's status and each kiosk's printer."""
    return board_cases() | st.tuples(st.just(PRINTER), payloads(printer_status()))


def check_device(unit, device: str, shown, topic: str, payload: bytes, word: str | None, refusals: RefusalLog):
    """One message through a device's loop: refused with its reason and nothing shown changes, or taken only
    when the contract says it is valid."""
    before, refused, lines = shown(unit), unit.rejected.total(), len(refusals.lines)
    unit.inbox.put(mqtt_message(topic, payload))
    unit.step(0)
    try:
        if topic == STATUS:
            contract.is_online(payload)
        else:
            contract.expect(payload, next((kind for part, kind in KINDS.items() if part in topic), contract.Board))
        valid = True
    except contract.ContractError:
        valid = False
    if unit.rejected.total() == refused:
        assert valid, payload[:200]
        return None
    # A desk also refuses another desk's valid state, and a display a kiosk's printer state sent by another device.
    assert not valid or any(part in topic for part in KINDS)
    assert unit.rejected.total() == refused + 1 and shown(unit) == before
    line = refusals.lines[lines]
    assert line.startswith(f"{device}: refused a message on {topic}: ") and line.split(": ", 2)[2].strip()
    if word is not None and not valid and topic != STATUS:
        assert word in line, (word, line)
    return line


@pytest.fixture(scope="module")
def display():
    unit = DisplayUnit(CONFIG, "pantalla-1", now=lambda: NOW, monotonic=lambda: 1000.0)
    for topic, payload in ((STATUS, b"online"), (contract.BOARD_TOPIC, board().to_json())):
        unit.inbox.put(mqtt_message(topic, payload))
        unit.step(0)
    assert unit.board is not None and unit.hub_online
    return unit


def on_screen(unit: DisplayUnit):
    """What the waiting room sees (the footer rotates with the wall clock, so it is left out)."""
    return dataclasses.replace(unit.scene(), footer=""), len(unit.announced)


@FUZZ
@given(case=screen_cases())
def test_the_display_shows_only_valid_boards_hub_statuses_and_printer_states(display, refusals, case):
    topic, (payload, word) = case
    event("refused" if check_device(display, "pantalla-1", on_screen, topic, payload, word, refusals) else "taken")
    assert all(line.count >= 0 for line in display.scene().waiting)    # never "-3 personas en espera"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    unit = KioskUnit(CONFIG, "kiosco-1", tmp_path_factory.mktemp("kiosk"), pin_factory=MockFactory(),
                     printer=SimulatedPrinter(), now=lambda: NOW, monotonic=lambda: 1000.0, opening=AlwaysOpen())
    for topic, payload in ((STATUS, b"online"), (contract.BOARD_TOPIC, board().to_json())):
        unit.inbox.put(mqtt_message(topic, payload))
        unit.step(0)
    yield unit
    unit.stop()


def kiosk_knows(unit: KioskUnit):
    """What the next ticket's queue figures come from, and the status light."""
    return unit._board, unit._hub_online, unit.light


@FUZZ
@given(case=board_cases())
def test_the_kiosk_takes_its_queue_figures_only_from_valid_boards(kiosk, refusals, case):
    topic, (payload, word) = case
    event("refused" if check_device(kiosk, "kiosco-1", kiosk_knows, topic, payload, word, refusals) else "taken")


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    unit = DeskUnit(CONFIG, 1, tmp_path_factory.mktemp("desk"), pin_factory=MockFactory(), now=lambda: NOW,
                    monotonic=lambda: 1000.0)
    unit.inbox.put(mqtt_message(contract.desk_state_topic(1), desk_state().to_json()))
    unit.step(0)
    assert unit.counter_display.shown == ("Módulo 1", "Turno R-001")
    yield unit
    unit.stop()


def desk_shows(unit: DeskUnit):
    """The counter display, the status light and rating pad, and which turn a rating would go to."""
    return unit.counter_display.shown, unit._lights, unit.pad.target(unit.monotonic()), unit.overdue


@FUZZ
@given(payload=st.one_of(payloads(desk_state(), serving=(contract.Serving, None)),
                         payloads(desk_state(2)), GARBAGE))
def test_the_desk_shows_only_valid_states_of_its_own_desk(desk, refusals, payload):
    raw, word = payload
    line = check_device(desk, "escritorio-1", desk_shows, contract.desk_state_topic(1), raw, word, refusals)
    event("refused" if line else "taken")


def with_waiting(**changes) -> bytes:
    data = body(board())
    data["waiting"][0].update(changes)
    return encode(data)


def with_serving(**changes) -> bytes:
    data = body(desk_state())
    data["serving"] = {k: v for k, v in {**data["serving"], **changes}.items() if v is not None}
    return encode(data)


@pytest.mark.parametrize("role, topic, payload, reason", [
    ("display", contract.BOARD_TOPIC, with_waiting(normal=-5), "field 'normal' must be from 0"),
    ("kiosk", contract.BOARD_TOPIC, with_waiting(minutes_per_turn=0), "field 'minutes_per_turn' must be from 1"),
    ("kiosk", contract.BOARD_TOPIC, DEEP, "not JSON"),
    ("display", STATUS, b"en linea", "a status must be 'online' or 'offline'"),
    ("desk", contract.desk_state_topic(1), with_serving(number=None), "missing field 'number'"),
    ("desk", contract.desk_state_topic(1), with_serving(called_at="ayer"), "'called_at' is not an ISO"),
    ("desk", contract.desk_state_topic(1), desk_state(2).to_json(), "state of desk 2 on the topic of desk 1"),
])
def test_each_kind_of_bad_input_a_device_reads_is_refused_by_name(request, refusals, role, topic, payload, reason):
    unit = request.getfixturevalue(role)
    shown = {"display": on_screen, "kiosk": kiosk_knows, "desk": desk_shows}[role]
    line = check_device(unit, {"display": "pantalla-1", "kiosk": "kiosco-1", "desk": "escritorio-1"}[role], shown,
                        topic, payload, None, refusals)
    assert line is not None and reason in line, line


# --- a flood through a real broker -----------------------------------------------------------------------------

def test_a_flood_of_garbage_on_every_topic_the_hub_reads_leaves_it_calling_turns(broker, tmp_path):
    config = CONFIG.with_broker(broker.host, broker.port, broker.ca_file)
    # Every bad input that is bad whatever the hub holds (not the ones that reuse the fixture's ids).
    flood = [(topic, payload) for name, topic, payload, _ in BAD
             if topic != "turnero/v1/desk/1/other" and "'s id" not in name]
    flood += [(topic, payload) for topic in (contract.ticket_topic("x"), "turnero/v1/desk/0/request",
                                             contract.rating_topic(99), contract.request_topic(3),
                                             contract.COMMAND_TOPIC)
              for payload in (b"", b"\x00" * 100, b"{}", b'{"v": 1}', DEEP)]
    with Running(Hub(config, tmp_path / "hub")) as hub:
        assert hub.link.wait_connected(STEP_DEADLINE_S)
        sender = Link("ruido", broker.address(), queue.Queue())
        sender.start()
        assert sender.wait_connected(STEP_DEADLINE_S)
        for _ in range(20):
            for topic, payload in flood:
                sender.publish(topic, payload)
        wait_until(lambda: hub.rejected.total() == 20 * len(flood), what="every message refused")
        today = hub.today
        ticket_fact = contract.TicketIssued(id="real-1", at=hub.now().isoformat(), source="kiosco-1",
                                            turn_id=f"{today}/kiosco-1/S001", number="S-001", service="S",
                                            preferential=False)
        sender.publish(contract.ticket_topic("kiosco-1"), ticket_fact.to_json()).wait_for_publish(5)
        next_press = contract.DeskRequest(id="real-next", at=hub.now().isoformat(), source="escritorio-1", desk=1,
                                          action="next")
        sender.publish(contract.request_topic(1), next_press.to_json()).wait_for_publish(5)
        wait_until(lambda: hub.ledger.serving.get(1) == f"{today}/kiosco-1/S001",
                   what="desk 1 serving S-001")
        sender.stop()
    kinds = [r["kind"] for r in DayStore(tmp_path / "hub" / "days").day(today)]
    assert kinds == ["ticket", "request", "desk", "call"]   # the NEXT opened desk 1 and called S-001
