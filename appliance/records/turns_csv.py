"""The CSV of turns for coordinators and the CRM: one row per turn, folded from the hub's records.

UTF-8 with a byte-order mark and ';' by default, which is what Excel in Spanish opens without a wizard. A cell
that a spreadsheet would take for a formula (= + - @ at the start, also after spaces, which LibreOffice may trim)
is prefixed with an apostrophe. The times are ISO 8601 with their offset, for the CRM, and again as
"2026-11-24 09:03:00" (the site's wall clock, as recorded) in the last columns, which a spreadsheet reads as dates.

A period is read one day at a time (a turn's records all belong to its day) and the CSV is produced as it is
read, so a year's export holds one day in memory, not the year.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from appliance.records.ledger import CALLED, Ledger

CSV_COLUMNS = ("turn_id", "number", "service", "service_name", "preferential", "kiosk", "issued_at", "called_at",
           "service_start", "service_end", "desk", "advisor", "wait_seconds", "service_seconds", "outcome",
           "recalls", "rating", "preferential_category", "issued_local", "called_local", "service_end_local",
           "manual", "appointment", "appointment_local")
CHUNK_BYTES = 64 * 1024     # how much CSV text is gathered before it is handed on (to the socket, to the file)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def day_rows(ledger: Ledger, service_names: dict[str, str]) -> Iterator[dict]:
    for turn in ledger.turns.values():
        called = _seconds_between(turn.issued_at, turn.called_at)
        served = _seconds_between(turn.called_at, turn.closed_at) if turn.outcome == "attended" else None
        yield {
            "turn_id": turn.turn_id, "number": turn.number, "service": turn.service,
            "service_name": service_names.get(turn.service, ""), "preferential": "sí" if turn.preferential else "no",
            "kiosk": turn.kiosk, "issued_at": turn.issued_at, "called_at": turn.called_at or "",
            "service_start": turn.called_at or "", "service_end": turn.closed_at or "",
            "desk": turn.desk or "", "advisor": turn.advisor, "wait_seconds": _blank(called),
            "service_seconds": _blank(served),
            "outcome": turn.outcome or ("in_service" if turn.status == CALLED else "waiting"), "recalls": turn.recalls,
            "rating": _blank(turn.rating), "preferential_category": turn.category or "",
            "issued_local": _wall_clock(turn.issued_at), "called_local": _wall_clock(turn.called_at),
            "service_end_local": _wall_clock(turn.closed_at), "manual": "sí" if turn.manual else "no",
            # A checked-in appointment's turn, and the time it was booked for (late or not).
            "appointment": "sí" if turn.appointment else "no",
            "appointment_local": _wall_clock(ledger.bookings.by_code[turn.appointment].slot if turn.appointment
                                             else None)}


def csv_chunks(table: Iterable[dict], delimiter: str = ";",
               columns: tuple[str, ...] = CSV_COLUMNS) -> Iterator[bytes]:
    """The CSV file's content in pieces of about CHUNK_BYTES: UTF-8 with a byte-order mark, CRLF lines,
    formula-like cells neutralised. The first piece holds the mark and the header line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    yield "\ufeff".encode() + _drain(buffer)
    for row in table:
        cells = [row[column] for column in columns]
        writer.writerow(["'" + cell if cell.__class__ is str and (cell.startswith(_FORMULA_START) or cell[:1] == " "
                                                                  and cell.lstrip().startswith(_FORMULA_START))
                         else cell for cell in cells])   # inline: a year's export has two million cells
        if buffer.tell() >= CHUNK_BYTES:
            yield _drain(buffer)
    if buffer.tell():
        yield _drain(buffer)


def write_csv(path: Path, table: Iterable[dict], delimiter: str = ";", columns: tuple[str, ...] = CSV_COLUMNS) -> int:
    """Writes the CSV as the rows come, into a temporary file renamed at the end (a failed export leaves no
    half file that looks whole); returns how many rows it has."""
    path, count = Path(path), 0

    def counted():
        nonlocal count
        for row in table:
            count += 1
            yield row

    partial = path.with_name(f".{path.name}.part")
    try:
        with open(partial, "wb") as out:
            for chunk in csv_chunks(counted(), delimiter, columns):
                out.write(chunk)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode()


def _seconds_between(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())


def _wall_clock(stamp: str | None) -> str:
    """'2026-11-24T09:03:00.123-05:00' -> '2026-11-24 09:03:00': the time as the site's clock read it (every
    record carries the site's offset), in the one form Excel and LibreOffice both take for a date and time."""
    return f"{stamp[:10]} {stamp[11:19]}" if stamp else ""


def _blank(value):
    return "" if value is None else value
