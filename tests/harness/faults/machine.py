"""One Pi running one role, in a thread, that can lose its power at any instant."""
from __future__ import annotations

import queue
import threading
import time

import gpiozero

from tests.harness.faults.network import Cable
from tests.harness.roles import wait_until


def release_pins(unit) -> None:
    """What the operating system does for a process that dies: every pin it held is free again."""
    for value in vars(unit).values():
        for device in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(device, gpiozero.Device):
                device.close()


class Machine:
    """One Pi running one role. boot() makes the role's unit from its state directory and runs its loop in a
    thread; crash() is a power cut: the loop stops, the connection drops without a word, the pins are released
    and nothing in memory survives. A unit whose loop raises dies the same way, as its process would."""

    def __init__(self, name: str, make, cable: Cable):
        self.name, self._make, self.cable = name, make, cable
        self.units: list = []            # every incarnation, oldest first
        self.unplugged = False           # the cable is cut on purpose (not because the machine is down)
        self.steps = 0
        self.died: BaseException | None = None
        self.deaths: list[BaseException] = []   # what ended each incarnation that did not stop in order
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._calls: queue.Queue = queue.Queue()

    @property
    def unit(self):
        return self.units[-1]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def boot(self) -> None:
        if self.running:
            return
        unit = self._make()
        self.units.append(unit)
        if not self.unplugged:
            self.cable.plug()
        self.died, self._stop = None, threading.Event()
        unit.start()
        self._thread = threading.Thread(target=self._loop, args=(unit, self._stop), daemon=True, name=self.name)
        self._thread.start()

    def _loop(self, unit, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                unit.step(0.05)
                self.steps += 1
                while not self._calls.empty():
                    look, answer = self._calls.get()
                    answer.put(look(unit))
        except BaseException as exc:  # noqa: BLE001 - the process ends here, whatever ended it
            self._lose(unit)
            self.deaths.append(exc)
            self.died = exc  # last: a supervisor may boot the next one as soon as it reads this

    def crash(self) -> None:
        if not self.running:
            return
        self._stop.set()
        self._thread.join(10)
        self._lose(self.unit)

    def _lose(self, unit) -> None:
        self.cable.cut()                  # first, so nothing more reaches the broker
        unit.link.client.loop_stop()
        release_pins(unit)

    def shutdown(self) -> None:
        """An orderly stop, as on SIGTERM."""
        if not self.running:
            return
        self._stop.set()
        self._thread.join(10)
        self.unit.stop()

    def unplug(self) -> None:
        self.unplugged = True
        self.cable.cut()

    def replug(self) -> None:
        self.unplugged = False
        if self.running:
            self.cable.plug()

    def between_steps(self, look, timeout: float = 10):
        """look(unit), run in the unit's own thread between two steps: a view that is never half updated.
        None if the unit is not running."""
        answer: queue.Queue = queue.Queue()
        self._calls.put((look, answer))
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            try:
                return answer.get(timeout=0.05)
            except queue.Empty:
                continue
        return None

    def settled(self, timeout: float = 10) -> None:
        """Waits until what was put in the unit's inbox so far (a press) has been handled."""
        wait_until(lambda: self.unit.inbox.empty() or not self.running, timeout, f"{self.name} to take the press")
        seen = self.steps
        wait_until(lambda: self.steps > seen or not self.running, timeout, f"{self.name} to handle the press")
