"""The hub's journal (appliance/records/journal.py) on real files: a read gives back what was written, an append never rewrites
what is there, a power cut in the middle of an append loses nothing acknowledged and duplicates nothing, a
damaged line is reported by its number and the rest is read, and a follower reads only what was added."""
import errno
import hashlib
import json
import logging
import zlib
from datetime import date

import pytest

from appliance.records.journal import Damaged, DayStore, Follower, decode_line, encode_batch
from tests.harness.faults.disk import DurableOs, PowerCut

DAY = "2026-11-24"


def record(i: int, day: str = DAY, kind: str = "ticket") -> dict:
    return {"id": f"r{i}", "kind": kind, "day": day, "at": f"{day}T09:00:00-05:00", "number": f"E-{i:03d}"}


def ids(records) -> list[str]:
    return [r["id"] for r in records]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TornWrite(DurableOs):
    """The SD card as the journal sees it: the next write reaches the card only up to `keep` bytes, then the power
    goes (or, with `error`, the card answers EIO)."""

    def __init__(self, keep, error: bool = False):
        self.keep, self.error = keep, error

    def write(self, fd, data):
        data = bytes(data)
        self._real.write(fd, data[:self.keep(data)])
        if self.error:
            raise OSError(errno.EIO, "Input/output error (injected)")
        raise PowerCut()


def test_records_come_back_in_order_per_day_and_across_days(tmp_path):
    store = DayStore(tmp_path)
    store.append([record(1), record(2), record(3, "2026-11-25")])
    store.append([record(4)])
    assert ids(store.day(DAY)) == ["r1", "r2", "r4"]
    again = DayStore(tmp_path)
    assert ids(again.between(date(2026, 11, 24), date(2026, 11, 25))) == ["r1", "r2", "r4", "r3"]
    assert again.has("2026-11-25", "r3") and not again.has("2026-11-25", "r1")
    assert again.days() == ["2026-11-24", "2026-11-25"]


def test_a_day_is_a_journal_of_self_checking_lines_that_an_append_never_rewrites(tmp_path):
    store = DayStore(tmp_path)
    store.append([record(1), record(2), record(3)])
    path = tmp_path / f"{DAY}.jsonl"
    first, inode = path.read_bytes(), path.stat().st_ino
    store.append([record(4)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{DAY}.jsonl"]      # no temporary file either
    assert path.read_bytes().startswith(first) and path.stat().st_ino == inode
    lines = path.read_bytes().splitlines()
    assert len(lines) == 4
    for line, mark in zip(lines, (b"+", b"+", b".", b".")):    # the last line of each batch ends it
        crc, body = line.split(b" ", 1)
        assert int(crc, 16) == zlib.crc32(body) and body[:2] == mark + b" "
    assert json.loads(lines[3][11:]) == record(4)


def checked(body: bytes) -> bytes:
    return b"%08x %s" % (zlib.crc32(body), body)


@pytest.mark.parametrize("line, why", [
    (checked(b'. {"id":"r1","kind":"ticket"}')[:-1] + b"]", "its checksum does not match"),
    (checked(b'* {"id":"r1","kind":"ticket"}'), "not a journal line"),
    (b"+1234567 " + checked(b'. {"id":"r1"}')[9:], "not a journal line"),
    (checked(b'. {"id":"r1","kind":"ticket"} {}'), "not JSON"),
    (checked(b'. {"id":"\xff","kind":"ticket"}'), "not JSON"),
    (checked(b'. ["r1","ticket"]'), "not a record"),
    (checked(b'. {"id":1,"kind":"ticket"}'), "not a record"),
    (b"", "not a journal line"),
])
def test_a_line_that_is_not_exactly_what_the_hub_wrote_is_refused_with_the_reason(line, why):
    assert decode_line(checked(b'. {"id":"r1","kind":"ticket"}')) == ({"id": "r1", "kind": "ticket"}, True)
    with pytest.raises(Damaged, match=why):
        decode_line(line)


def test_a_power_cut_in_the_middle_of_an_append_loses_nothing_acknowledged_and_duplicates_nothing(tmp_path,
                                                                                                 caplog):
    store = DayStore(tmp_path)
    store.append([record(1), record(2)])                       # acknowledged: its fsync returned
    path = tmp_path / f"{DAY}.jsonl"
    acknowledged = path.read_bytes()
    batch = [record(3), record(4, kind="call"), record(5, kind="close")]
    with TornWrite(lambda data: len(data) // 2 + 1), pytest.raises(PowerCut):
        store.append(batch)
    assert not path.read_bytes().endswith(b"\n")               # the file ends in half a line

    after = DayStore(tmp_path)                                 # the hub starts again
    assert ids(after.day(DAY)) == ["r1", "r2"]                 # a reader takes the complete batches only
    with caplog.at_level(logging.WARNING):
        assert ids(after.resume(DAY)) == ["r1", "r2"]
    assert path.read_bytes() == acknowledged
    assert (tmp_path / f"{DAY}.jsonl.cut").read_bytes() == encode_batch(batch)[:len(encode_batch(batch)) // 2 + 1]
    assert f"{path}: from line 3" in caplog.text and "never acknowledged" in caplog.text
    after.append(batch)                                        # the broker delivers the batch's messages again
    assert ids(DayStore(tmp_path).day(DAY)) == ["r1", "r2", "r3", "r4", "r5"]


def test_a_batch_torn_after_whole_lines_counts_for_nothing(tmp_path):
    """Half a NEXT (its request without its call) is not a record of the day: the batch is all or nothing."""
    store = DayStore(tmp_path)
    store.append([record(1)])
    batch = [record(2, kind="request"), record(3, kind="close"), record(4, kind="call")]
    whole_lines = encode_batch(batch).rsplit(b"\n", 2)[0] + b"\n"    # the first two lines, the third never written
    with TornWrite(lambda data: len(whole_lines)), pytest.raises(PowerCut):
        store.append(batch)
    assert ids(DayStore(tmp_path).day(DAY)) == ["r1"]
    assert ids(DayStore(tmp_path).resume(DAY)) == ["r1"]


def test_an_io_error_in_the_middle_of_an_append_is_cut_before_the_next_batch(tmp_path):
    store = DayStore(tmp_path)
    store.append([record(1)])
    with TornWrite(lambda data: 20, error=True), pytest.raises(OSError):
        store.append([record(2), record(3)])
    store.append([record(4)])                                  # the same store goes on: the torn end is cut first
    assert ids(DayStore(tmp_path).day(DAY)) == ["r1", "r4"]


def test_a_damaged_line_in_the_middle_is_reported_by_number_and_the_rest_is_read(tmp_path, caplog):
    store = DayStore(tmp_path)
    store.append([record(1), record(2), record(3)])
    store.append([record(4)])
    path = tmp_path / f"{DAY}.jsonl"
    damaged = path.read_bytes().replace(b'"E-002"', b'"E-00X"')     # bit rot on the card
    path.write_bytes(damaged)
    store.close()
    with caplog.at_level(logging.ERROR):
        assert ids(DayStore(tmp_path).resume(DAY)) == ["r1", "r3", "r4"]
    assert f"{path} line 2: its checksum does not match" in caplog.text
    DayStore(tmp_path).append([record(5)])
    assert path.read_bytes().startswith(damaged)               # never rewritten, only appended to


def test_a_follower_reads_only_what_was_added_and_waits_for_the_end_of_a_line(tmp_path, caplog):
    store = DayStore(tmp_path)
    follower = Follower(store, DAY)
    assert follower.poll() == (True, [])                       # nothing recorded yet today
    store.append([record(1), record(2)])
    assert follower.poll() == (False, [record(1), record(2)])
    path = tmp_path / f"{DAY}.jsonl"
    line = encode_batch([record(3)])
    with open(path, "ab") as handle:                           # the hub in the middle of its write
        handle.write(line[:30])
        handle.flush()
        assert follower.poll() == (False, [])
        handle.write(line[30:])
    assert follower.poll() == (False, [record(3)])
    # Damage to what the follower has already read goes unnoticed by it: it does not read that part again.
    path.write_bytes(path.read_bytes().replace(b'"E-001"', b'"E-00X"'))
    store.append([record(4)])
    with caplog.at_level(logging.ERROR):
        assert follower.poll() == (False, [record(4)])
        assert not caplog.text
        assert Follower(store, DAY).poll() == (True, [record(2), record(3), record(4)])
    assert "line 1: its checksum does not match" in caplog.text


def test_a_follower_starts_again_when_the_journal_is_replaced(tmp_path):
    store = DayStore(tmp_path)
    store.append([record(1), record(2)])
    follower = Follower(store, DAY)
    assert follower.poll() == (True, [record(1), record(2)])
    (tmp_path / f"{DAY}.jsonl").write_bytes(encode_batch([record(7)]))   # a technician restores another copy
    assert follower.poll() == (True, [record(7)])


def test_a_file_that_is_not_a_journal_is_kept_aside_whole(tmp_path, caplog):
    path = tmp_path / f"{DAY}.jsonl"
    path.write_bytes(b"turn;number\r\nE-001;1\r\n")
    before = digest(path)
    store = DayStore(tmp_path)
    assert store.day(DAY) == [] and digest(path) == before     # a reader changes nothing
    with caplog.at_level(logging.WARNING):
        assert store.resume(DAY) == []
    assert "from line 1" in caplog.text and "a file that is not a journal" in caplog.text
    assert hashlib.sha256((tmp_path / f"{DAY}.jsonl.cut").read_bytes()).hexdigest() == before
    store.append([record(1)])
    assert ids(DayStore(tmp_path).day(DAY)) == ["r1"]
