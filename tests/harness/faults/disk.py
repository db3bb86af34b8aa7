"""The hub's SD card failing: a power cut or an I/O error in the middle of a durable write."""
from __future__ import annotations

import errno
from collections import Counter
from pathlib import Path

from appliance.core import durable
from appliance.records.journal import decode_line


class PowerCut(BaseException):
    """The power goes at this instant: nothing after it runs in that process. A BaseException, so no handler of
    the product catches it, as nothing catches a power cut."""


class FailingCard(OSError):
    """The I/O error an SD card gives when it fails a write."""


class DurableOs:
    """Stands in for appliance.core.durable's `os` within a `with` block: every call goes to the real one but those
    a subclass overrides (its `write`, as the SD card answers it)."""

    def __enter__(self):
        self._real, durable.os = durable.os, self
        return self

    def __exit__(self, *exc) -> None:
        durable.os = self._real

    def __getattr__(self, name):
        return getattr(self._real, name)


class HubDisk(DurableOs):
    """The hub's SD card as its journal sees it: when armed, the next append to a day's
    journal fails once in the middle of the batch: its first half reaches the card, ending in half a line, then
    "power_cut" ends the process there and "io_error" raises EIO as a failing card does. The ids of the devices'
    facts that were in that batch are kept: each must end up in the store once."""

    FACTS = ("ticket", "void", "rating", "request")

    def __init__(self, days: Path):
        self.days = Path(days).resolve()
        self.armed: list[str] = []   # traps waiting for a write, oldest first
        self.interrupted: set[str] = set()
        self.fired: Counter = Counter()

    def write(self, fd: int, data) -> int:
        path = Path(self._real.readlink(f"/proc/self/fd/{fd}"))
        if not self.armed or path.parent != self.days or path.suffix != ".jsonl":
            return self._real.write(fd, data)
        kind = self.armed.pop(0)
        self.fired[kind] += 1
        batch = bytes(data)
        records = [decode_line(line)[0] for line in batch.splitlines()]
        self.interrupted |= {r["id"] for r in records if r["kind"] in self.FACTS}
        self._real.write(fd, batch[:_middle_of_a_line(batch)])
        if kind == "power_cut":
            raise PowerCut(f"power cut in the middle of an append to {path.name}")
        raise FailingCard(errno.EIO, "Input/output error (injected)", str(path))


def _middle_of_a_line(batch: bytes) -> int:
    """About half of the batch, never a whole number of lines."""
    cut = len(batch) // 2
    return cut + 1 if batch[cut - 1:cut] == b"\n" else cut
