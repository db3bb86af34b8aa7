"""The "Mi turno" page as a process of its own: a Link subscribed to retained Positions, the book they fill, and
the page (appliance/web/mi_turno.py) on the loopback, behind nginx. The hub's guest page (hub/mi_turno.py) and
the central's (central/mi_turno.py) differ only in what they subscribe to and in how a topic names the site and
the shard. A process, not a thread of the hub's or the ingest's: a thousand phones refreshing cost this one's CPU
and the broker's retained copies, never the loop that answers the desks or stores the records.
"""
from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.link import Link
from appliance.core.steps import arrived, refusing
from appliance.site import BrokerAddress, SetupError
from appliance.web.mi_turno import PositionsBook, public_app
from appliance.web.server import PageServer

log = logging.getLogger(__name__)


class MiTurnoServer:
    def __init__(self, device: str, broker: BrokerAddress, *, subscriptions: tuple[str, ...],
                 place: Callable[[str], tuple[str, str]], now: Callable[[], datetime], port: int, port_key: str,
                 tls: tuple[Path, Path] | None = None, site_file: str | None = None):
        """`place(topic)`: the (site, shard) a topic holds, or ContractError. `port`: the loopback port (0: any
        free one), `port_key` the setting that names it. `tls`: a certificate and key to serve HTTPS itself,
        without nginx (the demo, the tests)."""
        self.device, self.now, self._place = device, now, place
        self.book = PositionsBook(today=lambda: self.now().date().isoformat())
        self.inbox: queue.Queue = queue.Queue()
        self.rejected = contract.Refusals()
        self.link = Link(device, broker, self.inbox, now=now, subscriptions=subscriptions, site_file=site_file)
        self._port, self._port_key, self._tls = port, port_key, tls
        self._server: PageServer | None = None

    @property
    def port(self) -> int:
        return self._server.port if self._server else self._port

    def start(self) -> None:
        """SetupError when the port cannot be had."""
        server = PageServer(public_app(self.book, behind_front=self._tls is None), "127.0.0.1", self._port,
                            tls=self._tls)
        try:
            server.start()
        except OSError as exc:
            raise SetupError(f"the \"Mi turno\" page cannot listen on 127.0.0.1:{self._port} ({self._port_key}): "
                             f"{exc.strerror or exc}") from None
        self._server = server
        log.info("\"Mi turno\" page on %s://127.0.0.1:%d/%s", "https" if self._tls else "http", self.port,
                 "" if self._tls else " (nginx serves it)")
        self.link.start()

    def step(self, timeout: float = 0.5) -> int:
        items = arrived(self.inbox, timeout, None)
        for item in items:
            if isinstance(item, mqtt.MQTTMessage):
                refusing(self.rejected, self.device, self._take, item)
        return len(items)

    def _take(self, message: mqtt.MQTTMessage) -> None:
        site, shard = self._place(message.topic)
        positions = contract.expect(message.payload, contract.Positions)
        if positions.shard != shard:
            raise contract.ContractError(f"shard {positions.shard!r} published on {contract.loggable(message.topic)}")
        self.book.take(positions, site=site)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self.link.stop()
