"""Running one role as a service: signals, systemd readiness and watchdog, an orderly stop.

Python's default SIGTERM ends the process without running `finally` blocks; the handler here only sets a
flag, so the loop ends and the role stops in order (publishes "offline", flushes, releases its pins).
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


def state_dir(value: str | None, role: str) -> Path:
    """--state, else systemd's StateDirectory, else ./state/ROLE."""
    if value:
        return Path(value)
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return Path("state") / role


def sd_notify(state: str) -> None:
    """Tells systemd (Type=notify) what the service is doing; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(state.encode(), address)


def serve(unit, *, ready_timeout: float = 10.0) -> None:
    """Starts a role, runs its loop until SIGTERM or SIGINT, then stops it in order."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    unit.start()
    if not unit.link.wait_connected(ready_timeout):
        log.warning("%s: the broker is not reachable yet; working offline and retrying", unit.link.device)
    sd_notify("READY=1")
    watchdog_s = int(os.environ.get("WATCHDOG_USEC", "0")) / 1e6
    last_ping = 0.0
    healthy = getattr(unit, "healthy", lambda: True)   # a role may know that its work is not getting through
    try:
        while not stop.is_set():
            unit.step()
            unit.link.heartbeat()   # the device's clock, for the hub to check
            if watchdog_s and time.monotonic() - last_ping > watchdog_s / 3 and healthy():
                sd_notify("WATCHDOG=1")  # from the main loop: a stuck loop stops the pings and systemd restarts it
                last_ping = time.monotonic()
    finally:  # also when a step fails: the role says "offline" and releases its pins before systemd restarts it
        sd_notify("STOPPING=1")
        unit.stop()
