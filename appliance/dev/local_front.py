"""A private nginx in front of the coordinators' page, for the tests: a real nginx with the hub's own server
blocks (appliance/ops/front.py), its configuration, temporary files and log in its own directory, on the ports
of the site configuration it is given. It never touches the system's nginx.

    with LocalFront(Path("out/front"), config):      # config.web: port, http_port, app_port, cert_file, key_file
        ...https://127.0.0.1:<config.web.port>/...

nginx opens /var/log/nginx/error.log before it reads its configuration unless told otherwise (-e), and as root
its workers switch to the user nobody, who cannot read a private directory: as root the configuration says
`user root`.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

from appliance.dev.local_broker import HOST, accepts, tail, terminate
from appliance.ops import front
from appliance.site import SiteConfig

DEBIAN_PATH = "/usr/sbin/nginx"
CONFIG_NAME = "nginx.conf"
LOG_NAME = "error.log"
CONNECTIONS = 768       # a worker's connections, as Debian's nginx.conf has them (it runs a worker per core)
TEMPORARY = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class FrontError(RuntimeError):
    """The local nginx is missing, could not start, or did not stop."""


def find_nginx() -> str:
    found = shutil.which("nginx") or (DEBIAN_PATH if os.access(DEBIAN_PATH, os.X_OK) else None)
    if found is None:
        raise FrontError("nginx is not installed: apt-get install nginx-light")
    return found


class LocalFront:
    def __init__(self, workdir: Path, config: SiteConfig, text: str | None = None, *,
                 connections: int = CONNECTIONS):
        """`text`: the `http {}` part (the central's page's: front.front_text); the site page's when not given.
        nginx listens on `config.web.port`. `connections`: the worker's (a bench's thousand phones, each kept
        alive, need more than Debian's)."""
        self.workdir = Path(workdir).absolute()
        self.config = config
        self.text = text if text is not None else front.site_text(config, cache_dir=self.workdir / "cache")
        self.connections = connections
        self._process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> "LocalFront":
        executable = find_nginx()
        for name in TEMPORARY:
            (self.workdir / "temp" / name).mkdir(parents=True, exist_ok=True)
        config = self.workdir / CONFIG_NAME
        config.write_text(self._config(), encoding="utf-8")
        self._process = subprocess.Popen(
            [executable, "-p", str(self.workdir), "-c", str(config), "-e", str(self.workdir / LOG_NAME),
             "-g", f"daemon off; pid {self.workdir / 'nginx.pid'};"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not accepts(self.config.web.port):
            if self._process.poll() is not None or time.monotonic() >= deadline:
                self.stop()
                raise FrontError(f"nginx did not start on {HOST}:{self.config.web.port}\n"
                                 f"{tail(self.workdir / LOG_NAME)}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """SIGTERM (nginx's quick shutdown), then SIGKILL if it does not end in time."""
        process, self._process = self._process, None
        terminate(process)

    def __enter__(self) -> "LocalFront":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def log(self) -> str:
        return tail(self.workdir / LOG_NAME, 200)

    def _config(self) -> str:
        temporary = [f"{name}_temp_path {self.workdir / 'temp' / name};" for name in TEMPORARY]
        lines = [
            "# Written by turnero's LocalFront; rewritten at every start.",
            *([f"user {pwd.getpwuid(0).pw_name};"] if os.geteuid() == 0 else []),
            "worker_processes 1;",
            f"error_log {self.workdir / LOG_NAME} warn;",
            f"events {{ worker_connections {self.connections}; }}",
            "http {",
            "    access_log off;",
            *(f"    {line}" for line in temporary),
            *(f"    {line}" for line in self.text.splitlines()),
            "}",
        ]
        return "\n".join(lines) + "\n"
