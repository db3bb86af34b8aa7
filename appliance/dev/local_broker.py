"""A private Mosquitto for the demo and the tests: a real broker on a free loopback port, with its own
configuration, persistence and log in its own directory. It never touches the system service on port 1883.

    with LocalBroker(Path("demo-out/broker")) as broker:
        ...connect to broker.host, broker.port...

Running as root: Mosquitto 2.x then switches to the user "mosquitto" unless the configuration says otherwise,
and that user can neither write the log nor the persistence file in a private directory (pytest's tmp_path is
0700). It does not exit either: it keeps running without its log and fails to save. So as root the
configuration says `user root`; as any other user Mosquitto ignores `user` and runs as that user.
"""
from __future__ import annotations

import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from appliance.ops import broker_files, site_ca
from appliance.site import BrokerAddress, CentralLink

HOST = "127.0.0.1"
DEBIAN_PATH = "/usr/sbin/mosquitto"   # Debian keeps the broker in sbin, outside a normal user's PATH
CONFIG_NAME = "mosquitto.conf"
LOG_NAME = "mosquitto.log"
STDERR_NAME = "mosquitto.stderr"
STOP_TIMEOUT_S = 5.0


class BrokerError(RuntimeError):
    """The local broker is missing, could not start, or did not stop."""


def find_mosquitto() -> str:
    found = shutil.which("mosquitto")
    if found:
        return found
    if os.access(DEBIAN_PATH, os.X_OK):
        return DEBIAN_PATH
    raise BrokerError("mosquitto is not installed: apt-get install mosquitto")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _port_in_use(port: int) -> bool:
    # Same options as Mosquitto's own listener (SO_REUSEADDR): only another listener makes this fail, not the
    # TIME_WAIT connections a previous broker on this port left behind.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def accepts(port: int) -> bool:   # a TCP connect: enough to know the listener is up, TLS or not
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def terminate(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL if the process does not end within STOP_TIMEOUT_S."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LocalBroker:
    """A real mosquitto on a free loopback port, with its own config file in its own directory (no system service)."""

    host: str = HOST

    def __init__(self, workdir: Path, *, port: int | None = None, persistence: bool = True,
                 auth: Path | None = None, tls: bool = True, bridge: CentralLink | None = None):
        self.workdir = Path(workdir).absolute()
        if "\n" in str(self.workdir):
            raise BrokerError(f"the broker's directory cannot be written in mosquitto.conf: {self.workdir!r}")
        self._requested_port = port
        self.port: int = port or 0          # chosen at the first start, then kept by restart()
        self.persistence = persistence
        self.auth = auth                    # a directory from broker_files.write_broker_files: the hub's security
        # As on a site: TLS with a CA of its own (made once in its directory), for the loopback address.
        self.tls = tls
        self.bridge = bridge                # a site's bridge to its central (broker_files.bridge_lines)
        if tls and site_ca.server_certificate(self._tls_dir) is None:   # before a first start: a client may come first
            broker_files.write_tls_files(self._tls_dir, "turnero (local broker)", [self.host, "localhost"])
        self._process: subprocess.Popen | None = None

    @property
    def ca_file(self) -> Path | None:
        """The certificate a client trusts this broker with (None: plain MQTT)."""
        return self._tls_dir / site_ca.CA_CERT if self.tls else None

    def address(self, **login) -> BrokerAddress:
        """How a client reaches this broker (and trusts it); `login`: username, password or credentials_dir."""
        return BrokerAddress(self.host, self.port, ca_file=self.ca_file, **login)

    @property
    def _tls_dir(self) -> Path:
        return self.auth if self.auth else self.workdir / "tls"

    @property
    def config_path(self) -> Path:
        return self.workdir / CONFIG_NAME

    @property
    def log_path(self) -> Path:
        return self.workdir / LOG_NAME

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> "LocalBroker":
        if self.running:
            return self
        executable = find_mosquitto()
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        if _port_in_use(self.port):
            raise BrokerError(f"cannot start mosquitto: port {self.port} on {self.host} is already in use")
        self.config_path.write_text(self._config(), encoding="utf-8")
        with open(self.workdir / STDERR_NAME, "ab") as stderr:
            # Its own session: a Ctrl-C in the terminal reaches the demo, which then stops its roles (they still
            # need the broker to say "offline") and only then the broker.
            self._process = subprocess.Popen([executable, "-c", str(self.config_path)], cwd=self.workdir,
                                             stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                                             start_new_session=True)
        # The open-file limit of the hub's mosquitto.service (broker_files.systemd_drop_in), within this one's.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        files = broker_files.OPEN_FILES if hard == resource.RLIM_INFINITY else min(broker_files.OPEN_FILES, hard)
        try:
            resource.prlimit(self._process.pid, resource.RLIMIT_NOFILE, (files, files))
        except ProcessLookupError:
            pass    # it exited already: said below
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise BrokerError(f"mosquitto exited with status {code} while starting\n{self._diagnostics()}")
            if accepts(self.port):
                return self
            if time.monotonic() >= deadline:
                self.kill()
                raise BrokerError(f"mosquitto did not accept connections on {self.host}:{self.port} "
                                  f"within {timeout} s\n{self._diagnostics()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM (Mosquitto saves its persistence file), then SIGKILL if it does not end in time."""
        process, self._process = self._process, None
        terminate(process)

    def kill(self) -> None:
        """SIGKILL, like a crash or a power cut: whatever was not saved to disk yet is lost."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port, with the same persistence file."""
        self.stop()
        self.start()

    def __enter__(self) -> "LocalBroker":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalBroker {self.host}:{self.port} {state} in {self.workdir}>"

    def _config(self) -> str:
        lines = [
            "# Written by turnero's LocalBroker; rewritten at every start.",
            f"listener {self.port} {self.host}",
            *(broker_files.tls_lines(self._tls_dir) if self.tls else []),
            *(broker_files.security_lines(self.auth) if self.auth else ["allow_anonymous true"]),
            *broker_files.tuning_lines(),
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}",
            "persistence_file mosquitto.db",
            f"log_dest file {self.log_path}",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        ]
        if os.geteuid() == 0:
            # Otherwise Mosquitto 2.x switches to the user "mosquitto", which cannot write in this directory.
            lines.append(f"user {pwd.getpwuid(0).pw_name}")
        if self.bridge is not None:    # last: every line after `connection` is the bridge's
            lines += broker_files.bridge_lines(self.bridge)
        return "\n".join(lines) + "\n"

    def _diagnostics(self) -> str:
        parts = []
        for path in (self.log_path, self.workdir / STDERR_NAME):
            last = tail(path)
            if last:
                parts.append(f"--- {path} (last lines)\n{last}")
        return "\n".join(parts) or f"(mosquitto wrote nothing to {self.log_path})"
