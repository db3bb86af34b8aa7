"""Hub benchmarks: durable write cost against history size, sustained events through a real broker, and the
CSV export of a year. Run by hand (`.venv/bin/python -m bench.bench_hub`); prints one table.

Figures are medians over repeated runs, with the spread (min-max) so that noise is visible.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.dev.local_broker import LocalBroker
from appliance.records.journal import DayStore
from appliance.records.turns_csv import write_csv
from hub.export import rows
from hub.service import Hub
from tests.harness.records import day_records, write_history

TZ = site_config.load(site_config.EXAMPLE).timezone


def history(directory: Path, days: int, last: date) -> DayStore:
    write_history(directory, days, last)
    return DayStore(directory)


def write_cost_ms(store: DayStore, today: date, repeats: int = 200) -> list[float]:
    """One durable write of one event into today's partition, already holding 500 records."""
    store.append(day_records(today)[:500])
    costs = []
    for i in range(repeats):
        record = {"id": f"bench{i}", "kind": "request", "day": today.isoformat(), "at": "x", "desk": 1,
                  "action": "next"}
        began = time.perf_counter()
        store.append([record])
        costs.append((time.perf_counter() - began) * 1000)
    return costs


def sustained_events_per_s(workdir: Path, count: int = 3000) -> float:
    """Tickets published as fast as a client can, through Mosquitto, until the hub has them all on disk."""
    with LocalBroker(workdir / "broker") as broker:
        config = site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)
        hub = Hub(config, workdir / "hub")
        hub.start()
        hub.link.wait_connected(5)
        import queue
        sender = Link("kiosco-1", broker.address(), queue.Queue())
        sender.start()
        sender.wait_connected(5)
        today, stamp = hub.today, datetime.now(TZ).isoformat()
        began = time.perf_counter()
        for i in range(count):
            event = contract.TicketIssued(id=f"e{i}", at=stamp, source="kiosco-1", turn_id=f"{today}/kiosco-1/R{i:04d}",
                                          number=f"R-{i:04d}", service="R", preferential=False)
            sender.publish(contract.ticket_topic("kiosco-1"), event.to_json())
        while len(hub.ledger.turns) < count:
            hub.step(0.5)
        elapsed = time.perf_counter() - began
        sender.stop()
        hub.stop()
    return count / elapsed


def export_year_s(store: DayStore, first: date, last: date, out: Path) -> tuple[float, int]:
    began = time.perf_counter()
    count = write_csv(out, rows(store, first, last, {"R": "Registro y Aportes"}))
    return time.perf_counter() - began, count


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    today = date.today()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = write_cost_ms(history(tmp / "one", 1, today), today)
        year_store = history(tmp / "year", 365, today)
        year = write_cost_ms(year_store, today)
        events = sum(len(year_store.day(d)) for d in year_store.days())
        exports = [export_year_s(year_store, today - timedelta(days=365), today, tmp / "year.csv") for _ in range(3)]
        rates = [sustained_events_per_s(tmp / f"sustained{i}") for i in range(3)]
    print("| figure | result | target |")
    print("|---|---|---|")
    print(f"| durable write, 1 day of history (ms, median of 200) | {spread(one)} | |")
    print(f"| durable write, 365 days of history (ms, median of 200) | {spread(year)} | |")
    print(f"| ratio 365 days / 1 day | {statistics.median(year) / statistics.median(one):.2f} | <= 1.2 |")
    print(f"| sustained durable events/s through Mosquitto (3 runs of 3,000) | {spread(rates)} | >= 500 |")
    print(f"| CSV export of a year ({events:,} events, {exports[0][1]:,} turns; s, 3 runs) "
          f"| {spread([e[0] for e in exports])} | <= 5 |")


if __name__ == "__main__":
    main()
