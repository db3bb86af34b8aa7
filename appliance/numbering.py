"""Ticket numbers: per service day and per prefix from 001, never the same number twice.

The counter is written durably (atomic replace + fsync) before the number is printed, so a power cut at any
instant gives at worst a skipped number, never a repeated one. A new day starts a new series on its first
ticket; no cron job is involved.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from .durable import write_json_atomic


class TicketCounter:
    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            state = json.loads(self.path.read_text())
            self._day, self._last = state["day"], dict(state["last"])
        except FileNotFoundError:
            self._day, self._last = "", {}

    def take(self, prefix: str, day: date) -> int:
        """The next number of the prefix's series for that day, already on disk when it is returned."""
        if day.isoformat() != self._day:
            self._day, self._last = day.isoformat(), {}
        number = self._last.get(prefix, 0) + 1
        write_json_atomic(self.path, {"day": self._day, "last": {**self._last, prefix: number}})
        self._last[prefix] = number
        return number


def turn_number(prefix: str, number: int) -> str:
    """'P-007': what the citizen reads on the ticket and the screen."""
    return f"{prefix}-{number:03d}"


def turn_id(day: date, kiosk: str, prefix: str, number: int) -> str:
    """Unique on the site: the day, the kiosk (prefixes belong to one kiosk) and the number."""
    return f"{day.isoformat()}/{kiosk}/{prefix}{number:03d}"
