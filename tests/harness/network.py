"""A site of a network (appliance/dev/network.py) whose journals a real Hub writes, fed events straight into its
loop (tests/harness/hub_feed) on a clock the test moves."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from appliance import contract
from appliance import site as site_config
from appliance.dev.network import LocalCentral, site_for_central
from hub.service import Hub
from tests.harness import hub_feed
from tests.harness.roles import SettableClock


class Site:
    """One site: its broker with the bridge, its hub's journals (`days`), and a hub to write them."""

    def __init__(self, folder: Path, site: str, central: LocalCentral, start: datetime = hub_feed.START):
        self.id, self.folder = site, folder
        self.config, self.broker = site_for_central(site_config.load(site_config.EXAMPLE), folder, site, central)
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
