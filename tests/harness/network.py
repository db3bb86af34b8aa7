"""A site of a network (appliance/dev/network.py) whose journals a real Hub writes, fed events straight into its
loop (tests/harness/hub_feed) on a clock the test moves."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

from appliance import contract
from appliance import site as site_config
from appliance.dev.network import LocalCentral, site_for_central, site_page
from hub.service import Hub
from tests.harness import hub_feed
from tests.harness.roles import SettableClock


class Site:
    """One site: its broker with the bridge, its hub's journals (`days`), and a hub to write them."""

    def __init__(self, folder: Path, site: str, central: LocalCentral, start: datetime = hub_feed.START,
                 public: site_config.PublicSettings | None = None):
        """`public`: the site's [public] (its hub publishes the positions; without listen, the bridge carries
        them to the central)."""
        self.id, self.folder = site, folder
        base = dataclasses.replace(site_config.load(site_config.EXAMPLE), public=public)
        self.config, self.broker = site_for_central(base, folder, site, central)
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


class LiveSite(Site):
    """A site on the real clock, whose hub publishes to its broker and whose page publishes its picture. Its hub
    starts on today: a ticket taken a while ago sets its clock back for the moment, and the hub stays on its day
    (day.py), so a test run just after midnight has tickets of 23:30 in today's queue, and the central's today is
    the site's."""

    def __init__(self, folder, site, central, public: site_config.PublicSettings | None = None):
        super().__init__(folder, site, central, start=datetime.now(hub_feed.TZ), public=public)
        self.name = f"CIS {site.capitalize()}"
        self.config, self.page = site_page(dataclasses.replace(self.config, name=self.name), folder / "hub",
                                           now=lambda: datetime.now(hub_feed.TZ))
        self.served = 0

    def tickets(self, count: int, service: str = "R", minutes_ago: int = 60) -> None:
        """Tickets taken `minutes_ago` and after, a minute apart."""
        day = self.hub.today
        for n in range(count):
            self.clock.moment = datetime.now(hub_feed.TZ) - timedelta(minutes=minutes_ago - n)
            number = len(self.hub.ledger.turns) + 1
            prefix = "P" if number % 4 == 0 else service    # every fourth a preferential turn
            hub_feed.feed(self.hub, contract.TicketIssued(
                id=f"{self.id}-{day}-t{number}", at=self.clock.moment.isoformat(), source="kiosco-1",
                turn_id=f"{day}/kiosco-1/{prefix}{number:03d}", number=f"{prefix}-{number:03d}", service=service,
                preferential=prefix == "P"))

    def next(self, desk: int = 1, rating: int | None = None) -> None:
        """The citizen at `desk` rates the attention (if `rating`), and the advisor calls the next turn."""
        self.clock.moment = datetime.now(hub_feed.TZ)
        self.served += 1
        serving = self.hub.ledger.serving.get(desk)
        if rating and serving:
            hub_feed.feed(self.hub, contract.Rating(id=f"{self.id}-rating-{self.served}", at=self.clock.moment
                                                    .isoformat(), source=f"escritorio-{desk}", desk=desk,
                                                    turn_id=serving, value=rating))
        hub_feed.feed(self.hub, hub_feed.request(desk, f"{self.id}-next-{self.served}", on_counter=None))

    def waiting(self) -> int:
        return sum(1 for turn in self.hub.ledger.waiting())
