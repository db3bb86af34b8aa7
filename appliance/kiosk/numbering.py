"""Ticket numbers: per service day and per prefix from 001, never the same number twice.

The counter is written durably (atomic replace + fsync) before the number is printed, so a power cut at any
instant gives at worst a skipped number, never a repeated one. A new day starts a new series on its first
ticket; no cron job is involved.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from appliance.core.durable import write_json_atomic
from appliance.site import SetupError


class CounterError(SetupError):
    """The counter file cannot be trusted; issuing would risk repeating numbers."""


class TicketCounter:
    """The file also remembers the number being issued (`pending`) until the kiosk has recorded what became
    of it, so that after a power cut the kiosk can settle it instead of losing track."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            state = json.loads(self.path.read_text())
            self._day, self._last = state["day"], dict(state["last"])
            self.pending: dict | None = state.get("pending")
        except FileNotFoundError:
            self._day, self._last, self.pending = "", {}, None
        except (ValueError, KeyError, TypeError) as exc:
            raise CounterError(f"{self.path} is damaged ({exc}); restore it or move it aside after checking the "
                               "last numbers printed today") from None

    def take(self, prefix: str, day: date) -> int:
        """The next number of the prefix's series, already on disk when it is returned. A later day starts
        new series; an earlier one (a clock set back: a Pi has no clock battery and boots with the time it
        last saved) continues the current series, so no number is printed twice when the clock comes right."""
        if day.isoformat() > self._day:
            self._day, self._last = day.isoformat(), {}
        number = self._last.get(prefix, 0) + 1
        self._last[prefix] = number
        self.pending = {"prefix": prefix, "number": number, "day": self._day}
        self._save()
        return number

    @property
    def day(self) -> date | None:
        """The service day of the current series (None before the first ticket)."""
        return date.fromisoformat(self._day) if self._day else None

    def settle(self) -> None:
        """What became of the pending number is now recorded elsewhere (the outbox)."""
        self.pending = None
        self._save()

    def _save(self) -> None:
        write_json_atomic(self.path, {"day": self._day, "last": self._last, "pending": self.pending})


def turn_number(prefix: str, number: int) -> str:
    """'P-007': what the citizen reads on the ticket and the screen."""
    return f"{prefix}-{number:03d}"


def turn_id(day: date, kiosk: str, prefix: str, number: int) -> str:
    """Unique on the site: the day, the kiosk (prefixes belong to one kiosk) and the number."""
    return f"{day.isoformat()}/{kiosk}/{prefix}{number:03d}"
