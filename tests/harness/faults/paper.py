"""A printer's paper roll that runs out, also in the middle of a ticket."""
from __future__ import annotations

from appliance.drivers.printer import PrinterError, SimulatedPrinter


class Roll(SimulatedPrinter):
    """A simulated printer whose roll can be made to end in the middle of the next ticket: the kiosk then holds
    a number it could not print, and the printer says it is out of paper until refilled."""

    def __init__(self):
        super().__init__()
        self.torn = 0              # tickets cut short by the end of the roll
        self._left: int | None = None

    def end_after(self, nbytes: int) -> None:
        self._left = nbytes

    def refill(self) -> None:
        self._left, self.paper = None, "ok"

    def _raw(self, msg: bytes) -> None:
        if self._left is not None and self.paper == "ok" and len(msg) > self._left:
            super()._raw(msg[:self._left])
            self._left, self.paper = None, "out"
            self.torn += 1
            raise PrinterError("se acabó el papel")
        if self._left is not None:
            self._left -= len(msg)
        super()._raw(msg)
