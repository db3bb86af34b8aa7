"""The shipped systemd units, checked by systemd's own tools, and each role run as systemd runs it: readiness and
watchdog through a real NOTIFY_SOCKET, and SIGTERM stopping it in order ("offline" published by the role itself)."""
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from appliance import contract
from appliance.core.link import Link
from appliance.dev.local_broker import free_port
from appliance.ops import install
from tests.harness.page import page_text
from tests.harness.roles import site_text, wait_until

UNITS = install.UNITS   # as the installer finds them: through the package (its units/ is systemd/)
TURNERO = Path(sys.executable).with_name("turnero")
INSTANCES = {  # each unit as a Pi runs it: the template with an instance from the example site
    "turnero-hub.service": "turnero-hub.service",
    "turnero-kiosk@.service": "turnero-kiosk@kiosco-1.service",
    "turnero-desk@.service": "turnero-desk@2.service",
    "turnero-display@.service": "turnero-display@pantalla-1.service",
    "turnero-ship.service": "turnero-ship.service",         # the hub's, on a site with a [central]
    "turnero-mi-turno.service": "turnero-mi-turno.service", # the hub's, on a site whose hub serves "Mi turno"
    "turnero-central.service": "turnero-central.service",   # the organisation's central, on its server
    "turnero-central-mi-turno.service": "turnero-central-mi-turno.service",   # the central's, with [public]
}
# `systemd-analyze security --offline=yes` (systemd 252), measured when the units were written (docs/install.md).
# One hardening option less raises a figure by 0.1 or more, so these are the figures themselves.
EXPOSURE = {"turnero-hub.service": 1.2, "turnero-kiosk@kiosco-1.service": 1.9,
            "turnero-desk@2.service": 1.8, "turnero-display@pantalla-1.service": 1.9,
            "turnero-ship.service": 1.2, "turnero-central.service": 1.2, "turnero-mi-turno.service": 1.2,
            "turnero-central-mi-turno.service": 1.2}
HARDWARE = ("turnero-kiosk@.service", "turnero-desk@.service", "turnero-display@.service")


def test_there_is_one_unit_per_role():
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(INSTANCES)


@pytest.fixture(scope="module")
def system_root(tmp_path_factory):
    """A root for `systemd-analyze --root`: systemd's own units (the targets ours are ordered against, and
    mosquitto.service and postgresql.service), the shipped units as they are, and an executable where install
    links the program."""
    root = tmp_path_factory.mktemp("root")
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS.glob("*.service"):
        shutil.copyfile(unit, root / "etc/systemd/system" / unit.name)
    program = root / "usr/local/bin/turnero"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit], capture_output=True, text=True)


@pytest.mark.parametrize("unit", INSTANCES.values())
def test_systemd_analyze_verify_finds_nothing_wrong_in_the_unit(system_root, unit):
    checked = verify(system_root, unit)
    # An unknown or misspelt directive is only a warning ("Unknown key ..., ignoring"): any output is a failure.
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_systemd_analyze_verify_catches_a_misspelt_directive_and_a_missing_program(system_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(system_root, root, symlinks=True)
    unit = root / "etc/systemd/system/turnero-kiosk@.service"
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    assert "Unknown key 'ProtectSytem'" in verify(root, "turnero-kiosk@kiosco-1.service").stderr
    (root / "usr/local/bin/turnero").unlink()
    checked = verify(root, "turnero-hub.service")
    assert checked.returncode != 0 and "/usr/local/bin/turnero" in checked.stderr


def exposure(root: Path, unit: str) -> float:
    report = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={root}", unit],
                            capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", report).group(1))


@pytest.mark.parametrize("unit", INSTANCES.values())
def test_the_units_hardening_does_not_regress(system_root, unit):
    assert exposure(system_root, unit) <= EXPOSURE[unit]


def directives(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (UNITS / unit).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.parametrize("unit", INSTANCES)
def test_every_unit_is_a_watched_notify_service_of_the_turnero_user_that_always_comes_back(unit):
    found = directives(unit)
    assert found["Type"] == ["notify"] and found["Restart"] == ["always"] and "WatchdogSec" in found
    assert found["User"] == ["turnero"] and found["ExecStart"][0].startswith("/usr/local/bin/turnero ")
    settings = "central.toml" if unit.startswith("turnero-central") else "site.toml"
    assert f"--config /etc/turnero/{settings}" in found["ExecStart"][0]


# What the hub's unit locks down: its companions on the hub and on the central have no hardware either.
SANDBOX = ("UMask", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateUsers", "PrivateMounts",
           "NoNewPrivileges", "CapabilityBoundingSet", "ProtectClock", "ProtectHostname", "ProtectKernelTunables",
           "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups", "ProtectProc", "ProcSubset",
           "RestrictAddressFamilies", "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID", "RemoveIPC",
           "LockPersonality", "MemoryDenyWriteExecute", "SystemCallArchitectures", "SystemCallFilter",
           "SystemCallErrorNumber")


@pytest.mark.parametrize("unit", ["turnero-ship.service", "turnero-central.service",
                                  "turnero-central-mi-turno.service"])
def test_the_shipper_and_the_central_have_the_hubs_sandbox(unit):
    hub, found = directives("turnero-hub.service"), directives(unit)
    assert {key: found.get(key) for key in SANDBOX} == {key: hub[key] for key in SANDBOX}


def test_the_shipper_keeps_its_cursor_and_only_reads_the_hubs_journals():
    found = directives("turnero-ship.service")
    assert found["StateDirectory"] == ["turnero/hub-ship"]
    assert found["ExecStart"] == ["/usr/local/bin/turnero ship --config /etc/turnero/site.toml "
                                  "--days /var/lib/turnero/hub/days"]
    assert found["ReadOnlyPaths"] == ["-/var/lib/turnero/hub/days"] and "turnero-hub.service" in found["After"][0]


def test_the_central_starts_after_its_database_and_its_broker():
    found = directives("turnero-central.service")
    for unit in ("postgresql.service", "mosquitto.service"):
        assert unit in found["After"][0].split() and unit in found["Wants"][0].split()
    assert found["ExecStart"] == ["/usr/local/bin/turnero central serve --config /etc/turnero/central.toml"]


def test_the_centrals_mi_turno_page_yields_the_cpu_to_the_ingest_and_keeps_nothing():
    found = directives("turnero-central-mi-turno.service")
    assert found["ExecStart"] == ["/usr/local/bin/turnero central mi-turno --config /etc/turnero/central.toml"]
    assert found["Nice"] == ["10"] and "StateDirectory" not in found


@pytest.mark.parametrize("unit", HARDWARE)
def test_hardware_units_keep_their_devices(unit):
    # PrivateDevices= hides /dev; ProtectClock= and DeviceAllow= turn on a device allow list. Any of them would
    # buy a better security figure with a kiosk that cannot reach its printer.
    assert not {"PrivateDevices", "ProtectClock", "DeviceAllow", "DevicePolicy"} & set(directives(unit))


def test_the_display_takes_the_first_console_and_still_logs_to_the_journal():
    found = directives("turnero-display@.service")
    assert found["TTYPath"] == ["/dev/tty1"] and found["StandardInput"] == ["tty"]
    assert "getty@tty1.service" in found["Conflicts"][0] and "SDL_VIDEODRIVER=kmsdrm" in found["Environment"]
    assert found["StandardOutput"] == ["journal"] and found["StandardError"] == ["journal"]


# --- each role as systemd runs it ----------------------------------------------------------------------------

class NotifySocket:
    """The socket systemd gives a Type=notify service in $NOTIFY_SOCKET; collects what the service says."""

    def __init__(self):
        self._dir = tempfile.mkdtemp(prefix="notify-")   # short: a socket path has at most 107 characters
        self.path = os.path.join(self._dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._closing.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                continue

    def close(self):
        self._closing.set()
        self._thread.join(2)
        self.sock.close()
        shutil.rmtree(self._dir)


ROLE_COMMANDS = {
    "hub": ("hub", ["hub"]),
    "kiosk": ("kiosco-1", ["kiosk", "--id", "kiosco-1", "--simulated"]),
    "desk": ("escritorio-2", ["desk", "--number", "2", "--simulated"]),
    "display": ("pantalla-1", ["display", "--id", "pantalla-1", "--windowed"]),
}


def retained_status(broker, device: str) -> bytes:
    inbox: queue.Queue = queue.Queue()
    reader = Link("tester", broker.address(), inbox,
                  subscriptions=(contract.status_topic(device),))
    reader.start()
    try:
        while True:  # the inbox also tells of the connection
            message = inbox.get(timeout=5)
            if isinstance(message, mqtt.MQTTMessage):
                assert message.retain
                return message.payload
    finally:
        reader.stop()


@pytest.mark.parametrize("role", ROLE_COMMANDS)
def test_a_role_tells_systemd_it_is_ready_feeds_the_watchdog_and_stops_in_order_on_sigterm(role, broker, tmp_path):
    device, arguments = ROLE_COMMANDS[role]
    config_path = tmp_path / "site.toml"
    config_path.write_text(page_text(site_text(broker), broker, free_port()), encoding="utf-8")
    notify = NotifySocket()
    environment = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="600000",
                       SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    process = subprocess.Popen([str(TURNERO), *arguments, "--config", str(config_path),
                                "--state", str(tmp_path / "state")],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: "READY=1" in notify.messages, what=f"READY=1 from {role}")
        # Pings come every third of the watchdog interval; several prove the loop, not a one-off, sends them.
        wait_until(lambda: notify.messages.count("WATCHDOG=1") >= 3, what="three watchdog pings")
        assert notify.messages.index("READY=1") < notify.messages.index("WATCHDOG=1")
        assert retained_status(broker, device) == contract.ONLINE.encode()
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0, process.stderr.read().decode()
        assert "STOPPING=1" in notify.messages
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        notify.close()
    assert retained_status(broker, device) == contract.OFFLINE.encode()
    # A clean DISCONNECT discards the last will: the "offline" above is the role's own publication.
    log = broker.log_path.read_text()
    assert f"Client turnero-{device} disconnected." in log, log
