"""A terminal's keys standing in for a simulated device's buttons (`turnero kiosk --simulated`, `turnero desk
--simulated`): a technician tries one role alone, each key pressing its mock pin as a finger would.

On a terminal the keys act at once (cbreak mode, restored at the end; Ctrl+C still stops the role); from a pipe
each character read is a key. A reading thread presses the pins: gpiozero's callbacks only enqueue, as for a
real press.
"""
from __future__ import annotations

import os
import sys
import termios
import threading
import time
import tty
from dataclasses import dataclass

from gpiozero.pins.mock import MockFactory

from appliance.drivers.gpio import press


@dataclass(frozen=True)
class Key:
    key: str
    pin: int
    what: str             # what the button does, as the help says it: "Salud", "siguiente"
    hold_s: float = 0.0   # a long press: the button is held this long (PAUSE held closes a desk)


def free_key(wanted: str, taken: set[str]) -> str:
    """`wanted` when it is one character and free, else the first free letter of the alphabet."""
    if len(wanted) == 1 and wanted not in taken:
        return wanted
    return next(letter for letter in "abcdefghijklmnopqrstuvwxyz" if letter not in taken)


def key_help(keys: list[Key]) -> str:
    """'Teclas: r Registro y Aportes · s Salud · Ctrl+C salir'."""
    return "Teclas: " + " · ".join(f"{key.key} {key.what}" for key in keys) + " · Ctrl+C salir"


class TerminalKeys:
    def __init__(self, keys: list[Key], factory: MockFactory, stream=None):
        self.keys = {key.key: key for key in keys}
        self.factory = factory
        self.fd = (stream or sys.stdin).fileno()
        self._saved = None
        self._thread = threading.Thread(target=self._read, name="keys", daemon=True)

    def start(self) -> None:
        if os.isatty(self.fd):
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        self._thread.start()

    def stop(self) -> None:
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def __enter__(self) -> "TerminalKeys":
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def press(self, char: str) -> bool:
        """Presses the key's button; False for a key that is none."""
        key = self.keys.get(char)
        if key is None:
            return False
        if key.hold_s:
            pin = self.factory.pin(key.pin)
            pin.drive_low()
            time.sleep(key.hold_s)
            pin.drive_high()
        else:
            press(self.factory, key.pin)
        return True

    def _read(self) -> None:
        try:
            while chunk := os.read(self.fd, 64):          # empty: the end of a pipe
                for char in chunk.decode(errors="replace"):
                    self.press(char)
        except OSError:   # the terminal or the pipe went away: no more keys, the role goes on
            return
