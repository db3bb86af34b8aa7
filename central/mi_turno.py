"""`turnero central mi-turno`: the "Mi turno" page of every site whose hub does not serve it itself, a process of
its own beside the ingest (appliance/web/mi_turno_server.py), behind nginx on central.toml's [public].

It reads the positions each such site's bridge carries (`turnero/central/v1/<site>/positions/<shard>`, retained
on the central's broker) into memory, and stores nothing: a restart reads them again from the broker.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from appliance.contract import shipping
from appliance.site import SetupError
from appliance.web.mi_turno_server import MiTurnoServer
from central.config import CentralConfig

DEVICE = "central-public"      # its account on the central's broker reads the sites' positions and nothing else
POSITIONS_ALL = shipping.central_positions_topic("+", "+")


class CentralMiTurno(MiTurnoServer):
    def __init__(self, config: CentralConfig, *, port: int | None = None, tls: tuple[Path, Path] | None = None,
                 now=None):
        """`port`: the loopback port ([public] app_port; 0: any free one). `tls`: see MiTurnoServer."""
        if config.public is None:
            raise SetupError("central.toml has no [public]: the central does not serve the \"Mi turno\" page "
                             "(docs/mi-turno.md)")
        super().__init__(DEVICE, config.broker, subscriptions=(POSITIONS_ALL,),
                         place=shipping.parse_central_positions_topic,
                         now=now or (lambda: datetime.now(config.timezone)),
                         port=config.public.app_port if port is None else port, port_key="[public] app_port",
                         tls=tls)
