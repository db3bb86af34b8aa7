"""The rules of every field a payload may carry: patterns, limits, and text a person can read."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any


class ContractError(ValueError):
    """A payload or topic that does not follow the contract; the message says what is wrong."""


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
DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# A ticket's public code (its QR's address, appliance/core/public_code.py): 16 characters of an alphabet without
# i, l, o and u, nothing to misread when typed: 80 bits. Its first character names its shard of the positions.
CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PUBLIC_CODE = re.compile(f"[{CODE_ALPHABET}]{{16}}", re.ASCII)
SHARD = re.compile(f"[{CODE_ALPHABET}]", re.ASCII)
# An advisor's sign-in code, typed on the rating pad: four presses of its five buttons.
SIGN_IN_DIGITS = 4
SIGN_IN_CODE = re.compile(rf"[1-5]{{{SIGN_IN_DIGITS}}}", re.ASCII)
# An appointment's code, in the QR of its slip: 16 characters of base32 (80 random bits, as unguessable as a
# ticket's), upper case and digits so that a reader that types it as a US keyboard types it right.
APPOINTMENT = re.compile(r"[A-Z2-7]{16}", re.ASCII)
# A phone as the page keeps it: digits only, a Colombian mobile or landline (10) or a local line (7).
PHONE = re.compile(r"\d{7}|\d{10}", re.ASCII)
FIRST_YEAR, LAST_YEAR = 2000, 2099      # a time outside these is a broken clock or a forgery, not a ticket
MAX_DEPTH = 4                           # board -> calls -> a call -> its fields
MAX_IDS = 200                           # event ids in one `applied`
MAX_CALLS = 100                         # a board lists at least one call per desk (1 to 99)
MAX_SERVICES = 26                       # one per capital letter
MAX_ALARMS = 200
MAX_COUNT = 1_000_000                   # any count of turns in a day
MAX_OFFSET = 1 << 40                    # a byte of a day's journal (megabytes; a terabyte is a forgery)
REFUSAL_CHARS = 20   # a desk state's reason for doing nothing: one line of the desk's counter display
# Text that a person reads: what the screen, the ticket or the page shows, and a log line quotes.
TEXT_LIMITS = {"service_name": 80, "desk_name": 40, "reason": 200, "detail": 200, "problem": 200, "text": 300,
               "subject": 40, "kind": 20, "refused": REFUSAL_CHARS, "advisor": 80, "coordinator": 64,
               "software": 40, "site_file": 64, "name": 120, "role": 80}

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
                          "\ue000-\uf8ff\ufeff\ufff9-\uffff]")


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


def check_kind(name: str, value: Any, kinds: tuple) -> None:
    # bool is an int to Python, not to the contract: a desk number of `true` is refused.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = {str: "text", int: "an integer", float: "a number", bool: "true or false", list: "a list",
                 dict: "an object", type(None): "null"}
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


def check_pattern(name: str, value: str, pattern: re.Pattern, example: str) -> re.Match:
    match = pattern.fullmatch(value)
    if match is None:
        raise ContractError(f"field '{name}' must look like {example!r}, got {shown(value)}")
    return match


def check_time(name: str, value: str) -> None:
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


def check_day(name: str, value: str) -> None:
    """A real day (2026-02-30 must not become a day's file or row) within the contract's years."""
    check_pattern(name, value, DAY, "2026-11-24")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ContractError(f"field '{name}' is not a real day: {shown(value)}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ContractError(f"field '{name}' is in the year {day.year}, outside {FIRST_YEAR}-{LAST_YEAR}")


def check_int(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ContractError(f"field '{name}' must be from {low} to {high}, got {shown(value)}")


def check_field(name: str, value: Any) -> None:
    """The rules of a field by its name: the same name means the same thing in every message."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        low, high = {"desk": (1, 99), "value": (1, 5), "minutes_per_turn": (1, 24 * 60), "start": (0, MAX_OFFSET),
                     "end": (0, MAX_OFFSET), "pending": (0, MAX_OFFSET),
                     "skew_s": (-MAX_OFFSET, MAX_OFFSET)}.get(name, (0, MAX_COUNT))
        check_int(name, value, low, high)
    elif name in ("id", "answered"):
        check_pattern(name, value, EVENT_ID, "an id of letters, digits and :._/>+- up to 128")
    elif name == "appointment":
        check_pattern(name, value, APPOINTMENT, "16 letters A-Z and digits 2-7")
    elif name == "phone":
        if not PHONE.fullmatch(value):   # a citizen's: not quoted in the refusal, which the log keeps
            raise ContractError("field 'phone' must be 7 or 10 digits, like 3001234567")
    elif name in ("at", "called_at", "void_at", "issued_at", "closed_at", "oldest_pending_at", "heard_at", "slot"):
        check_time(name, value)
    elif name in ("source", "site", "device"):
        check_pattern(name, value, DEVICE, "kiosco-1")
    elif name == "day":
        check_day(name, value)
    elif name == "service":
        check_pattern(name, value, SERVICE, "R")
    elif name in ("turn_id", "on_counter"):
        if value or name == "turn_id":  # on_counter "": the desk's counter showed nobody
            check_pattern(name, value, TURN, "2026-11-24/kiosco-1/P007")
    elif name == "number":
        check_pattern(name, value, NUMBER, "P-007")
    elif name == "public_code":
        check_pattern(name, value, PUBLIC_CODE, "16 letters and digits of the public code's alphabet")
    elif name == "shard":
        check_pattern(name, value, SHARD, "one character of the public code's alphabet")
    elif name == "code":
        check_pattern(name, value, SIGN_IN_CODE, "four digits from 1 to 5, as the rating pad types them: 3152")
    elif name in TEXT_LIMITS:
        check_text(name, value, TEXT_LIMITS[name])
    elif name in ("action", "state", "category", "status", "outcome", "printer"):
        pass  # one of a list: the message's own validate() says which
    elif isinstance(value, str):  # every text field has a rule: a new one without one is a bug, refused loudly
        raise ContractError(f"field '{name}' has no rule in the contract")


def check_number_matches(turn_id: str, number: str) -> None:
    """The number a person reads is the turn id's prefix and digits: "…/P007" is "P-007"."""
    turn = TICKET_TURN.match(turn_id)
    prefix, digits = NUMBER.fullmatch(number).groups()
    if (turn.group(3), turn.group(4)) != (prefix, digits):
        raise ContractError(f"number {number!r} is not the number of turn {turn_id!r}")
