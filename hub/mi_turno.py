"""`turnero mi-turno`: the "Mi turno" page on the site's guest Wi-Fi, a process of its own beside the hub.

It reads the positions the hub retains (hub/positions.py) and serves appliance/web/mi_turno.py on the hub's
loopback ([public] app_port), behind nginx ([public] host and port, with per-client rate limits:
appliance/ops/front.py). A process, not a thread of the hub's: a thousand phones refreshing cost this one's
CPU and the broker's retained copies, never the hub loop's time, and a flood can slow only this page.
"""
from __future__ import annotations

import logging
import queue
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.link import Link
from appliance.core.steps import arrived, refusing
from appliance.site import SetupError, SiteConfig
from appliance.web.mi_turno import PositionsBook, public_app
from appliance.web.server import PageServer

log = logging.getLogger(__name__)
DEVICE = "hub-public"          # its broker account reads the positions and nothing else


class MiTurnoPage:
    device = DEVICE

    def __init__(self, config: SiteConfig, *, port: int | None = None, tls: tuple[Path, Path] | None = None,
                 now=None):
        """`port`: the loopback port ([public] app_port; 0: any free one). `tls`: a certificate and key to serve
        HTTPS itself, without nginx (the demo)."""
        self.now = now or (lambda: datetime.now(config.timezone))
        self.book = PositionsBook(today=lambda: self.now().date().isoformat())
        self.inbox: queue.Queue = queue.Queue()
        self.rejected = contract.Refusals()
        self.link = Link(DEVICE, config.broker, self.inbox, now=self.now, subscriptions=(contract.POSITIONS_ALL,))
        self._port = config.public.app_port if port is None else port
        self._tls = tls
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
            raise SetupError(f"the \"Mi turno\" page cannot listen on 127.0.0.1:{self._port} ([public] app_port): "
                           f"{exc.strerror or exc}") from None
        self._server = server
        log.info("\"Mi turno\" page on %s://127.0.0.1:%d/%s", "https" if self._tls else "http", self.port,
                 "" if self._tls else " (nginx serves it to the guest Wi-Fi)")
        self.link.start()

    def step(self, timeout: float = 0.5) -> int:
        items = arrived(self.inbox, timeout, None)
        for item in items:
            if isinstance(item, mqtt.MQTTMessage):
                refusing(self.rejected, DEVICE, self._take, item)
        return len(items)

    def _take(self, message: mqtt.MQTTMessage) -> None:
        positions = contract.expect(message.payload, contract.Positions)
        if message.topic != contract.positions_topic(positions.shard):
            raise contract.ContractError(f"shard {positions.shard!r} published on {contract.loggable(message.topic)}")
        self.book.take(positions)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self.link.stop()
