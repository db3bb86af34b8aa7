"""The central, measured as deployed: every role its own process (`turnero hub`, `turnero ship`, `turnero central
serve`), real Mosquittos with the generated files and bridges, a private PostgreSQL. Run by hand:
`.venv/bin/python -m bench.bench_central` (about ten minutes; `--month-sites 10` for a quicker export figure).

- a site's NEXT, answered through its broker by its hub, with the central away, while the site catches up three
  days (about 40,000 records), and once caught up: p50/p99 and the ratios;
- that catch-up's time;
- sustained ingest: several sites' backlogs at once, through their bridges into PostgreSQL, records/s; and the
  central's page (in the same process) asked all along: the live cards and an Informe, quiet and during it;
- the central process's peak memory while ingesting, and `turnero central export`'s for a week and for a month of
  50 sites (read from /proc, VmHWM: no tracer in the process, so the timings above are not distorted).

The central is another machine in a deployment: here its broker, its process and PostgreSQL keep to one core
(sched_setaffinity), and the shipper runs at its unit's Nice, so that what the site's NEXT pays for a catch-up
is what a site pays, not the central's work sharing the site's processor.
"""
from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from psycopg.types.json import Jsonb

from appliance import contract
from appliance import site as site_config
from appliance.dev.local_postgres import LocalPostgres
from appliance.dev.network import LocalCentral, site_file, site_for_central
from appliance.web.accounts import Accounts
from tests.harness.records import day_records, write_history

TURNERO = Path(sys.executable).with_name("turnero")
TZ = site_config.load(site_config.EXAMPLE).timezone
SHIP_NICE = 10           # turnero-ship.service's Nice
PAGE_USER, PAGE_PASSWORD = "medicion", "clave-de-la-medicion"
BACKLOG_DAYS = 30        # 30 days of a site of 350 turns a day: 41,000 records, three days of a busy centre


class Peak:
    """A process's peak resident memory (VmHWM), read from /proc until it ends."""

    def __init__(self, process: subprocess.Popen):
        self.process, self.kib = process, 0
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while self.process.poll() is None:
            try:
                text = Path(f"/proc/{self.process.pid}/status").read_text()
                self.kib = max(self.kib, int(text.split("VmHWM:")[1].split()[0]))
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.05)

    @property
    def mib(self) -> float:
        return self.kib / 1024


class Desk:
    """Desk 1 and kiosco-1 as clients of the site's broker: tickets, and NEXT timed until the hub's answer."""

    def __init__(self, config, host: str, port: int):
        self._answered = threading.Event()
        self._waiting_for = None
        self.desk = self._client(config, contract.desk_device(1), host, port)
        self.desk.on_message = self._state
        self.desk.subscribe(contract.desk_state_topic(1), qos=1)
        self.kiosk = self._client(config, "kiosco-1", host, port)
        self.tickets = 0

    @staticmethod
    def _client(config, user: str, host: str, port: int) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"turnero-{user}", protocol=mqtt.MQTTv5)
        client.username_pw_set(user, (config.broker.credentials_dir / user).read_text().strip())
        client.tls_set(ca_certs=str(config.broker.ca_file))
        client.connect(host, port)
        client.loop_start()
        return client

    def _state(self, client, userdata, message) -> None:
        try:
            state = contract.expect(message.payload, contract.DeskState)
        except contract.ContractError:
            return
        if state.answered == self._waiting_for:
            self._answered.set()

    def issue(self, count: int) -> None:
        today, stamp = datetime.now(TZ).date().isoformat(), datetime.now(TZ).isoformat()
        for _ in range(count):
            self.tickets += 1
            n = self.tickets
            ticket = contract.TicketIssued(id=f"bench-{today}-{n}", at=stamp, source="kiosco-1",
                                           turn_id=f"{today}/kiosco-1/R{n:04d}", number=f"R-{n:04d}", service="R",
                                           preferential=False)
            self.kiosk.publish(contract.ticket_topic("kiosco-1"), ticket.to_json(), qos=1).wait_for_publish(5)

    def nexts(self, count: int, pause_s: float = 0.05) -> list[float]:
        """NEXT after NEXT (a short pause between, as hands do): milliseconds to the hub's answer."""
        took = []
        for _ in range(count):
            request = contract.DeskRequest(id=contract.new_id(), at=datetime.now(TZ).isoformat(),
                                           source="escritorio-1", desk=1, action="next")
            self._answered.clear()
            self._waiting_for = request.id
            began = time.perf_counter()
            self.desk.publish(contract.request_topic(1), request.to_json(), qos=1)
            if not self._answered.wait(10):
                raise RuntimeError("the hub did not answer a NEXT within 10 s")
            took.append((time.perf_counter() - began) * 1000)
            time.sleep(pause_s)
        return took

    def close(self) -> None:
        for client in (self.desk, self.kiosk):
            client.disconnect()
            client.loop_stop()


def stored(dsn: str, site: str | None = None) -> int:
    with psycopg.connect(dsn) as db:
        return db.execute("SELECT coalesce(sum(records), 0) FROM site_days WHERE %s::text IS NULL OR site = %s",
                          (site, site)).fetchone()[0]


def until(predicate, timeout: float, what: str) -> float:
    began = time.monotonic()
    while not predicate():
        if time.monotonic() - began > timeout:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - began


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


CENTRAL_CPU = {1}    # the central's processes on one core: the other machine they are in a deployment


def start(*args: str, log: Path, nice: int = 0, cpus: set[int] | None = None) -> subprocess.Popen:
    """`turnero ARGS` as its own process; `nice` as its systemd unit says, `cpus` to keep it off the site's."""
    def setup() -> None:
        os.nice(nice)
        if cpus:
            os.sched_setaffinity(0, cpus)
    return subprocess.Popen([str(TURNERO), *args], stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                            preexec_fn=setup)


def pin(pid: int) -> None:
    os.sched_setaffinity(pid, CENTRAL_CPU)


def postmaster(database: LocalPostgres) -> int:
    return int((database.folder / "data" / "postmaster.pid").read_text().split()[0])


def site_at_work(tmp: Path, dsn: str, central: LocalCentral, nexts: int) -> dict:
    """One site with three days to ship: its NEXT with the central away, while catching up, and caught up."""
    folder = tmp / "cali"
    config, broker = site_for_central(site_config.load(site_config.EXAMPLE), folder, "cali", central)
    path = site_file(folder, config)
    records = write_history(folder / "hub" / "days", BACKLOG_DAYS, datetime.now(TZ).date())
    with broker:
        hub = start("hub", "--config", str(path), "--state", str(folder / "hub"), log=folder / "hub.log")
        ship = start("ship", "--config", str(path), "--days", str(folder / "hub" / "days"), "--state",
                     str(folder / "ship"), log=folder / "ship.log", nice=SHIP_NICE)
        desk = Desk(config, broker.host, broker.port)
        try:
            time.sleep(3)                          # the hub reads its day and connects
            desk.issue(4 * nexts + 100)
            desk.nexts(20)                         # warm: the first answers load what the hub has not touched yet
            away = desk.nexts(nexts)               # the central's broker is not running: the bridge is down
            central.broker.start()
            pin(central.broker.pid)
            began, during = time.monotonic(), []
            while stored(dsn, "cali") < records:   # NEXT after NEXT for as long as the catch-up lasts
                during += desk.nexts(10)
                if time.monotonic() - began > 600:
                    raise RuntimeError("the site's backlog did not reach the central in 10 minutes")
            total = time.monotonic() - began
            caught_up = desk.nexts(nexts)
        finally:
            desk.close()
            for process in (ship, hub):
                process.terminate()
                process.wait(20)
    return {"records": records, "catch_up_s": total, "away": away, "during": during, "caught_up": caught_up}


class PageProbe:
    """The central's page asked every PROBE_S from a thread, signed in (its loopback port, which nginx fronts in a
    deployment): how long each answer took, in ms, per path."""

    PROBE_S = 0.2

    def __init__(self, port: int, paths: tuple[str, ...]):
        self.port, self.paths = port, paths
        self.times: dict[str, list[float]] = {path: [] for path in paths}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def _ask(self, method: str, path: str, **options) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(method, path, **options)
        return connection.getresponse()

    def __enter__(self) -> "PageProbe":
        answer = self._ask("POST", "/ingresar", body=f"usuario={PAGE_USER}&clave={PAGE_PASSWORD}",
                           headers={"Origin": f"http://127.0.0.1:{self.port}",
                                    "Content-Type": "application/x-www-form-urlencoded"})
        self.cookie = answer.getheader("Set-Cookie").split(";")[0]
        self._thread.start()
        return self

    def _probe(self) -> None:
        while not self._stop.wait(self.PROBE_S):
            for path in self.paths:
                began = time.perf_counter()
                answer = self._ask("GET", path, headers={"Cookie": self.cookie})
                answer.read()
                if answer.status == 200:
                    self.times[path].append((time.perf_counter() - began) * 1000)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(60)


def sustained(tmp: Path, dsn: str, central: LocalCentral, sites: list[str], days: int,
              probe: PageProbe) -> tuple[int, float]:
    """Several sites' backlogs shipped at once: records stored per second, first batch to last commit; the page
    asked all along."""
    brokers, ships, total = [], [], 0
    for name in sites:
        folder = tmp / name
        config, broker = site_for_central(site_config.load(site_config.EXAMPLE), folder, name, central)
        total += write_history(folder / "days", days, datetime.now(TZ).date())
        broker.start()
        brokers.append((broker, site_file(folder, config), folder))
    before = stored(dsn)
    for _broker, path, folder in brokers:
        ships.append(start("ship", "--config", str(path), "--days", str(folder / "days"), "--state",
                           str(folder / "ship"), log=folder / "ship.log", nice=SHIP_NICE))
    try:
        with probe:
            elapsed = until(lambda: stored(dsn) - before >= total, 1800, "every site's backlog")
    finally:
        for process in ships:
            process.terminate()
            process.wait(20)
        for broker, _path, _folder in brokers:
            broker.stop()
    return total, total / elapsed


def load_month(dsn: str, sites: int, last: date, days: int = 30) -> int:
    """A month of `sites` sites straight into the central's tables (COPY), for the export's figures."""
    count = 0
    with psycopg.connect(dsn) as db:
        for s in range(sites):
            site = f"m{s:02d}"
            db.execute("INSERT INTO sites (site, name, services) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                       (site, f"Sede {s}", Jsonb({"R": "Registro y Aportes"})))
            with db.cursor().copy("COPY records (site, id, day, pos, kind, at, turn_id, service, desk, record) "
                                  "FROM STDIN") as copy:
                for n in range(days, 0, -1):
                    day = last - timedelta(days=n)
                    records = day_records(day)
                    for pos, record in enumerate(records):
                        copy.write_row((site, record["id"], day, pos, record["kind"], record["at"],
                                        record.get("turn_id"), record.get("service"), record.get("desk"),
                                        Jsonb(record)))
                    count += len(records)
            db.cursor().executemany("INSERT INTO site_days (site, day, stored_to, records) VALUES (%s, %s, %s, %s)",
                                    [(site, last - timedelta(days=n), 0, 0) for n in range(days, 0, -1)])
            db.commit()
    return count


def export_peak(config_path: Path, first: date, last: date, out: Path) -> tuple[float, float]:
    began = time.monotonic()
    process = subprocess.Popen([str(TURNERO), "central", "export", "--config", str(config_path), "--from",
                                first.isoformat(), "--to", last.isoformat(), "--out", str(out)],
                               stdout=subprocess.DEVNULL)
    peak = Peak(process)
    process.wait()
    return time.monotonic() - began, peak.mib


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nexts", type=int, default=1000, help="NEXTs per phase")
    parser.add_argument("--sites", type=int, default=4, help="sites shipping at once for the sustained figure")
    parser.add_argument("--month-sites", type=int, default=50, help="sites of the month exported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalPostgres() as database:
        tmp = Path(tmp)
        names = ["cali", *(f"s{n:02d}" for n in range(args.sites))]
        central = LocalCentral(tmp / "central", database.dsn, names)
        Accounts(central.config.web.state).add(PAGE_USER, PAGE_PASSWORD)
        today = datetime.now(TZ).date()
        paths = ("/api/sedes", f"/informe?desde={today - timedelta(days=BACKLOG_DAYS)}&hasta={today}")
        pin(postmaster(database))     # its backends, forked from it, stay on the central's core too
        serve = start("central", "serve", "--config", str(central.config_path), log=tmp / "central.log",
                      cpus=CENTRAL_CPU)
        ingest_peak = Peak(serve)
        try:
            work = site_at_work(tmp, database.dsn, central, args.nexts)
            with PageProbe(central.config.web.app_port, paths) as quiet:
                time.sleep(20)
            busy = PageProbe(central.config.web.app_port, paths)
            total, rate = sustained(tmp, database.dsn, central, names[1:], BACKLOG_DAYS, busy)
        finally:
            serve.terminate()
            serve.wait(20)
            central.broker.stop()
        last = datetime.now(TZ).date()
        month = load_month(database.dsn, args.month_sites, last)
        week_s, week_mib = export_peak(central.config_path, last - timedelta(days=7), last - timedelta(days=1),
                                       tmp / "week.csv")
        month_s, month_mib = export_peak(central.config_path, last - timedelta(days=30), last - timedelta(days=1),
                                         tmp / "month.csv")
    away, during, caught_up = (percentiles(work[k]) for k in ("away", "during", "caught_up"))
    print("| figure | result | target |")
    print("|---|---|---|")
    print(f"| a site's NEXT, central away (ms, {args.nexts}) | p50 {away[0]:.1f}, p99 {away[1]:.1f} | |")
    print(f"| the same while it catches up {work['records']:,} records (ms, {len(work['during'])}) | p50 "
          f"{during[0]:.1f}, p99 "
          f"{during[1]:.1f} | p99 no worse than away |")
    print(f"| the same, caught up and connected (ms) | p50 {caught_up[0]:.1f}, p99 {caught_up[1]:.1f} | |")
    print(f"| p99 ratio: catching up / away, connected / away | {during[1] / away[1]:.2f}, "
          f"{caught_up[1] / away[1]:.2f} | <= 1.1 |")
    print(f"| catch-up of {work['records']:,} records (s) | {work['catch_up_s']:.1f} | |")
    print(f"| sustained ingest, {args.sites} sites at once through their bridges ({total:,} records; records/s) "
          f"| {rate:,.0f} | >= 5,000 |")
    for path, name in zip(paths, ("the live cards (/api/sedes)", f"the Informe of {BACKLOG_DAYS + 1} days")):
        calm, loaded = percentiles(quiet.times[path]), percentiles(busy.times[path])
        print(f"| the page: {name}, quiet / during that ingest (ms, {len(quiet.times[path])} / "
              f"{len(busy.times[path])}) | p50 {calm[0]:.0f} / {loaded[0]:.0f}, p99 {calm[1]:.0f} / {loaded[1]:.0f} "
              f"| usable |")
    print(f"| the central process's peak memory, after all of it (MiB) | {ingest_peak.mib:.0f} | bounded |")
    print(f"| export of a week of {args.month_sites} sites (s; peak MiB) | {week_s:.1f}; {week_mib:.0f} | |")
    print(f"| export of a month of {args.month_sites} sites, {month:,} records (s; peak MiB) | {month_s:.1f}; "
          f"{month_mib:.0f} | memory as the week's |")


if __name__ == "__main__":
    main()
