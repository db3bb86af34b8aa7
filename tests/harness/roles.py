"""Helpers for tests that run roles in threads against a real broker."""
import threading
import time
from datetime import datetime

import paho.mqtt.client as mqtt

from appliance import contract
from appliance import site as site_config

# The deadline for one step of a scenario with real roles (a role boots and connects, a message crosses the broker
# and is answered) on the slowest machine that runs the suite: a Raspberry Pi 3, or a PC emulating arm64
# (.ci/arm64-check). A wait returns as soon as its condition holds: a deadline this long costs nothing elsewhere.
STEP_DEADLINE_S = 30.0


def wait_until(predicate, timeout: float = STEP_DEADLINE_S, what: str = "condition"):
    """Polls a condition that other threads make true, with a deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Running:
    """A role's loop in a thread, as on its own Pi: `with Running(unit) as unit: ...`."""

    def __init__(self, unit):
        self.unit, self._stop = unit, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.is_set():
            self.unit.step(0.05)

    def __enter__(self):
        self.unit.start()
        self._thread.start()
        return self.unit

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)
        self.unit.stop()


class Ticking:
    """A monotonic clock for a role whose presses a test makes faster than any hand: one second passes
    between two readings, so no press is taken for contact bounce."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


class SettableClock:
    """A clock the test sets (`moment`), read by the roles: a `now` (a datetime) or a `monotonic` (seconds)."""

    def __init__(self, moment):
        self.moment = moment

    def __call__(self):
        return self.moment


def heartbeat(device_id: str, at: datetime, *, source: str | None = None, retain: bool = False,
              problem: str | None = None) -> mqtt.MQTTMessage:
    """A device's heartbeat as the coordinators' page receives it, just now."""
    beat = contract.Heartbeat(id=contract.new_id(), at=at.isoformat(), source=source or device_id, problem=problem)
    message = mqtt.MQTTMessage(0, contract.heartbeat_topic(device_id).encode())
    message.payload, message.retain, message.timestamp = beat.to_json(), retain, time.monotonic()
    return message


def site_text(broker, text: str | None = None) -> str:
    """The example site file (or `text`, made from it) pointed at a test's own broker: its port and its CA."""
    text = site_config.EXAMPLE.read_text(encoding="utf-8") if text is None else text
    return text.replace("port = 8883", f'port = {broker.port}\nca_file = "{broker.ca_file}"', 1)
