"""A network of sites and a central on this machine, all real parts: the central's Mosquitto with its files and
ACL, a private PostgreSQL, and per site its own Mosquitto (the hub's files and ACL) with the bridge to the
central. The sites' journals are written by a real Hub fed events straight into its loop (tests/harness/hub_feed)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

from appliance import contract
from appliance import site as site_config
from appliance.dev.local_broker import LocalBroker, free_port
from appliance.ops import broker_files, central_broker
from appliance.site import CentralLink
from central.config import load as load_central
from hub.service import Hub
from tests.harness import hub_feed
from tests.harness.roles import SettableClock


class Central:
    """The central's broker and its file; the database is the test's LocalPostgres."""

    def __init__(self, folder: Path, dsn: str, sites: list[str]):
        self.files = folder / "files"
        self.port = free_port()
        for site in sites:
            central_broker.write_central_files(self.files, ["127.0.0.1", "localhost"], self.port, add=site)
        self.broker = LocalBroker(folder / "broker", port=self.port, auth=self.files)
        self.config_path = folder / "central.toml"
        self.config_path.write_text(f'[central]\nname = "Comfenalco Valle"\n[broker]\nport = {self.port}\n'
                                    f'files = "{self.files}"\n[database]\ndsn = "{dsn}"\n', encoding="utf-8")
        self.config = load_central(self.config_path)


class Site:
    """One site: its broker with the bridge, its hub's journals (`days`), and a hub to write them."""

    def __init__(self, folder: Path, site: str, central: Central, start: datetime = hub_feed.START):
        self.id, self.folder = site, folder
        link = CentralLink(site, "127.0.0.1", central.port, central.files / "ca.crt",
                           central.files / "credentials" / site)
        auth, port = folder / "broker-files", free_port()
        base = site_config.load(site_config.EXAMPLE)
        files_config = dataclasses.replace(base, central=link).with_broker("127.0.0.1", port, None)
        broker_files.write_broker_files(files_config, auth)
        self.broker = LocalBroker(folder / "broker", port=port, auth=auth, bridge=link)
        self.config = dataclasses.replace(files_config, broker=dataclasses.replace(
            files_config.broker, credentials_dir=auth / "credentials", ca_file=auth / "ca.crt"))
        self.clock = SettableClock(start)
        self.hub = Hub(self.config, folder / "hub", now=self.clock)
        self.hub.clock = self.clock
        self.days = folder / "hub" / "days"

    def morning(self, tickets: int, desks: int = 3) -> None:
        """A morning's work in the hub's journal: tickets, and the desks calling and closing them."""
        day = self.clock.moment.date().isoformat()
        for n in range(1, tickets + 1):
            self.clock.moment += timedelta(minutes=1)
            hub_feed.feed(self.hub, contract.TicketIssued(
                id=f"{day}-t{n}", at=self.clock.moment.isoformat(), source="kiosco-1",
                turn_id=f"{day}/kiosco-1/R{n:03d}", number=f"R-{n:03d}", service="R", preferential=False))
        for n in range(tickets + desks):
            desk = n % desks + 1
            self.clock.moment += timedelta(minutes=2)
            hub_feed.feed(self.hub, hub_feed.request(desk, f"{self.hub.today}-{n}", on_counter=None))

    def next_day(self) -> None:
        self.clock.moment = datetime.combine(self.clock.moment.date() + timedelta(days=1), self.clock.moment.time(),
                                             self.clock.moment.tzinfo)

    def records(self) -> int:
        return sum(len(self.hub.store.day(day)) for day in self.hub.store.days())
