"""The desk's counter display: above the advisor's desk, it shows the desk and the turn being served.

The real one is a CD5220-family customer display (2 lines of 20 characters, VFD or LCD, RS-232 or USB-serial,
9600 baud 8N1 by default): the pole displays sold with point-of-sale systems, cheap, bright and readable from
the waiting room. Its string mode writes a whole line at once: ESC Q A <text> CR for the upper line and
ESC Q B <text> CR for the lower one, after ESC @ (initialise). Text is sent in code page 437, the factory
character table of these displays, which has á é í ó ú ñ ü ¿ ¡. `LogCounterDisplay` stands in for it in the
demo.
"""
from __future__ import annotations

import logging
from typing import Protocol

import serial

from appliance.site import COUNTER_CHARACTERS as DISPLAY_CHARACTERS
from appliance.site import COUNTER_ENCODING as ENCODING

log = logging.getLogger(__name__)
INIT = b"\x1b@"
UPPER, LOWER, END = b"\x1bQA", b"\x1bQB", b"\r"


class CounterDisplay(Protocol):
    def show(self, upper: str, lower: str) -> None: ...


def cd5220_lines(upper: str, lower: str) -> bytes:
    """The bytes that put two centred lines on a CD5220 display."""
    def line(text: str) -> bytes:
        return text[:DISPLAY_CHARACTERS].center(DISPLAY_CHARACTERS).encode(ENCODING, errors="replace")
    return UPPER + line(upper) + END + LOWER + line(lower) + END


class LogCounterDisplay:
    """Keeps and logs what a counter display would show."""

    def __init__(self, name: str):
        self.name = name
        self.shown: tuple[str, str] = ("", "")

    def show(self, upper: str, lower: str) -> None:
        if (upper, lower) != self.shown:
            self.shown = (upper, lower)
            log.info("%s shows %r / %r", self.name, upper, lower)


class SerialCounterDisplay:
    """A CD5220 display on a serial port. A display that is unplugged or fails is reported once and opened
    again at the next change: the desk goes on working without it."""

    def __init__(self, device: str, baudrate: int = 9600, *, port_factory=serial.Serial):
        self.device, self.baudrate = device, baudrate
        self._factory = port_factory
        self._port = None
        self.shown: tuple[str, str] = ("", "")
        self._failed = False

    def show(self, upper: str, lower: str) -> None:
        if (upper, lower) == self.shown and self._port is not None:
            return
        try:
            if self._port is None:
                self._port = self._factory(self.device, self.baudrate, timeout=1, write_timeout=1)
                self._port.write(INIT)
            self._port.write(cd5220_lines(upper, lower))
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            if not self._failed:
                log.error("counter display on %s does not answer: %s", self.device, exc)
            self._failed, self._port = True, None
            return
        if self._failed:
            log.info("counter display on %s is back", self.device)
        self._failed, self.shown = False, (upper, lower)

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
