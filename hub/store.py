"""The hub's durable record: one TinyDB file per service day.

TinyDB rewrites its whole file on every write, and its JSONStorage rewrites in place (a crash mid-write
corrupts it). So: one partition per day, which keeps a write on day 365 as cheap as on day 1; a storage that
writes a temporary file, fsyncs and renames it over the old one; one writer (the hub's loop); and a whole
batch of events per write (group commit), so a burst costs one write, not one per event.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import Storage

from appliance.durable import write_atomic

_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")


class AtomicJSONStorage(Storage):
    """TinyDB storage: atomic replace on write, and the parsed file kept in memory so that an insert does
    not read and parse the whole day again (this process is the only writer)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._data: dict | None = None

    def read(self) -> dict | None:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_bytes())
            except FileNotFoundError:
                return None
        return self._data

    def write(self, data: dict) -> None:
        try:
            write_atomic(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        except BaseException:
            self._data = None  # TinyDB changed the cached dict in place; the file is the truth
            raise
        self._data = data

    def close(self) -> None:
        self._data = None


class DayStore:
    """Records grouped by their service day ("day" field, YYYY-MM-DD), each with a unique "id"."""

    TABLE = "events"

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._open: dict[str, TinyDB] = {}
        self._ids: dict[str, set[str]] = {}

    def _db(self, day: str) -> TinyDB:
        if day not in self._open:
            if len(self._open) >= 3:  # today and the odd late event for an earlier day
                oldest = next(iter(self._open))
                self._open.pop(oldest).close()
                self._ids.pop(oldest, None)
            self._open[day] = TinyDB(self.directory / f"{day}.json", storage=AtomicJSONStorage)
        return self._open[day]

    def has(self, day: str, record_id: str) -> bool:
        if day not in self._ids or day not in self._open:
            self._ids[day] = {doc["id"] for doc in self._db(day).table(self.TABLE).all()}
        return record_id in self._ids[day]

    def append(self, records: Iterable[dict]) -> None:
        """Durable when it returns: one atomic write per day touched."""
        by_day: dict[str, list[dict]] = {}
        for record in records:
            by_day.setdefault(record["day"], []).append(record)
        for day, batch in by_day.items():
            self._db(day).table(self.TABLE).insert_multiple(batch)
            if day in self._ids:  # only a complete set is kept: has() reads the file for a day not loaded
                self._ids[day].update(r["id"] for r in batch)

    def day(self, day: str) -> list[dict]:
        """A day's records in the order they were written."""
        path = self.directory / f"{day}.json"
        if day not in self._open and not path.exists():
            return []
        return [dict(doc) for doc in self._db(day).table(self.TABLE).all()]

    def days(self) -> list[str]:
        return sorted(p.stem for p in self.directory.iterdir() if _DAY_FILE.fullmatch(p.name))

    def between(self, first: date, last: date) -> Iterator[dict]:
        """Records of every day from first to last inclusive, read straight from the files."""
        wanted = {(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
        for day in self.days():
            if day in wanted:
                data = json.loads((self.directory / f"{day}.json").read_bytes())
                table = data.get(self.TABLE, {})
                yield from (table[key] for key in sorted(table, key=int))

    def close(self) -> None:
        for db in self._open.values():
            db.close()
        self._open.clear()
        self._ids.clear()
