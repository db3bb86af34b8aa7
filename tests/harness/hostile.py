"""A hostile party's idle connections, held by a child process (so the test's own clients, paho among them,
keep file descriptors that select() takes):

    with Held("silent", host, port, 1100):           # TCP connections that never send a byte
    with Held("handshake", host, port, 300, ca=...):  # TLS finished, then nothing
    with Held("slow", host, port, 16, ca=...):       # TLS, then one header line every SLOW_S

The child reports "ready N" once N connections are open and holds them until the test closes its stdin; a
connection the server closes is not opened again. Loopback only.
"""
from __future__ import annotations

import resource
import select
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

SLOW_S = 5.0
READY_S = 60.0


class Held:
    def __init__(self, kind: str, host: str, port: int, count: int, *, ca: Path | None = None):
        assert host.startswith("127."), "hostile connections stay on the loopback"
        self.command = [sys.executable, "-m", "tests.harness.hostile", kind, host, str(port), str(count),
                        str(ca or "")]
        self.count = count
        self.opened = 0

    def __enter__(self) -> "Held":
        self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                        cwd=Path(__file__).resolve().parents[2])
        line = self.process.stdout.readline().split()
        assert line[:1] == ["ready"], f"the hostile child did not start: {line}"
        self.opened = int(line[1])
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _open(kind: str, host: str, port: int, context: ssl.SSLContext | None):
    sock = socket.create_connection((host, port), timeout=10)
    if kind == "silent":
        return sock
    tls = context.wrap_socket(sock, server_hostname=host)
    if kind == "slow":
        tls.sendall(b"GET /en-vivo HTTP/1.1\r\n")
    return tls


def main(kind: str, host: str, port: str, count: str, ca: str) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    context = ssl.create_default_context(cafile=ca) if ca else None
    held = []
    deadline = time.monotonic() + READY_S
    for _ in range(int(count)):
        if time.monotonic() > deadline:
            break
        try:
            held.append(_open(kind, host, int(port), context))
        except OSError:     # refused or reset: the server's limits at work; the test reads how many were held
            pass
    print(f"ready {len(held)}", flush=True)
    line = 0
    while not select.select([sys.stdin], [], [], SLOW_S)[0]:
        if kind == "slow":
            line += 1
            for sock in list(held):
                try:
                    sock.sendall(f"X-Linea-{line}: a\r\n".encode())
                except OSError:
                    held.remove(sock)


if __name__ == "__main__":
    main(*sys.argv[1:6])
