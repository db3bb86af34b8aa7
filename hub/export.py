"""The hub's turns of a period, read from its journal one day at a time, for the CSV and the Informe."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from appliance.records.journal import DayStore
from appliance.records.ledger import Ledger, fold
from appliance.records.turns_csv import day_rows


def rows(store: DayStore, first: date, last: date, service_names: dict[str, str]) -> Iterator[dict]:
    """The rows of every turn from first to last, day after day, each day folded when it is reached."""
    for _day, ledger in day_ledgers(store, first, last):
        yield from day_rows(ledger, service_names)


def day_ledgers(store: DayStore, first: date, last: date) -> Iterator[tuple[str, Ledger]]:
    """Each day from first to last that has records, folded when it is reached (one day in memory at a time)."""
    for day in store.days_between(first, last):
        yield day, fold(store.records(day))
