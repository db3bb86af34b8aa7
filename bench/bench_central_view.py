"""The central's page, measured. Run by hand: `.venv/bin/python -m bench.bench_central_view` (a few minutes);
`--memory` measures the Informe's peak memory instead, in a run of its own (tracemalloc distorts timings).

- the roll-up of one busy site-day (10,000 records) at ingest, and the consolidated Informe of 50 sites x 30 busy
  days (1,500 site-days, about 15 million records' worth of roll-up) against a private PostgreSQL: its figures,
  and its HTML, against one site's month and a week of all fifty;
- the latency from a NEXT at a site to the central's live picture of that site (what its card shows): the site's
  real hub and page, its Mosquitto and bridge, the central's Mosquitto and the page's own connection.

The Informe never reads the records: it adds up the roll-up's rows. The 1,500 site-days are one busy day's
roll-up, folded from real records, copied under other sites and days (every copy is rows as large as the
original), so the figure is what fifty sites' month costs the page whatever their records say.
"""
from __future__ import annotations

import argparse
import queue
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from appliance import site as site_config
from appliance.dev.local_postgres import LocalPostgres
from appliance.dev.network import LocalCentral
from central import rollup
from central.database import migrate
from central.report.figures import build
from central.report.render import render_body
from central.web.live import Pictures
from tests.harness.network import LiveSite
from tests.harness.roles import wait_until

TZ = site_config.load(site_config.EXAMPLE).timezone
SITES, DAYS, TURNS = 50, 30, 2630        # 2,630 turns a day: about 10,000 records with calls, closes and ratings
LAST = date(2026, 11, 30)
SERVICES = {"R": "Registro y Aportes", "S": "Salud", "E": "Educación", "V": "Vivienda"}
ADVISORS = ["Ana María Peña", "José Muñoz", "Luz Ángela Ortiz", "Carlos Rendón", "Diana Cárdenas",
            "Jorge Iván Restrepo", "María Fernanda Gil", "Óscar Castaño"]


def busy_day(day: date, seed: int = 7) -> list[dict]:
    """A busy site's day in the shape the hub writes it: tickets all day, waits that vary, eight desks."""
    rng, records = random.Random(seed), []
    start = datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=7)
    for i in range(TURNS):
        service = rng.choice("RRRSSEV")
        preferential = rng.random() < 0.2
        prefix = "P" if preferential else service
        issued = start + timedelta(seconds=i * 10 + rng.randint(0, 9))
        called = issued + timedelta(seconds=int(rng.expovariate(1 / 900)))
        closed = called + timedelta(seconds=rng.randint(120, 1500))
        desk = 1 + i % 8
        turn_id = f"{day}/kiosco-1/{prefix}{i + 1:04d}"
        base = {"day": day.isoformat(), "desk": desk, "request_id": f"q{i}"}
        records += [
            {"id": f"t{i}", "kind": "ticket", "day": day.isoformat(), "at": issued.isoformat(), "turn_id": turn_id,
             "number": f"{prefix}-{i + 1:04d}", "service": service, "preferential": preferential,
             "kiosk": "kiosco-1", "received_at": issued.isoformat()},
            {**base, "id": f"c{i}", "kind": "call", "at": called.isoformat(), "turn_id": turn_id,
             "advisor": ADVISORS[desk - 1], "recall": False},
            {**base, "id": f"x{i}", "kind": "close", "at": closed.isoformat(), "turn_id": turn_id,
             "outcome": "attended" if rng.random() < 0.93 else "no_show"}]
        if rng.random() < 0.8:
            records.append({"id": f"r{i}", "kind": "rating", "day": day.isoformat(), "at": closed.isoformat(),
                            "turn_id": turn_id, "desk": desk, "advisor": ADVISORS[desk - 1],
                            "value": rng.choice((3, 4, 4, 5, 5, 5, 2, 1)), "received_at": closed.isoformat()})
    return records


def fill(db: psycopg.Connection) -> tuple[int, float]:
    """One busy day stored and rolled up, then its roll-up copied to every site and day; (records, roll-up s)."""
    records = busy_day(LAST)
    db.execute("INSERT INTO sites (site, name, services, target_min) VALUES ('s00', 'Sede 00', %s, 20)",
               (Jsonb(SERVICES),))
    with db.cursor().copy("COPY records (site, id, day, pos, kind, at, record) FROM STDIN") as copy:
        for pos, record in enumerate(records):
            copy.write_row(("s00", record["id"], LAST, pos, record["kind"], record["at"], Jsonb(record)))
    db.execute("INSERT INTO site_days (site, day, stored_to, records) VALUES ('s00', %s, %s, %s)",
               (LAST, len(records), len(records)))
    db.commit()
    started = time.perf_counter()
    rollup.roll(db, "s00", LAST, SERVICES)
    db.commit()
    rolled = time.perf_counter() - started
    db.execute("INSERT INTO sites (site, name, services, target_min) SELECT 's' || lpad(n::text, 2, '0'), "
               "'Sede ' || lpad(n::text, 2, '0'), %s, 20 FROM generate_series(1, %s) n", (Jsonb(SERVICES), SITES - 1))
    columns = ", ".join(rollup.FIGURE_COLUMNS[2:])
    db.execute(f"INSERT INTO day_figures SELECT 's' || lpad(n::text, 2, '0'), %s - d, {columns} FROM day_figures, "
               "generate_series(0, %s) n, generate_series(0, %s) d WHERE NOT (n = 0 AND d = 0)",
               (LAST, SITES - 1, DAYS - 1))
    db.commit()
    db.autocommit = True
    db.execute("VACUUM ANALYZE day_figures")
    db.autocommit = False
    return len(records), rolled


def timed(action, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def informe(memory: bool) -> None:
    with LocalPostgres() as pg:
        migrate(pg.dsn)
        with psycopg.connect(pg.dsn, autocommit=False) as db:
            records, rolled = fill(db)
            db.execute("SET statement_timeout = 0")
            sites = [f"s{n:02d}" for n in range(SITES)]
            rows = db.execute("SELECT count(*), pg_total_relation_size('day_figures') FROM day_figures").fetchone()
            db.rollback()
            now = datetime.now(TZ)
            month = lambda chosen: build(db, LAST - timedelta(days=DAYS - 1), LAST, chosen, now=now)  # noqa: E731
            if memory:
                tracemalloc.start()
                render_body(month(sites))
                print(f"Informe of {SITES} sites x {DAYS} days: peak {tracemalloc.get_traced_memory()[1] / 2**20:.1f}"
                      " MiB (tracemalloc)")
                return
            print(f"roll-up of one busy site-day ({records} records): {rolled:.2f} s")
            print(f"roll-up rows for {SITES} sites x {DAYS} days: {rows[0]} ({rows[1] / 2**20:.0f} MiB), standing "
                  f"for {records * SITES * DAYS:,} records")
            print(f"Informe, {SITES} sites x {DAYS} days, figures: {timed(lambda: month(sites)):.2f} s")
            print(f"Informe, {SITES} sites x {DAYS} days, figures and HTML: "
                  f"{timed(lambda: render_body(month(sites))):.2f} s")
            print(f"Informe, one site x {DAYS} days, figures and HTML: "
                  f"{timed(lambda: render_body(month(['s07']))):.2f} s")
            week = lambda: build(db, LAST - timedelta(days=6), LAST, sites, now=now)  # noqa: E731
            print(f"Informe, {SITES} sites x 7 days, figures and HTML: {timed(lambda: render_body(week())):.2f} s")


def latency(nexts: int) -> None:
    """From a NEXT fed to the site's hub to the central's picture of the site showing one fewer waiting."""
    with tempfile.TemporaryDirectory() as folder, LocalPostgres() as pg:
        migrate(pg.dsn)
        central = LocalCentral(Path(folder) / "central", pg.dsn, ["cali"])
        central.broker.start()
        site = LiveSite(Path(folder) / "cali", "cali", central)
        site.broker.start()
        site.hub.start()
        site.page.start()
        inbox: queue.Queue = queue.Queue()
        pictures = Pictures(central.config.broker, inbox, lambda: datetime.now(TZ))
        pictures.link.start()
        try:
            site.tickets(nexts + 5, minutes_ago=nexts + 5)

            def waiting() -> int | None:
                while not inbox.empty():
                    pictures.take(inbox.get())
                shown = pictures.of(["cali"])[0].picture
                return None if shown is None else sum(q.normal + q.preferential for q in shown.queues)
            wait_until(lambda: waiting() == nexts + 5, 60, "the site's picture at the central")
            times = []
            for n in range(nexts):
                started = time.perf_counter()
                site.next(1 + n % 3)
                wait_until(lambda: waiting() == nexts + 4 - n, 30, "the NEXT at the central")
                times.append(time.perf_counter() - started)
            times.sort()
            print(f"NEXT at a site -> the central's picture ({nexts}): p50 {statistics.median(times) * 1000:.0f} ms, "
                  f"p99 {times[max(0, round(0.99 * len(times)) - 1)] * 1000:.0f} ms")
        finally:
            pictures.link.stop()
            site.page.stop()
            site.hub.stop()
            site.broker.stop()
            central.broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="the Informe's peak memory only (tracemalloc)")
    parser.add_argument("--nexts", type=int, default=100, help="NEXTs timed to the central (default 100)")
    args = parser.parse_args()
    informe(args.memory)
    if not args.memory:
        latency(args.nexts)


if __name__ == "__main__":
    main()
