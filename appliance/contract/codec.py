"""Bytes to a message: the one strict decode path every role reads through, and what a role does with a refusal."""
from __future__ import annotations

import json
import logging
import traceback
from collections import Counter
from pathlib import Path

from appliance.contract import messages, picture, positions, shipping
from appliance.contract.fields import MAX_DEPTH, ContractError, loggable, shown
from appliance.contract.messages import SCHEMA_VERSION, Message

log = logging.getLogger(__name__)
MAX_PAYLOAD_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"
_ENVELOPE = ("v", "type")
# Every payload type, by its `type`.
TYPES = {**messages.TYPES, **shipping.TYPES, **picture.TYPES, positions.Positions.TYPE: positions.Positions}


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
    if not isinstance(kind, str) or kind not in TYPES:
        raise ContractError(f"unknown message type {shown(kind)}")
    if kinds and TYPES[kind] not in kinds:
        raise ContractError(f"message type {kind} where {' or '.join(k.TYPE for k in kinds)} is expected")
    return TYPES[kind].from_dict(data, envelope=_ENVELOPE)


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
