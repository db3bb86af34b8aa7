"""`turnero mi-turno`: the "Mi turno" page on the site's guest Wi-Fi, a process of its own beside the hub.

It reads the positions the hub retains (hub/positions.py) and serves them (appliance/web/mi_turno_server.py) on
the hub's loopback ([public] app_port), behind nginx ([public] host and port, with per-client rate limits:
appliance/ops/front.py).
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from appliance import contract
from appliance.site import SiteConfig
from appliance.web.mi_turno_server import MiTurnoServer

DEVICE = "hub-public"          # its broker account reads the positions and nothing else


class MiTurnoPage(MiTurnoServer):
    def __init__(self, config: SiteConfig, *, port: int | None = None, tls: tuple[Path, Path] | None = None,
                 now=None):
        """`port`: the loopback port ([public] app_port; 0: any free one). `tls`: see MiTurnoServer."""
        super().__init__(DEVICE, config.broker, subscriptions=(contract.POSITIONS_ALL,),
                         place=lambda topic: ("", contract.parse_positions_topic(topic)),
                         now=now or (lambda: datetime.now(config.timezone)),
                         port=config.public.app_port if port is None else port, port_key="[public] app_port",
                         tls=tls, site_file=config.version)
