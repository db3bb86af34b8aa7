"""A printer's paper roll that runs out, also in the middle of a ticket."""
from __future__ import annotations

import re

from appliance.drivers.printer import PrinterError, SimulatedPrinter

INIT = b"\x1b@"                                  # ESC @ starts every ticket
NUMBER_LINE = re.compile(rb"[A-Z]{1,2}-\d{3}\n")  # a turn's number, whole, on its line


class Roll(SimulatedPrinter):
    """A simulated printer whose roll can be made to end in the middle of the next ticket: the printer says it
    is out of paper until refilled. A ticket cut before its number leaves the kiosk holding a number it could
    not print (void); one cut after it leaves the citizen holding a valid turn."""

    def __init__(self):
        super().__init__()
        self.torn: list[bytes] = []   # what reached the paper of each ticket the end of the roll cut short
        self._left: int | None = None
        self._ticket_start = 0

    def end_after(self, nbytes: int) -> None:
        self._left = nbytes

    def refill(self) -> None:
        self._left, self.paper = None, "ok"

    def torn_before_number(self) -> int:
        return sum(not NUMBER_LINE.search(part) for part in self.torn)

    def _raw(self, msg: bytes) -> None:
        if msg.startswith(INIT) and self.paper == "ok":
            self._ticket_start = len(self.output)
        if self._left is not None and self.paper == "ok" and len(msg) > self._left:
            super()._raw(msg[:self._left])
            self._left, self.paper = None, "out"
            self.torn.append(self.output[self._ticket_start:])
            raise PrinterError("se acabó el papel")
        if self._left is not None:
            self._left -= len(msg)
        super()._raw(msg)
