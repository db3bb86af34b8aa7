"""Load benchmark: a busy day of 2,000 turns at 20 desks with 3 displays in fast-forward, the next day's rollover,
and an opening burst of 300 tickets in one simulated minute, against a real Mosquitto with the real hub and
displays (the site of tests/harness/busy_day.py). Run by hand: `.venv/bin/python -m bench.bench_load [--turns N]`.

Prints throughput, the desks' answer time (request published -> the hub's answer back), the hub's batches
(size and time from the first message to the end of the batch, the durable write included) and the memory
held by the hub and by the displays (tracemalloc) at the start, middle and end of
the day and after the rollover. The state directories are on the disk (`--dir` to choose), fsync included.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from appliance import site as site_config  # noqa: E402
from appliance.dev.local_broker import LocalBroker  # noqa: E402
from appliance.site import QueuePolicy  # noqa: E402
from tests.harness.busy_day import BusySite, busy_config, opening_burst, roll_over, run_day, summary  # noqa: E402
from tests.harness.policy_replay import policy_problems  # noqa: E402
from tests.harness.roles import wait_until  # noqa: E402

DAY = date(2026, 11, 24)


def memory(label: str) -> tuple[str, float, float]:
    """Python memory held by the process (the hub, three displays, the connections and this script's small
    bookkeeping), and the part allocated in hub/ and tinydb/ code. (Deeper tracebacks, to split by thread,
    make tracemalloc too slow for a day of 20 desks.)"""
    snapshot = tracemalloc.take_snapshot()
    total = sum(stat.size for stat in snapshot.statistics("filename")) / 2**20
    hub = snapshot.filter_traces([tracemalloc.Filter(True, "*/hub/*"), tracemalloc.Filter(True, "*/tinydb/*")])
    return label, total, sum(stat.size for stat in hub.statistics("filename")) / 2**20


def site(broker, workdir: Path, policy: QueuePolicy) -> BusySite:
    config = busy_config(site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file), policy)
    return BusySite(config, workdir, datetime(DAY.year, DAY.month, DAY.day, 7, 0, tzinfo=config.timezone))


def busy_day(workdir: Path, turns: int) -> list[str]:
    tracemalloc.start()
    lines, marks = [], []
    with LocalBroker(workdir / "broker") as broker, site(broker, workdir, QueuePolicy("ratio", 2, 45)) as busy:
        marks.append(memory("start"))
        noon = datetime(DAY.year, DAY.month, DAY.day, 12, 0, tzinfo=busy.config.timezone)
        began = time.perf_counter()
        run_day(busy, DAY, turns, on_tick=lambda m: m == noon and marks.append(memory("midday")))
        wait_until(busy.hub_has_everything, timeout=60, what="every ticket and rating at the hub")
        elapsed = time.perf_counter() - began
        marks.append(memory("end of day"))
        records = busy.hub.store.day(DAY.isoformat())
        problems, rules = policy_problems(records, busy.config)
        count, calls = len(records), sum(r["kind"] == "call" for r in records)
        del records   # this script's copy of the day is not the hub's memory
        roll_over(busy, DAY + timedelta(days=1))
        marks.append(memory("after the rollover"))
        said = {len(s.said) for s in busy.spoken.values()}
        lines += [
            f"| busy day: {busy.issued_on[DAY]:,} tickets, {calls:,} calls, {count:,} records in {elapsed:.0f} s "
            f"| {count / elapsed:,.0f} records/s | |",
            f"| policy problems / calls decided by aging, ratio, preferential, normal / breaks taken | "
            f"{len(problems)} / {rules['aging']}, {rules['ratio']}, {rules['preferential']}, {rules['normal']} / "
            f"{rules['breaks']} | 0 |",
            f"| announcements per display (3 displays) | {said} | = calls |",
            f"| desk answer, ms ({len(busy.answer_ms):,} requests) | {summary(busy.answer_ms)} | p99 <= 1000 |",
            f"| hub batch, messages ({len(busy.batches.sizes):,} batches) | "
            f"mean {sum(busy.batches.sizes) / len(busy.batches.sizes):.1f}, max {max(busy.batches.sizes)} | |",
            f"| hub batch, ms | {summary([s * 1000 for s in busy.batches.seconds])} | |",
        ]
        lines += [f"| Python memory held, {label}: process / allocated in hub and tinydb code (MB) | "
                  f"{total:.1f} / {hub:.1f} | |" for label, total, hub in marks]
    tracemalloc.stop()
    return lines


def burst(workdir: Path, tickets: int = 300) -> list[str]:
    with LocalBroker(workdir / "broker") as broker, site(broker, workdir, QueuePolicy("ratio", 3, 45)) as busy:
        began = time.perf_counter()
        requests = opening_burst(busy, DAY, tickets)
        wait_until(busy.displays_follow, timeout=30, what="the displays to follow")
        elapsed = time.perf_counter() - began
        records = busy.hub.store.day(DAY.isoformat())
        problems, _ = policy_problems(records, busy.config)
        sizes = busy.batches.sizes
        return [
            f"| opening burst: {tickets} tickets and {requests} requests in | {elapsed:.2f} s, "
            f"{(tickets + requests) / elapsed:,.0f} messages/s | |",
            f"| burst: tickets recorded / policy problems | "
            f"{sum(r['kind'] == 'ticket' for r in records)} / {len(problems)} | {tickets} / 0 |",
            f"| burst: hub batches | {len(sizes)}, mean {sum(sizes) / len(sizes):.1f} messages, max {max(sizes)}, "
            f"{summary([s * 1000 for s in busy.batches.seconds])} ms | |",
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=None, help="where the state directories go (default: /tmp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        lines = burst(Path(tmp) / "burst") + busy_day(Path(tmp) / "day", args.turns)
    print("| figure | result | target |")
    print("|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
