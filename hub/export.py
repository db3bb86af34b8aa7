"""The CSV of turns for coordinators and the CRM: one row per turn, folded from the hub's records.

UTF-8 with a byte-order mark and ';' by default, which is what Excel in Spanish opens without a wizard. A cell
that a spreadsheet would take for a formula (= + - @ at the start) is prefixed with an apostrophe.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from .ledger import CALLED, fold
from .store import DayStore

COLUMNS = ("turn_id", "number", "service", "service_name", "preferential", "kiosk", "issued_at", "called_at",
           "service_start", "service_end", "desk", "advisor", "wait_seconds", "service_seconds", "outcome",
           "recalls", "rating")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(store: DayStore, first: date, last: date, service_names: dict[str, str]) -> list[dict]:
    ledger = fold(store.between(first, last))
    result = []
    for turn in ledger.turns.values():
        called = _seconds_between(turn.issued_at, turn.called_at)
        served = _seconds_between(turn.called_at, turn.closed_at) if turn.outcome == "attended" else None
        result.append({
            "turn_id": turn.turn_id, "number": turn.number, "service": turn.service,
            "service_name": service_names.get(turn.service, ""), "preferential": "sí" if turn.preferential else "no",
            "kiosk": turn.kiosk, "issued_at": turn.issued_at, "called_at": turn.called_at or "",
            "service_start": turn.called_at or "", "service_end": turn.closed_at or "",
            "desk": turn.desk or "", "advisor": turn.advisor, "wait_seconds": _blank(called),
            "service_seconds": _blank(served),
            "outcome": turn.outcome or ("in_service" if turn.status == CALLED else "waiting"), "recalls": turn.recalls,
            "rating": _blank(turn.rating)})
    return result


def csv_bytes(table: list[dict], delimiter: str = ";") -> bytes:
    """The CSV file's content: UTF-8 with a byte-order mark, CRLF lines, formula-like cells neutralised."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    for row in table:
        writer.writerow({key: _neutralise(value) for key, value in row.items()})
    return buffer.getvalue().encode("utf-8-sig")


def write_csv(path: Path, table: list[dict], delimiter: str = ";") -> int:
    Path(path).write_bytes(csv_bytes(table, delimiter))
    return len(table)


def _neutralise(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _seconds_between(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def _blank(value):
    return "" if value is None else value
