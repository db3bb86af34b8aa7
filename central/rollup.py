"""The roll-up: each site's day folded as the site folds its journal (appliance/records), kept as its turns (one
row each, as the site's CSV has it) and its figures per group (day_figures), so that the Informe of fifty sites
and a month adds up a few rows a site-day instead of folding fifteen million records.

Run by the ingest between batches, a few site-days at a time: a past day once its records stop arriving
(Pace.quiet_s after the last), today's at most every Pace.today_every_s while they arrive. A day is folded
whole, as the site does (a turn's records are spread over its day); the cost is a day, never the history.
"""
from __future__ import annotations

import logging
import sys
from array import array
from dataclasses import dataclass
from datetime import date

import psycopg

from appliance.records.ledger import fold
from appliance.records.turns_csv import day_rows
from appliance.report.tally import Tally
from central.export import day_records

log = logging.getLogger(__name__)
PER_STEP = 4                # site-days rolled between two batches of the ingest


@dataclass(frozen=True)
class Pace:
    quiet_s: float = 20         # a past day is rolled once nothing has arrived for it this long
    today_every_s: float = 60   # today's days are rolled again at most this often while records arrive


WAITS_KEPT = ("site", "service")    # the groups whose waits are kept whole, for their p90

TURN_COLUMNS = ("site", "day", "turn_id", "number", "service", "service_name", "preferential", "category", "kiosk",
                "issued_at", "called_at", "closed_at", "desk", "advisor", "wait_seconds", "service_seconds",
                "outcome", "recalls", "rating", "manual")
FIGURE_COLUMNS = ("site", "day", "facet", "key", "turns", "preferential", "attended", "no_show", "transferred",
                  "unattended", "open_turns", "waits_n", "waits_sum", "waits", "attention_n", "attention_sum",
                  "ratings", "void", "manual")


def facets(row: dict) -> list[tuple[str, str]]:
    """The groups a turn counts in, as the site's Informe groups it (desks and advisors: the turns they called)."""
    groups = [("site", ""), ("kind", row["preferential"]), ("service", row["service"])]
    if row["desk"] != "":
        groups += [("desk", str(row["desk"])), ("advisor", row["advisor"])]
    return groups


def pack(values) -> bytes:
    """Sorted seconds as the waits column keeps them: 32-bit little-endian, whatever the machine."""
    packed = array("i", sorted(values))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(data: bytes | None) -> array:
    packed = array("i")
    packed.frombytes(bytes(data or b""))
    if sys.byteorder == "big":
        packed.byteswap()
    return packed


def roll(db: psycopg.Connection, site: str, day: date, services: dict[str, str]) -> int:
    """Folds one site's day and replaces its turns and figures, in the caller's transaction; returns its turns."""
    records = db.execute("SELECT records FROM site_days WHERE site = %s AND day = %s", (site, day)).fetchone()
    tallies: dict[tuple[str, str], Tally] = {}
    void = manual = turns = 0
    turn_rows = []
    for row in day_rows(fold(day_records(db, site, day)), services):
        turns += 1
        turn_rows.append(_turn_row(site, day, row))
        if row["outcome"] == "void":
            void += 1
            continue
        manual += row["manual"] == "sí"
        for group in facets(row):
            tallies.setdefault(group, Tally()).add(row)
    db.execute("DELETE FROM turns WHERE site = %s AND day = %s", (site, day))
    db.execute("DELETE FROM day_figures WHERE site = %s AND day = %s", (site, day))
    with db.cursor().copy(f"COPY turns ({', '.join(TURN_COLUMNS)}) FROM STDIN") as copy:
        for values in turn_rows:
            copy.write_row(values)
    figures = [_figure_row(site, day, facet, key, tally, void if facet == "site" else 0,
                           manual if facet == "site" else 0) for (facet, key), tally in tallies.items()]
    if not tallies:     # a day of voids only still says so
        figures.append(_figure_row(site, day, "site", "", Tally(), void, manual))
    with db.cursor().copy(f"COPY day_figures ({', '.join(FIGURE_COLUMNS)}) FROM STDIN") as copy:
        for values in figures:
            copy.write_row(values)
    db.execute("UPDATE site_days SET rolled_records = %s, rolled_at = now() WHERE site = %s AND day = %s",
               (records[0] if records else 0, site, day))
    return turns


def roll_due(db: psycopg.Connection, today: date, pace: Pace = Pace(), limit: int = PER_STEP) -> int:
    """Rolls up to `limit` site-days whose records changed since their last roll and are due; returns how many.
    Each in its own transaction: one that fails is logged and left for the next time, the others go on."""
    due = db.execute(
        "SELECT d.site, d.day, coalesce(s.services, '{}') FROM site_days d JOIN sites s USING (site) "
        "WHERE d.rolled_records <> d.records AND (d.updated_at < now() - make_interval(secs => %s) OR "
        "(d.day >= %s AND coalesce(d.rolled_at, '-infinity') < now() - make_interval(secs => %s))) "
        "ORDER BY d.updated_at LIMIT %s", (pace.quiet_s, today, pace.today_every_s, limit)).fetchall()
    db.commit()
    for site, day, services in due:
        try:
            roll(db, site, day, services)
            db.commit()
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            db.rollback()
            log.error("roll-up: %s %s could not be rolled (%s); tried again later", site, day,
                      str(exc).strip()[:200])
    return len(due)


def _turn_row(site: str, day: date, row: dict) -> tuple:
    def moment(text: str):
        return text or None

    def number(value):
        return None if value == "" else value
    return (site, day, row["turn_id"], row["number"], row["service"], row["service_name"], row["preferential"] == "sí",
            row["preferential_category"] or None, row["kiosk"] or None, row["issued_at"], moment(row["called_at"]),
            moment(row["service_end"]), number(row["desk"]), row["advisor"] or None, number(row["wait_seconds"]),
            number(row["service_seconds"]), row["outcome"], row["recalls"], number(row["rating"]), row["manual"] == "sí")


def _figure_row(site: str, day: date, facet: str, key: str, tally: Tally, void: int, manual: int) -> tuple:
    outcomes = tally.outcomes
    return (site, day, facet, key, tally.turns, tally.preferential, outcomes["attended"], outcomes["no_show"],
            outcomes["transferred"], outcomes["unattended"], outcomes["waiting"] + outcomes["in_service"],
            len(tally.waits), sum(tally.waits), pack(tally.waits) if facet in WAITS_KEPT else None,
            len(tally.attentions), sum(tally.attentions), [tally.ratings[v] for v in range(1, 6)], void, manual)
