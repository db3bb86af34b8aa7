"""The hub's durable record: one append-only journal per service day, `days/YYYY-MM-DD.jsonl`.

A batch of the hub's loop costs one write and one fsync at the end of today's file, whatever the size of the day
(a TinyDB file was rewritten whole on every batch: O(day) bytes and time, FIELD_NOTES). docs/journal.md tells a
technician the same with examples.

Format: one record per line, JSON in UTF-8, behind a checksum and a batch mark:

    3b5e0c8a + {"id":"…","kind":"request",…}
    91f07d21 + {"id":"…","kind":"close",…}
    c4a8e310 . {"id":"…","kind":"call",…}

The first field is the CRC-32, in 8 hex digits, of the rest of the line after its first space ("+ {…}"). The mark
says whether the batch goes on ("+") or ends with this record ("."). The hub acknowledges a batch's messages only
after its fsync, so a batch counts only once its "." line is on disk: readers take the records of complete
batches, and the day never holds half of what one message decided (a NEXT's request without its call).

Recovery, when the hub opens a day for appending (`resume`, `append`): whatever follows the last complete batch
(a line without its newline, a line whose checksum fails, lines of a batch without its "." line) is a torn append
that was never acknowledged. It is cut off, logged with its line number, and its bytes are kept in
`YYYY-MM-DD.jsonl.cut` beside the day, so that even a file that is not a journal at all loses nothing by it. A
damaged line before the last complete batch is logged as an error with file and line number and skipped; the
rest is read, and that file is never rewritten. Readers (the coordinators' page, the CSV, the report) change no
file: they read the complete batches and leave the rest.

Upgrade in place: before the journal, a day was a TinyDB file, `days/YYYY-MM-DD.json` ({"events": {"1": {…}}}).
TinyDB still reads those, read-only, and writes nothing any more: a day is its TinyDB file, if it has one,
followed by its journal. A hub upgraded in the middle of a day goes on with that day's turns, and the CSV and the
report see every old day; nothing is converted, moved or lost. That is the one use of TinyDB left: the files are
in its format, and they are never written again, so its cost on writes no longer matters.
"""
from __future__ import annotations

import json
import logging
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import date
from pathlib import Path

from tinydb import TinyDB

from appliance.core import durable
from appliance.records.bookings import BOOKING_KINDS

log = logging.getLogger(__name__)

JOURNAL, LEGACY, CUT = ".jsonl", ".json", ".jsonl.cut"
LEGACY_TABLE = "events"
OPEN_DAYS = 3              # journals kept open for appending: today and the odd late event for an earlier day
DAMAGE_LOGGED = 5          # damaged lines logged one by one per read of a file; then only how many more
MORE, END = b"+", b"."
_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.jsonl?")
_JSON = json.JSONDecoder()
_HEX = frozenset(b"0123456789abcdef")
_MARKED = (b" " + MORE + b" ", b" " + END + b" ")


class Damaged(ValueError):
    """A journal line that cannot be read; the text says why."""


def encode_batch(batch: list[dict]) -> bytes:
    """A batch as journal lines: each with its checksum, the last one marked as the end of the batch."""
    lines = []
    for n, record in enumerate(batch, 1):
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        body = (END if n == len(batch) else MORE) + b" " + text
        lines.append(b"%08x %s\n" % (zlib.crc32(body), body))
    return b"".join(lines)


def decode_line(line: bytes) -> tuple[dict, bool]:
    """The record of one journal line (without its newline), and whether it ends its batch. Slices and the JSON
    decoder's raw_decode, not a regular expression and json.loads: a year's export decodes 500,000 lines."""
    body = line[9:]
    if line[8:11] not in _MARKED:
        raise Damaged("not a journal line")
    if line[:8] != b"%08x" % zlib.crc32(body):
        raise Damaged("its checksum does not match" if _HEX.issuperset(line[:8]) else "not a journal line")
    try:
        text = body.decode()
        record, end = _JSON.raw_decode(text, 2)     # after the mark and its space
        if end != len(text):
            raise ValueError("text after the JSON")
    except (ValueError, RecursionError):
        raise Damaged("not JSON") from None
    if not _is_record(record):
        raise Damaged("not a record (an object with an id and a kind)")
    return record, text[0] == "."


def _is_record(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("kind"), str)


class _Scan:
    """One pass over a journal from a batch boundary (`end`, the byte offset, and `line`, the lines before it).
    Iterating yields the records of the complete batches. Then `end` and `line` are where the last complete
    batch ends, `damage` lists the damaged lines before it, and `tail` is (first line, why) for what follows it,
    or None when nothing does."""

    def __init__(self, handle, end: int = 0, line: int = 0):
        self._handle, self.end, self.line = handle, end, line
        self.damage: list[tuple[int, str]] = []
        self.tail: tuple[int, str] | None = None

    def __iter__(self) -> Iterator[dict]:
        return (record for _start, _end, record in self.lines())

    def lines(self) -> Iterator[tuple[int, int, dict]]:
        """(start, end, record) of each line of the complete batches: where the line starts and ends in the file."""
        position, number, batch, suspect = self.end, self.line, [], []
        for raw in self._handle:
            start, position, number = position, position + len(raw), number + 1
            if not raw.endswith(b"\n"):
                suspect.append((number, "the line has no end (newline)"))
                break
            try:
                record, last = decode_line(raw[:-1])
            except Damaged as exc:
                suspect.append((number, str(exc)))
                continue
            batch.append((start, position, record))
            if last:
                self.damage += suspect
                self.end, self.line = position, number
                yield from batch
                batch, suspect = [], []
        if position > self.end:
            self.tail = (self.line + 1, f"line {suspect[0][0]}: {suspect[0][1]}" if suspect
                         else "a batch without its last line")


def _report(path: Path, damage: list[tuple[int, str]]) -> None:
    for number, why in damage[:DAMAGE_LOGGED]:
        log.error("%s line %d: %s; the line is skipped and the file left as it is", path, number, why)
    if len(damage) > DAMAGE_LOGGED:
        log.error("%s: %d more damaged line(s) skipped", path, len(damage) - DAMAGE_LOGGED)


def _legacy(path: Path) -> list[dict]:
    """A day recorded before the journal, in a TinyDB file: read by TinyDB, read-only."""
    try:
        with TinyDB(path, access_mode="r", encoding="utf-8") as db:
            documents = sorted(db.table(LEGACY_TABLE).all(), key=lambda doc: doc.doc_id)
    except FileNotFoundError:
        return []
    except json.JSONDecodeError as exc:
        log.error("%s line %d column %d: not a TinyDB day file (%s); its records are left unread and the file as "
                  "it is", path, exc.lineno, exc.colno, exc.msg)
        return []
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.error("%s: cannot be read as a TinyDB day file (%.200s); its records are left unread and the file as "
                  "it is", path, exc)
        return []
    records = [dict(doc) for doc in documents if _is_record(doc)]
    if len(records) < len(documents):
        log.error("%s: %d entry(ies) of its %r table are not records; skipped", path,
                  len(documents) - len(records), LEGACY_TABLE)
    return records


def _cut(path: Path, scan: _Scan) -> None:
    """Cuts what follows the last complete batch, after keeping its bytes in the .cut file beside the day."""
    with open(path, "rb") as handle:
        handle.seek(scan.end)
        torn = handle.read()
    kept = path.with_name(path.name.removesuffix(JOURNAL) + CUT)
    fd = durable.open_for_append(kept)
    try:
        durable.append(fd, torn)
    finally:
        os.close(fd)
    durable.truncate(path, scan.end)
    line, why = scan.tail
    log.warning("%s: from line %d, %d byte(s) that are not a complete batch (%s) were cut off and kept in %s: the "
                "batch a power cut interrupted, never acknowledged, or a file that is not a journal", path, line,
                len(torn), why, kept.name)


class DayStore:
    """Records grouped by their service day ("day" field, YYYY-MM-DD), each with a unique "id". One writer (the
    hub's loop) appends; readers in any thread or process read what is complete."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._journals: dict[str, int] = {}        # day -> descriptor open for appending, least used first
        self._ids: dict[str, set[str]] = {}        # day -> its record ids, for has(), oldest first

    def journal(self, day: str) -> Path:
        return self.directory / f"{day}{JOURNAL}"

    def days(self) -> list[str]:
        return sorted({m[1] for path in self.directory.iterdir() if (m := _DAY_FILE.fullmatch(path.name))})

    def served_days(self, clock_day: str) -> list[str]:
        """The days recorded up to the clock's, and any later one that holds more than the appointments booked
        for it (a clock set back: hub.day): a later day's file of bookings alone does not make it a service day."""
        return [day for day in self.days() if day <= clock_day or
                any(r["kind"] not in BOOKING_KINDS for r in self.records(day))]

    def days_between(self, first: date, last: date) -> list[str]:
        return [day for day in self.days() if first.isoformat() <= day <= last.isoformat()]

    def records(self, day: str) -> Iterator[dict]:
        """A day's records in the order they were written, read as they are needed."""
        yield from _legacy(self.directory / f"{day}{LEGACY}")
        try:
            handle = open(self.journal(day), "rb")
        except FileNotFoundError:
            return
        with handle:
            scan = _Scan(handle)
            yield from scan
        _report(self.journal(day), scan.damage)

    def lines_from(self, day: str, offset: int) -> Iterator[tuple[int, int, dict]]:
        """(start, end, record) of each line of the day's journal from byte `offset` (a line's start) on, in the
        complete batches: what the shipper sends to the central, read as it is needed. Damage is logged."""
        try:
            handle = open(self.journal(day), "rb")
        except FileNotFoundError:
            return
        with handle:
            handle.seek(offset)
            scan = _Scan(handle, offset)
            yield from scan.lines()
        _report(self.journal(day), scan.damage)

    def day(self, day: str) -> list[dict]:
        return list(self.records(day))

    def between(self, first: date, last: date) -> Iterator[dict]:
        """Records of every day from first to last inclusive, one day after the other."""
        for day in self.days_between(first, last):
            yield from self.records(day)

    def has(self, day: str, record_id: str) -> bool:
        if day not in self._ids:
            self._ids[day] = {record["id"] for record in self.records(day)}
            _keep_newest(self._ids, OPEN_DAYS)
        return record_id in self._ids[day]

    def resume(self, day: str) -> list[dict]:
        """For the writer's start: the day's records, once a torn end of its journal is cut off; the journal held
        open for appending if the day has one yet (none is made before its first record: a clock that was
        wrong for a moment at boot leaves no day behind)."""
        records = _legacy(self.directory / f"{day}{LEGACY}") + self._recover(day)
        if self.journal(day).exists():
            self._hold(day)
        return records

    def append(self, records: Iterable[dict]) -> None:
        """Durable when it returns: for each day touched, its batch in one write and one fsync."""
        by_day: dict[str, list[dict]] = {}
        for record in records:
            by_day.setdefault(record["day"], []).append(record)
        for day, batch in by_day.items():
            data = encode_batch(batch)
            if day in self._journals:
                self._journals[day] = self._journals.pop(day)   # the one used last is the last one closed
            else:
                self._recover(day)
                self._hold(day)
            try:
                durable.append(self._journals[day], data)
            except BaseException:
                self._forget(day)   # what reached the file is an unfinished batch: opening it again cuts it
                raise
            if day in self._ids:
                self._ids[day].update(record["id"] for record in batch)

    def _recover(self, day: str) -> list[dict]:
        """Reads a day's journal for its writer, cutting a torn end off it; returns its records."""
        self._forget(day)
        path = self.journal(day)
        try:
            with open(path, "rb") as handle:
                scan = _Scan(handle)
                records = list(scan)
        except FileNotFoundError:
            return []
        _report(path, scan.damage)
        if scan.tail is not None:
            _cut(path, scan)
        return records

    def _hold(self, day: str) -> None:
        self._journals[day] = durable.open_for_append(self.journal(day))
        _keep_newest(self._journals, OPEN_DAYS, os.close)

    def _forget(self, day: str) -> None:
        fd = self._journals.pop(day, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        for day in list(self._journals):
            self._forget(day)
        self._ids.clear()


def _keep_newest(entries: dict, size: int, drop=lambda value: None) -> None:
    """Keeps the `size` entries added last to a dict, passing the value of each one removed to `drop`."""
    while len(entries) > size:
        drop(entries.pop(next(iter(entries))))


class Follower:
    """A day's records as the hub appends them, read like `tail -f`: each poll reads only the bytes added since
    the last one, and returns the records of the batches completed in them (a batch still being written waits for
    its last line). A day begun before the upgrade starts with its TinyDB file."""

    def __init__(self, store: DayStore, day: str):
        self.day = day
        self._legacy, self._path = store.directory / f"{day}{LEGACY}", store.journal(day)
        self._end = self._line = 0
        self._inode: int | None = None
        self._started = False

    def poll(self) -> tuple[bool, list[dict]]:
        """(again, records): `again` when the records start from the beginning of the day: at the first poll, or
        when the journal was replaced or shortened behind this reader."""
        try:
            handle = open(self._path, "rb")
        except FileNotFoundError:
            handle = None           # nothing appended to this day yet
        with handle or nullcontext():
            stat = os.fstat(handle.fileno()) if handle else None
            if stat and self._inode is not None and (stat.st_ino != self._inode or stat.st_size < self._end):
                log.warning("%s was replaced or shortened: the day is read again from its start", self._path)
                self._end = self._line = 0
                self._started = False
            again, records = not self._started, []
            if again:
                records, self._started = _legacy(self._legacy), True
            if handle:
                handle.seek(self._end)
                scan = _Scan(handle, self._end, self._line)
                records += scan
                _report(self._path, scan.damage)
                self._end, self._line, self._inode = scan.end, scan.line, stat.st_ino
        return again, records
