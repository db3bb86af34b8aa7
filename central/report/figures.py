"""The central's Informe for a period and a set of sites, added up from the roll-up's day figures
(central/rollup.py): a few rows a site-day, whatever the number of records behind them.

Every figure means what it means in the site's Informe (appliance/report/tally.py): a site's row here equals the
site's own Informe of the same days, and the totals are the sums of the sites'. The p90 and the median are exact:
each site-day keeps its waits sorted, and the k-th wait of a period is found by bisecting those lists, never by
joining them. The share within the target counts each site's calls against that site's own target.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg

from appliance.report.tally import Counted, Totals
from central.rollup import unpack

DEFAULT_TARGET_MIN = 20             # a site that has not said its own (the site file's default)
MONTHLY_AFTER_DAYS = 62             # a longer period shows its trend by month as well as by day


@dataclass
class Group(Counted):
    """The figures of some site-days' group, added up."""

    turns: int = 0
    preferential: int = 0
    attended: int = 0
    no_show: int = 0
    transferred: int = 0
    unattended: int = 0
    open_turns: int = 0
    waits_n: int = 0
    waits_sum: int = 0
    within: int = 0                 # calls that waited no longer than their site's target
    attention_n: int = 0
    attention_sum: int = 0
    ratings: list = field(default_factory=lambda: [0] * 5)
    void: int = 0
    manual: int = 0
    waits: list = field(default_factory=list)     # sorted arrays of seconds, one per site-day

    def add(self, row: dict, target_s: int) -> None:
        for name in ("turns", "preferential", "attended", "no_show", "transferred", "unattended", "open_turns",
                     "waits_n", "waits_sum", "attention_n", "attention_sum", "void", "manual"):
            setattr(self, name, getattr(self, name) + row[name])
        self.ratings = [a + b for a, b in zip(self.ratings, row["ratings"])]
        if row["waits"] is not None:
            waits = unpack(row["waits"])
            self.waits.append(waits)
            self.within += bisect_right(waits, target_s)

    @property
    def mean_wait(self) -> float | None:
        return self.waits_sum / self.waits_n if self.waits_n else None

    @property
    def mean_attention(self) -> float | None:
        return self.attention_sum / self.attention_n if self.attention_n else None

    def wait_rank(self, k: int) -> int:
        """The k-th shortest wait (1-based) of all the site-days' sorted waits."""
        low, high = min(w[0] for w in self.waits if w), max(w[-1] for w in self.waits if w)
        while low < high:
            middle = (low + high) // 2
            if sum(bisect_right(w, middle) for w in self.waits) >= k:
                high = middle
            else:
                low = middle + 1
        return low

    @property
    def p90_wait(self) -> int | None:
        """Nearest rank, as the site's Informe: a wait that really happened."""
        n = sum(len(w) for w in self.waits)
        return self.wait_rank(math.ceil(0.9 * n)) if n else None

    def totals(self) -> Totals:
        return Totals(turns=self.turns, preferential=self.preferential, attended=self.attended,
                      no_show=self.no_show, mean_wait=self.mean_wait, median_wait=self.median_wait,
                      p90_wait=self.p90_wait, called=self.waits_n, within=self.within,
                      mean_attention=self.mean_attention, median_attention=None, good=self.good, rated=self.rated)

    @property
    def median_wait(self) -> float | None:
        n = sum(len(w) for w in self.waits)
        if not n:
            return None
        if n % 2:
            return self.wait_rank(n // 2 + 1)
        return (self.wait_rank(n // 2) + self.wait_rank(n // 2 + 1)) / 2


@dataclass
class Consolidated:
    first: date
    last: date
    made_at: datetime
    sites: list[tuple[str, str]]                   # (id, name) of the sites asked for, in order
    targets: dict[str, int]                        # site -> its wait target in minutes
    total: Group
    by_site: list[tuple[str, Group]]
    by_service: list[tuple[str, Group]]            # by the service's name: the same service at several sites
    by_advisor: list[tuple[str, str, Group]]       # (site's name, advisor, figures)
    by_day: list[tuple[date, Group]]
    by_month: list[tuple[date, Group]]             # only for a period longer than MONTHLY_AFTER_DAYS
    rolled_at: datetime | None                     # the oldest roll-up of today's days in the period, if any


_FIELDS = ("site", "day", "facet", "key", "turns", "preferential", "attended", "no_show", "transferred",
           "unattended", "open_turns", "waits_n", "waits_sum", "waits", "attention_n", "attention_sum", "ratings",
           "void", "manual")


def build(db: psycopg.Connection, first: date, last: date, sites: list[str], *, now: datetime) -> Consolidated:
    known = {site: (name or site, services or {}, target or DEFAULT_TARGET_MIN) for site, name, services, target in
             db.execute("SELECT site, name, services, target_min FROM sites WHERE site = ANY(%s) ORDER BY site",
                        (sites,))}
    total, by_site, by_service, by_advisor = Group(), {}, {}, {}
    by_day: dict[date, Group] = {}
    by_month: dict[date, Group] = {}
    with db.cursor(name="day_figures") as cursor:
        cursor.itersize = 5000
        cursor.execute(f"SELECT {', '.join(_FIELDS)} FROM day_figures WHERE site = ANY(%s) AND day BETWEEN %s AND "
                       "%s AND facet IN ('site', 'service', 'advisor') ORDER BY site, day", (sites, first, last))
        for values in cursor:
            row = dict(zip(_FIELDS, values))
            site, facet = row["site"], row["facet"]
            name, services, target = known.get(site, (site, {}, DEFAULT_TARGET_MIN))
            target_s = target * 60
            if facet == "site":
                for group in (total, by_site.setdefault(site, Group()), by_day.setdefault(row["day"], Group()),
                              by_month.setdefault(row["day"].replace(day=1), Group())):
                    group.add(row, target_s)
            elif facet == "service":
                by_service.setdefault(services.get(row["key"]) or row["key"], Group()).add(row, target_s)
            else:
                by_advisor.setdefault((name, row["key"] or "Sin asesor registrado"), Group()).add(row, target_s)
    today_rolls = db.execute("SELECT min(rolled_at) FROM site_days WHERE site = ANY(%s) AND day BETWEEN %s AND %s "
                             "AND day >= %s", (sites, first, last, now.date())).fetchone()[0]
    db.rollback()
    return Consolidated(
        first=first, last=last, made_at=now, sites=[(site, known[site][0]) for site in sites if site in known],
        targets={site: known[site][2] for site in known}, total=total,
        by_site=[(known[site][0], by_site[site]) for site in sites if site in by_site],
        by_service=sorted(by_service.items()), by_advisor=[(s, a, g) for (s, a), g in sorted(by_advisor.items())],
        by_day=sorted(by_day.items()),
        by_month=sorted(by_month.items()) if (last - first).days + 1 > MONTHLY_AFTER_DAYS else [],
        rolled_at=today_rolls)
