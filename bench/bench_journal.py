"""Journal benchmark: what a busy day and a year of history cost the hub, measured against real `turnero hub`
processes and private Mosquittos, through the documented MQTT protocol and the coordinators' page only.

- A desk's NEXT -> its answer (the hub's retained desk_state naming the request), at the start of a day and
  after 20,000 records in it: p50, p99 and the ratio of the two p50s. Two hubs with the same year of history
  run side by side, one at the start of its day, one filled to 20,000 records first, and their NEXTs
  alternate: whatever else the machine is doing weighs on both alike.
- The bytes the late hub's process writes per NEXT (/proc/PID/io write_bytes: what reaches the disk).
- In a separate phase, the late hub's resident memory while four coordinators download a year's CSV at once.

Run by hand: `.venv/bin/python -m bench.bench_journal [--dir DIR]`. The state goes under DIR (default /tmp),
which must be a disk, not a tmpfs: write_bytes counts only what reaches a block device. Prints one table.
"""
from __future__ import annotations

import argparse
import http.client
import queue
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.dev.local_broker import LocalBroker, free_port
from appliance.web.accounts import Accounts
from appliance.web.pages import COOKIE
from tests.harness.page import page_text
from tests.harness.records import write_history
from tests.harness.roles import site_text

TURNERO = Path(sys.executable).with_name("turnero")
PASSWORD = "banco-de-pruebas-1"
DESKS = (1, 2, 3)
MEASURED = 200               # NEXTs timed at each of the two hubs
LATE_RECORDS = 20_000        # records in today's journal before the late phase
FILL = 100                   # tickets, then as many NEXTs, per round of filling
DOWNLOADS = 4
HISTORY_DAYS = 365


def site_file(workdir: Path, broker, web_port: int) -> Path:
    """The site on this broker, its page on `web_port` with a certificate from the broker's CA and one account."""
    path = workdir / "site.toml"
    path.write_text(page_text(site_text(broker), broker, web_port), encoding="utf-8")
    Accounts(workdir / "hub").add("coordinacion", PASSWORD)
    return path


def _connection(port: int, ca_file: Path, timeout: float) -> http.client.HTTPSConnection:
    """HTTPS to the page, trusting the site CA only."""
    return http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout,
                                       context=ssl.create_default_context(cafile=str(ca_file)))


class HubSite:
    """A private Mosquitto and a `turnero hub` process on its own state directory (a copy of `history`), with
    the protocol's client."""

    def __init__(self, workdir: Path, history: Path, tz):
        shutil.copytree(history, workdir / "hub" / "days")
        self.broker = LocalBroker(workdir / "broker").start()
        self.web_port = free_port()
        config = site_file(workdir, self.broker, self.web_port)
        self._log = open(workdir / "hub.log", "wb")
        self.hub = subprocess.Popen([str(TURNERO), "hub", "--config", str(config), "--state", str(workdir / "hub")],
                                    stdout=subprocess.DEVNULL, stderr=self._log)
        self.desks = Desks(self.broker, tz)
        self.journal = workdir / "hub" / "days" / f"{datetime.now(tz).date().isoformat()}.jsonl"

    def close(self) -> None:
        self.desks.stop()
        self.hub.terminate()
        self.hub.wait(20)
        self._log.close()
        self.broker.stop()


class Desks:
    """Kiosk 1 and the desks as the protocol sees them: one client publishing tickets and requests, and
    listening to the hub's retained desk states and confirmations."""

    def __init__(self, broker: LocalBroker, tz):
        self.tz, self.inbox, self._n, self._turns = tz, queue.Queue(), 0, 0
        self.link = Link("banco", broker.address(), self.inbox, subscriptions=(
            contract.desk_state_topic("+"), contract.applied_topic("kiosco-1"), contract.status_topic("hub")))
        self.link.start()
        assert self.link.wait_connected(5)
        online = []   # before the hub has its session, nothing is queued for it

        def look(message):
            if message.topic == contract.status_topic("hub") and message.payload == b"online":
                online.append(message)
        self._until(look, lambda: online, "the hub online", retained=True)

    def tickets(self, count: int) -> None:
        """Publishes `count` tickets and waits until the hub confirms it has recorded them all."""
        today, ids = datetime.now(self.tz).date().isoformat(), set()
        for _ in range(count):
            self._turns += 1
            event = contract.TicketIssued(id=f"ticket-{self._turns}", at=datetime.now(self.tz).isoformat(),
                                          source="kiosco-1", turn_id=f"{today}/kiosco-1/R{self._turns:05d}",
                                          number=f"R-{self._turns:05d}", service="R", preferential=False)
            ids.add(event.id)
            self.link.publish(contract.ticket_topic("kiosco-1"), event.to_json())

        def look(message):
            if message.topic == contract.applied_topic("kiosco-1"):
                ids.difference_update(contract.expect(message.payload, contract.Applied).ids)
        self._until(look, lambda: not ids, "the tickets recorded")

    def next(self, desk: int) -> tuple[str, float]:
        self._n += 1
        request = contract.DeskRequest(id=f"next-{self._n}", at=datetime.now(self.tz).isoformat(),
                                       source=contract.desk_device(desk), desk=desk, action="next")
        sent = time.monotonic()
        self.link.publish(contract.request_topic(desk), request.to_json())
        return request.id, sent

    def answers(self, request_ids: set[str]) -> dict[str, float]:
        """When the desk states answering these requests arrived (paho's receive time)."""
        answered: dict[str, float] = {}

        def look(message):
            if message.topic.endswith("/state"):
                request_id = contract.expect(message.payload, contract.DeskState).answered
                if request_id in request_ids:
                    answered.setdefault(request_id, message.timestamp)
        self._until(look, lambda: len(answered) == len(request_ids), f"the answers to {len(request_ids)} NEXTs")
        return answered

    def _until(self, look, done, what: str, timeout: float = 60, *, retained: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            try:
                item = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no {what} within {timeout} s") from None
            if hasattr(item, "topic") and (retained or not item.retain):
                look(item)

    def timed_next(self, desk: int) -> float:
        """One NEXT and the milliseconds until its answer."""
        request_id, sent = self.next(desk)
        return (self.answers({request_id})[request_id] - sent) * 1000

    def fill(self, journal: Path, records: int) -> None:
        """Busy hours in fast forward until today's journal holds `records` records."""
        while lines(journal) < records:
            self.tickets(FILL)
            sent = [self.next(DESKS[i % len(DESKS)])[0] for i in range(FILL)]
            self.answers(set(sent[-len(DESKS):]))   # a desk's state names the last of its requests in a batch

    def stop(self) -> None:
        self.link.stop()


def lines(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for _ in handle)
    except FileNotFoundError:   # the day has no record yet
        return 0


def written(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/PID/io")


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/PID/status")


def sign_in(port: int, ca_file: Path) -> str:
    connection = _connection(port, ca_file, 10)
    body = urlencode({"usuario": "coordinacion", "clave": PASSWORD})
    connection.request("POST", "/ingresar", body, {"Content-Type": "application/x-www-form-urlencoded",
                                                   "Origin": f"https://127.0.0.1:{port}"})
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer.getheader("Set-Cookie").split(";")[0].split("=", 1)[1]


def download(port: int, ca_file: Path, cookie: str, path: str, result: list) -> None:
    began = time.perf_counter()
    connection = _connection(port, ca_file, 120)
    connection.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"})
    answer, size = connection.getresponse(), 0
    while chunk := answer.read(256 * 1024):
        size += len(chunk)
    connection.close()
    result.append((answer.status, size, time.perf_counter() - began))


def downloads(pid: int, port: int, ca_file: Path, first: date, last: date) -> tuple[float, float, list]:
    """Resident memory before and at its peak while DOWNLOADS coordinators download the period at once."""
    cookie, results = sign_in(port, ca_file), []
    base = peak = resident_mb(pid)
    path = f"/exportar/turnos.csv?desde={first.isoformat()}&hasta={last.isoformat()}"
    threads = [threading.Thread(target=download, args=(port, ca_file, cookie, path, results))
               for _ in range(DOWNLOADS)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, resident_mb(pid))
        time.sleep(0.02)
    return base, peak, results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="where the state goes (default: /tmp; a disk)")
    args = parser.parse_args()
    tz = site_config.load(site_config.EXAMPLE).timezone
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        workdir, today = Path(tmp), datetime.now(tz).date()
        history = write_history(workdir / "history", HISTORY_DAYS, today)
        sites: list[HubSite] = []
        try:
            for name in ("early", "late"):
                sites.append(HubSite(workdir / name, workdir / "history", tz))
            early, late = sites
            late.desks.fill(late.journal, LATE_RECORDS)
            for site in sites:
                site.desks.tickets(MEASURED)
            before, times = written(late.hub.pid), {early: [], late: []}
            for i in range(MEASURED):
                for site in sites if i % 2 else sites[::-1]:    # neither is always the first of a pair
                    times[site].append(site.desks.timed_next(DESKS[i % len(DESKS)]))
                time.sleep(0.02)
            per_next = (written(late.hub.pid) - before) / MEASURED
            records = {site: lines(site.journal) for site in sites}
            base, peak, results = downloads(late.hub.pid, late.web_port, late.broker.ca_file, today - timedelta(days=HISTORY_DAYS),
                                            today)
        finally:
            for site in sites:
                site.close()
    print("| figure | result | target |")
    print("|---|---|---|")
    for label, site in (("start of the day", early), ("late in the day", late)):
        print(f"| NEXT -> desk_state, {label} ({records[site]:,} records in the journal; {MEASURED} NEXTs), ms | "
              f"p50 {statistics.median(times[site]):.1f}, p99 {percentile(times[site], 0.99):.1f}, "
              f"max {max(times[site]):.1f} | {'p99 <= 25' if site is late else ''} |")
    ratio = statistics.median(times[late]) / statistics.median(times[early])
    print(f"| late / early p50 | {ratio:.2f} | <= 1.3 |")
    print(f"| bytes written by the hub process per NEXT, late in the day | {per_next / 1024:.1f} KiB | <= 8 KiB |")
    sizes = ", ".join(f"{size / 2**20:.1f} MB in {seconds:.1f} s ({status})" for status, size, seconds in results)
    print(f"| hub resident memory, {DOWNLOADS} concurrent CSV downloads of {HISTORY_DAYS + 1} days "
          f"({history:,} records of history): before / peak (growth) | {base:.0f} / {peak:.0f} MB "
          f"(+{peak - base:.0f} MB); {sizes} | growth <= 50 MB |")


if __name__ == "__main__":
    main()
