"""A device's network cable to the broker, as a loopback relay that can be cut, frozen and plugged back."""
from __future__ import annotations

import socket
import threading

from appliance.dev.local_broker import HOST


class Cable:
    """A device's network cable to the broker: a loopback TCP relay. cut() drops its connections at once (the
    broker sees an unclean drop and fires the last will) and refuses new ones until plug(). stall() holds every
    byte in transit, as a frozen access point does, without either end noticing, until flow()."""

    def __init__(self, broker_port: int, *, tap: bool = False):
        self.broker_port = broker_port
        self.tapped = bytearray() if tap else None   # with `tap`, every byte the device sent: a capture of the wire
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._plugged, self._closed = True, False
        self._flowing = threading.Event()
        self._flowing.set()
        threading.Thread(target=self._accept, daemon=True, name=f"cable-{self.port}").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                device, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                broker = socket.create_connection((HOST, self.broker_port), timeout=2)
            except OSError:
                device.close()  # the broker is down: the device sees a refused connection
                continue
            with self._lock:
                if not self._plugged:
                    _hang_up(device, broker)
                    continue
                self._sockets |= {device, broker}
            for sock in (device, broker):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for source, sink in ((device, broker), (broker, device)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.tapped is not None and sink.getpeername()[1] == self.broker_port:
                    self.tapped.extend(data)
                while not self._flowing.wait(0.1):
                    if sink.fileno() == -1:  # cut while held: what was in transit is gone
                        return
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._sockets -= {source, sink}
        _hang_up(source, sink)

    def cut(self) -> None:
        with self._lock:
            self._plugged = False
            sockets, self._sockets = list(self._sockets), set()
        _hang_up(*sockets)

    def plug(self) -> None:
        with self._lock:
            self._plugged = True

    def stall(self) -> None:
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.flow()
        self._listener.close()


def _hang_up(*sockets: socket.socket) -> None:
    for sock in sockets:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on it
        except OSError:
            pass
        sock.close()
