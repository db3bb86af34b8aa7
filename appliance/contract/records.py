"""A hub's journal record, as a site ships it to the central: the strict check it passes before anything is
stored. The hub writes these records (appliance/records/ledger.py says what each kind means); the central reads
them from a network of sites, so a record is hostile input there like any payload.

A record is a flat JSON object with `id`, `kind`, `day` and `at`, and the fields of its kind: those the fold
reads are required, the others optional. A field the kind does not have is refused, as in every message.
"""
from __future__ import annotations

from typing import Any

from appliance.contract.fields import (APPOINTMENT, DEVICE, EVENT_ID, NUMBER, SERVICE, TURN, ContractError, check_day,
                                       check_int, check_kind, check_pattern, check_text, check_time, shown)
from appliance.contract.messages import (ACTIONS, COMMAND_FIELDS, DESK_STATUSES, PREFERENTIAL_CATEGORIES,
                                         Command)

OUTCOMES = ("attended", "no_show", "transferred", "unattended")
MAX_SECONDS = 7 * 24 * 3600    # an attention undone: how long it had lasted
_TEXT = (str,)
_ID_OR_NONE = (str, type(None))

# kind -> (required fields, optional fields), beside id, kind, day and at.
KINDS = {
    "ticket": (("turn_id", "number", "service", "preferential", "kiosk"),
               ("category", "received_at", "device_at")),
    "void": (("turn_id", "number", "service", "preferential", "kiosk"),
             ("reason", "category", "received_at", "device_at")),
    "request": (("desk", "action"), ("refused", "device_at")),
    "call": (("turn_id", "desk", "advisor", "request_id", "recall"), ("by",)),
    "close": (("turn_id", "desk", "outcome", "request_id"), ()),
    "transfer": (("turn_id", "from_turn", "service", "queued_at"), ("request_id",)),
    "rating": (("turn_id", "value"), ("desk", "advisor", "received_at")),
    "desk": (("desk", "status", "advisor"), ("request_id", "by")),
    "advisor": (("desk", "advisor"), ("request_id", "by")),
    # with what an appointment order made: the appointment booked and its slot, or the turn checked in
    "command": (("action", "coordinator", "order"), ("refused", "appointment", "slot", "number")),
    "reinstate": (("turn_id",), ("request_id", "by")),
    "undo": (("desk", "undone", "closed_turn", "called_turn", "seconds"), ("request_id", "by")),
    "manual": (("turn_id", "number", "service", "desk", "advisor", "issued_at", "called_at", "closed_at", "outcome"),
               ("request_id", "by")),
    "impossible": (("kiosk", "number", "service"), ("device_at", "received_at")),
    # Appointments (docs/appointments.md): filed under the appointment's day, whenever they were made.
    "booking": (("appointment", "service", "slot"), ("contact", "request_id", "by")),
    "booking_cancel": (("appointment",), ("request_id", "by")),
    "booking_move": (("appointment", "slot"), ("request_id", "by")),
    "checkin": (("appointment", "turn_id", "number", "service", "kiosk", "slot", "late", "request_id"), ("by",)),
    "checkin_refused": (("appointment", "kiosk", "reason", "request_id"), ("by",)),
    "missed": (("appointment",), ()),
}
_ENVELOPE = ("id", "kind", "day", "at")


def _one_of(choices):
    def check(name: str, value: str) -> None:
        if value not in choices:
            raise ContractError(f"field '{name}' must be one of {', '.join(choices)}, got {shown(value)}")
    return check


def _pattern(pattern, example):
    return lambda name, value: check_pattern(name, value, pattern, example)


def _text(limit):
    return lambda name, value: check_text(name, value, limit)


def _between(low, high):
    return lambda name, value: check_int(name, value, low, high)


def _order(name: str, value: dict) -> None:
    """A coordinator's order as the hub recorded it: the fields of a Command, each by its rule."""
    if "action" not in value or "coordinator" not in value:   # its other fields are a Command's, each once
        raise ContractError(f"field '{name}' is not an order: it names no action or no coordinator")
    known = Command.__dataclass_fields__
    for key, item in value.items():   # a citizen's name and phone are never in the journal (CONTACT_FIELDS)
        if key not in known or key in ("id", "at", "source", "name", "phone"):
            raise ContractError(f"field '{name}' has unknown field {shown(key)}")
        check_kind(f"{name}.{key}", item, (str, int, bool, type(None)))
        if item is not None:
            _check(key, item, _COMMAND_RULES)


_TURN = _pattern(TURN, "2026-11-24/kiosco-1/P007")
_WHO = _text(80)
# field -> (JSON types, check of a value that is not null)
_RULES: dict[str, tuple[tuple, Any]] = {
    "id": (_TEXT, _pattern(EVENT_ID, "an id of letters, digits and :._/>+- up to 128")),
    "kind": (_TEXT, _one_of(tuple(KINDS))),
    "day": (_TEXT, check_day),
    "at": (_TEXT, check_time), "received_at": (_TEXT, check_time), "device_at": (_TEXT, check_time),
    "queued_at": (_TEXT, check_time), "issued_at": (_TEXT, check_time), "called_at": (_TEXT, check_time),
    "closed_at": (_TEXT, check_time), "slot": (_TEXT, check_time),
    "appointment": (_TEXT, _pattern(APPOINTMENT, "16 letters A-Z and digits 2-7")),
    "contact": ((bool,), None), "late": ((bool,), None), "consent": ((bool,), None),
    "turn_id": (_TEXT, _TURN), "from_turn": (_TEXT, _TURN), "closed_turn": (_ID_OR_NONE, _TURN),
    "called_turn": (_ID_OR_NONE, _TURN),
    "number": (_TEXT, _pattern(NUMBER, "P-007")),
    "service": (_TEXT, _pattern(SERVICE, "R")),
    "preferential": ((bool,), None), "recall": ((bool,), None),
    "kiosk": (_TEXT, _pattern(DEVICE, "kiosco-1")),
    "category": (_TEXT, _one_of(tuple(PREFERENTIAL_CATEGORIES))),
    "reason": (_TEXT, _text(200)), "refused": (_TEXT, _text(300)),
    "desk": ((int, type(None)), _between(1, 99)),
    "action": (_TEXT, _one_of((*ACTIONS, *COMMAND_FIELDS))),
    "advisor": (_TEXT, _WHO), "coordinator": (_TEXT, _text(64)), "by": (_TEXT, _text(64)),
    "request_id": (_ID_OR_NONE, _pattern(EVENT_ID, "an event id")),
    "undone": (_TEXT, _pattern(EVENT_ID, "an event id")),
    "outcome": (_TEXT, _one_of(OUTCOMES)),
    "value": ((int,), _between(1, 5)),
    "status": (_TEXT, _one_of(DESK_STATUSES)),
    "seconds": ((int, float, type(None)), _between(-MAX_SECONDS, MAX_SECONDS)),
    "order": ((dict,), _order),
}
_COMMAND_RULES = {**_RULES, "action": (_TEXT, _one_of(tuple(COMMAND_FIELDS)))}


def _check(name: str, value, rules: dict) -> None:
    kinds, check = rules[name]
    check_kind(name, value, kinds)
    if check is not None and value is not None:
        check(name, value)


def check_record(value) -> dict:
    """The record, if it is one a hub writes: an object with the envelope and its kind's fields, each of its type
    and within its limits. Otherwise ContractError, naming what is wrong."""
    if not isinstance(value, dict):
        raise ContractError(f"a record must be an object, got {type(value).__name__}")
    for name in _ENVELOPE:
        if name not in value:
            raise ContractError(f"record is missing field '{name}'")
        _check(name, value[name], _RULES)
    required, optional = KINDS[value["kind"]]
    for name in required:
        if name not in value:
            raise ContractError(f"{value['kind']} record is missing field '{name}'")
    allowed = {*_ENVELOPE, *required, *optional}
    for name, item in value.items():
        if name not in allowed:
            raise ContractError(f"{value['kind']} record has unknown field {shown(name)}")
        if name not in _ENVELOPE:
            _check(name, item, _RULES)
    return value
