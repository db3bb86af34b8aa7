"""The kiosk's QR reader: a USB reader that acts as a keyboard, each code typed as keys and ended with Enter.

Read with python-evdev, the device grabbed (EVIOCGRAB), so a code is never also typed into the console. Only
codes of capital letters and digits are read (an appointment's code, contract.APPOINTMENT): any other key makes the
code garbage, a held key's repeats are not keys, and a code longer than MAX_CODE is cut off and refused, so a
reader that sends garbage or has a key held down gives at most one refused code per Enter, never a flood.
`SimulatedReader` types a code through the same decoding, for tests and the demo (evdev's UInput needs /dev/uinput,
which a CI machine seldom has).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from evdev import InputDevice, ecodes

log = logging.getLogger(__name__)
MAX_CODE = 64          # characters: a longer line is no code of ours
GARBAGE = "\ufffd"     # stands for a key that is no letter or digit, so the code is refused as a whole
_PRESSED, _HELD = 1, 2
_ENTER = (ecodes.KEY_ENTER, ecodes.KEY_KPENTER)
_CHARACTERS = {getattr(ecodes, f"KEY_{c}"): c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}
_CHARACTERS.update({getattr(ecodes, f"KEY_KP{d}"): d for d in "0123456789"})
_SHIFTS = (ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT, ecodes.KEY_CAPSLOCK)
_KEYS = {c: code for code, c in _CHARACTERS.items() if code == getattr(ecodes, f"KEY_{c}")}   # not the keypad's


class KeyTyping:
    """Key events to codes: `feed` returns a code when Enter ends one (bounded; GARBAGE in place of odd keys)."""

    def __init__(self):
        self._typed: list[str] = []

    def feed(self, code: int, value: int) -> str | None:
        if value != _PRESSED or code in _SHIFTS:   # a release, a held key's repeat, a shift: nothing typed
            return None
        if code in _ENTER:
            typed, self._typed = "".join(self._typed), []
            return typed or None
        if len(self._typed) <= MAX_CODE:
            self._typed.append(_CHARACTERS.get(code, GARBAGE))
        return None


class CodeReader:
    """A real reader at `device` (/dev/input/by-id/…-event-kbd): a thread hands each code to `on_code`. A reader
    unplugged or missing is logged; the kiosk goes on giving tickets by its buttons."""

    def __init__(self, device: str, on_code: Callable[[str], None]):
        self.device, self.on_code = device, on_code
        self._typing = KeyTyping()
        self._thread = threading.Thread(target=self._read, name="reader", daemon=True)
        self._input: InputDevice | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._input is not None:
            self._input.close()     # ends the thread's read

    def _read(self) -> None:
        try:
            self._input = InputDevice(self.device)
            self._input.grab()
            for event in self._input.read_loop():
                if event.type == ecodes.EV_KEY and (typed := self._typing.feed(event.code, event.value)):
                    self.on_code(typed)
        except OSError as exc:
            if self._stopping.is_set():
                return
            log.error("the QR reader %s cannot be read (%s): appointments are checked in at reception until it is "
                      "back; the buttons still give tickets", self.device, exc)


class SimulatedReader:
    """Types codes as a reader would, key by key, through the same decoding."""

    def __init__(self, on_code: Callable[[str], None]):
        self.on_code = on_code
        self._typing = KeyTyping()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def keys(self, events: list[tuple[int, int]]) -> None:
        """Raw (key code, value) events: 1 pressed, 2 held (repeat), 0 released."""
        for code, value in events:
            if typed := self._typing.feed(code, value):
                self.on_code(typed)

    def scan(self, text: str) -> None:
        """A code read from paper: shift around each letter, as the readers sold here type capitals."""
        events = []
        for char in text:
            key = _KEYS.get(char)
            if key is None:
                events += [(ecodes.KEY_SLASH, 1), (ecodes.KEY_SLASH, 0)]
            elif char.isalpha():
                events += [(ecodes.KEY_LEFTSHIFT, 1), (key, 1), (key, 0), (ecodes.KEY_LEFTSHIFT, 0)]
            else:
                events += [(key, 1), (key, 0)]
        self.keys(events + [(ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0)])
