"""The figures of one group of turns (a period, a site, a service, a desk, an advisor), tallied one CSV row at a
time, and the statistics the Informe shows of them. The site's Informe (hub.report) and the central's
(central.report) read the same rows through these, so a figure means the same thing in both.

Definitions (the same as the CSV's columns): the wait runs from the ticket to the first call (`wait_seconds`,
for every turn called, present or not); the attention from the call to the close (`service_seconds`, attended
turns only). p90 is the nearest rank: the wait that nine citizens out of ten did not exceed, a wait that really
happened.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass

WAIT_BUCKETS_MIN = (0, 5, 10, 15, 20, 30, 45, 60)   # the histogram's lower bounds, in minutes


class Counted:
    """What follows from a group's turns, preferential turns and ratings (1 to 5), however it was tallied."""

    turns: int
    preferential: int
    ratings: tuple[int, ...] | list[int]

    @property
    def normal(self) -> int:
        return self.turns - self.preferential

    @property
    def rated(self) -> int:
        return sum(self.ratings)

    @property
    def good(self) -> int:
        """Ratings of 4 or 5."""
        return self.ratings[3] + self.ratings[4]

    @property
    def rating_mean(self) -> float | None:
        return sum(v * n for v, n in zip(range(1, 6), self.ratings)) / self.rated if self.rated else None


@dataclass(frozen=True)
class Figures(Counted):
    """One group of turns (the period, a service, a kind, a desk, an advisor), void numbers excluded."""

    turns: int
    preferential: int
    outcomes: dict[str, int]       # attended, no_show, transferred, unattended, in_service, waiting
    waits: tuple[int, ...]         # seconds, sorted: every turn called
    attentions: tuple[int, ...]    # seconds, sorted: every attended turn
    ratings: tuple[int, ...]       # how many of each value, 1 to 5

    def within(self, seconds: int) -> int:
        """How many waits were at most this long."""
        return sum(w <= seconds for w in self.waits)

    def attentions_over(self, seconds: int) -> int:
        """How many attentions lasted longer than this (the site's limit, seed 003)."""
        return sum(a > seconds for a in self.attentions)

    def totals(self, target_s: int) -> Totals:
        return Totals(turns=self.turns, preferential=self.preferential, attended=self.outcomes.get("attended", 0),
                      no_show=self.outcomes.get("no_show", 0), mean_wait=mean(self.waits),
                      median_wait=median(self.waits), p90_wait=p90(self.waits), called=len(self.waits),
                      within=self.within(target_s), mean_attention=mean(self.attentions),
                      median_attention=median(self.attentions), good=self.good, rated=self.rated)


@dataclass(frozen=True)
class Totals:
    """What the cards of a whole period show, from whichever tally made them (the site's, the central's)."""

    turns: int
    preferential: int
    attended: int
    no_show: int
    mean_wait: float | None
    median_wait: float | None
    p90_wait: float | None
    called: int
    within: int                    # calls that waited no longer than the target
    mean_attention: float | None
    median_attention: float | None  # None: not kept (the central keeps attention sums only)
    good: int
    rated: int

    @property
    def normal(self) -> int:
        return self.turns - self.preferential


def mean(values) -> float | None:
    return statistics.fmean(values) if values else None


def median(values) -> float | None:
    return statistics.median(values) if values else None


def p90(values) -> float | None:
    """Nearest rank on sorted values."""
    return values[math.ceil(0.9 * len(values)) - 1] if values else None


class Tally:
    """The figures of one group, gathered one row at a time."""

    def __init__(self):
        self.turns = self.preferential = 0
        self.outcomes: Counter = Counter()
        self.ratings: Counter = Counter()
        self.waits: list[int] = []
        self.attentions: list[int] = []

    def add(self, row: dict) -> None:
        self.turns += 1
        self.preferential += row["preferential"] == "sí"
        self.outcomes[row["outcome"]] += 1
        if row["wait_seconds"] != "":
            self.waits.append(row["wait_seconds"])
        if row["service_seconds"] != "":
            self.attentions.append(row["service_seconds"])
        if row["rating"] != "":
            self.ratings[row["rating"]] += 1

    def figures(self) -> Figures:
        return Figures(turns=self.turns, preferential=self.preferential, outcomes=dict(self.outcomes),
                       waits=tuple(sorted(self.waits)), attentions=tuple(sorted(self.attentions)),
                       ratings=tuple(self.ratings.get(value, 0) for value in range(1, 6)))
