"""A plausible day of one site's records, in the shape the hub writes them, made without running a hub: for the
benchmarks and for tests that need days of history."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from appliance import site as site_config
from appliance.records.journal import DayStore

TZ = site_config.load(site_config.EXAMPLE).timezone
TURNS_PER_DAY = 350  # ~1,370 records a day: a ticket, a call, a close and most of the time a rating


def day_records(day: date) -> list[dict]:
    """A plausible day of records for one site, in the shape the hub writes them."""
    records, start = [], datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=8)
    for i in range(TURNS_PER_DAY):
        issued = start + timedelta(seconds=80 * i)
        turn_id = f"{day}/kiosco-1/R{i + 1:03d}"
        base = {"day": day.isoformat(), "desk": 1 + i % 3, "request_id": f"q{day}{i}"}
        records += [
            {"id": f"t{day}{i}", "kind": "ticket", "day": day.isoformat(), "at": issued.isoformat(),
             "turn_id": turn_id, "number": f"R-{i + 1:03d}", "service": "R", "preferential": i % 5 == 0,
             "kiosk": "kiosco-1", "received_at": issued.isoformat()},
            {**base, "id": f"c{day}{i}", "kind": "call", "at": (issued + timedelta(minutes=9)).isoformat(),
             "turn_id": turn_id, "advisor": "Ana María Peña", "recall": False},
            {**base, "id": f"x{day}{i}", "kind": "close", "at": (issued + timedelta(minutes=17)).isoformat(),
             "turn_id": turn_id, "outcome": "attended"},
        ]
        if i % 10 < 9:
            records.append({"id": f"r{day}{i}", "kind": "rating", "day": day.isoformat(),
                            "at": (issued + timedelta(minutes=18)).isoformat(), "turn_id": turn_id, "desk": 1,
                            "advisor": "Ana María Peña", "value": 1 + i % 5, "received_at": issued.isoformat()})
    return records


def write_history(directory: Path, days: int, last: date) -> int:
    """`days` plausible days before `last` in the journals of `directory`; returns how many records."""
    store, written = DayStore(directory), 0
    for n in range(days, 0, -1):
        records = day_records(last - timedelta(days=n))
        store.append(records)
        written += len(records)
    store.close()
    return written
