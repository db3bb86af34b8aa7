"""The hub's day partitions: atomic, idempotent, and a read gives back what was written."""
import json
from datetime import date

from hub.store import DayStore


def record(i: int, day: str = "2026-11-24") -> dict:
    return {"id": f"r{i}", "kind": "ticket", "day": day, "at": f"{day}T09:00:00-05:00", "number": f"E-{i:03d}"}


def test_records_come_back_in_order_per_day_and_across_days(tmp_path):
    store = DayStore(tmp_path)
    store.append([record(1), record(2), record(3, "2026-11-25")])
    store.append([record(4)])
    assert [r["id"] for r in store.day("2026-11-24")] == ["r1", "r2", "r4"]
    again = DayStore(tmp_path)
    assert [r["id"] for r in again.between(date(2026, 11, 24), date(2026, 11, 25))] == ["r1", "r2", "r4", "r3"]
    assert again.has("2026-11-25", "r3") and not again.has("2026-11-25", "r1")


def test_each_day_is_a_whole_json_file_and_no_temporary_file_is_left(tmp_path):
    store = DayStore(tmp_path)
    store.append([record(i) for i in range(50)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11-24.json"]
    assert len(json.loads((tmp_path / "2026-11-24.json").read_text())["events"]) == 50
