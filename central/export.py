"""The central's CSV: the same columns as a site's (appliance/records/turns_csv.py), with the site first.

Each site's day is folded from its records as the site's hub folds its journal, so a row at the central is the
row the site exports. Streamed: one site's day is in memory at a time, fetched with a server-side cursor."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg

from appliance.records.ledger import fold
from appliance.records.turns_csv import CSV_COLUMNS, day_rows

COLUMNS = ("site", *CSV_COLUMNS)
FETCH = 2000


def site_days(db: psycopg.Connection, first: date, last: date, sites: list[str] | None) -> list[tuple[str, date]]:
    return db.execute("SELECT site, day FROM site_days WHERE day BETWEEN %s AND %s AND (%s::text[] IS NULL OR "
                      "site = ANY(%s)) ORDER BY day, site", (first, last, sites, sites)).fetchall()


def day_records(db: psycopg.Connection, site: str, day: date) -> Iterator[dict]:
    """A site's day in the order its hub wrote it."""
    with db.cursor(name="day_records") as cursor:
        cursor.itersize = FETCH
        cursor.execute("SELECT record FROM records WHERE site = %s AND day = %s ORDER BY pos", (site, day))
        for (record,) in cursor:
            yield record


def rows(db: psycopg.Connection, first: date, last: date, sites: list[str] | None = None) -> Iterator[dict]:
    names = dict(db.execute("SELECT site, services FROM sites").fetchall())
    for site, day in site_days(db, first, last, sites):
        for row in day_rows(fold(day_records(db, site, day)), names.get(site) or {}):
            row["site"] = site
            yield row
