"""The citizens' names and phones given with an appointment (Ley 1581: only with their consent, none from a minor).

They are kept apart from the journal, which is shipped to the central and kept for years: one small file per
appointment day, readable only by the hub's user, written by the hub when it books and read by the coordinators'
page (staff only). A day's file is deleted [appointments] retention_days after that day (`forget_before`).
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from appliance.core.durable import fsync_dir, write_atomic

log = logging.getLogger(__name__)
_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.json")


class Contacts:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _path(self, day: str) -> Path:
        return self.directory / f"{day}.json"

    def of_day(self, day: str) -> dict[str, dict]:
        """appointment code -> {"name", "phone"} of that day; {} when none (or the file was already deleted)."""
        try:
            return json.loads(self._path(day).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.error("the contacts of %s cannot be read: %s", day, exc)
            return {}

    def put(self, day: str, appointment: str, contact: dict | None) -> None:
        """Keeps (or, with None, removes) an appointment's name and phone."""
        entries = self.of_day(day)
        if contact is None and appointment not in entries:
            return
        if contact is None:
            del entries[appointment]
        else:
            entries[appointment] = contact
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(self._path(day), json.dumps(entries, ensure_ascii=False).encode(), mode=0o600)

    def forget_before(self, day: str) -> list[str]:
        """Deletes the files of the days before `day`; returns those days."""
        if not self.directory.is_dir():
            return []
        gone = []
        for path in self.directory.iterdir():
            found = _DAY_FILE.fullmatch(path.name)
            if found and found[1] < day:
                path.unlink()
                gone.append(found[1])
        if gone:
            fsync_dir(self.directory)
            log.info("names and phones of the appointments of %s deleted (retention period over)",
                     ", ".join(sorted(gone)))
        return sorted(gone)
