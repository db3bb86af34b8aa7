"""Ticket numbers: durable, per day and prefix, and never repeated after a restart."""
from datetime import date

from appliance.kiosk.numbering import TicketCounter, turn_id, turn_number

DAY = date(2026, 11, 24)


def test_each_prefix_has_its_own_series_from_one(tmp_path):
    counter = TicketCounter(tmp_path / "counter.json")
    assert [counter.take("E", DAY) for _ in range(3)] == [1, 2, 3]
    assert counter.take("P", DAY) == 1
    assert turn_number("P", 7) == "P-007"
    assert turn_id(DAY, "kiosco-1", "P", 7) == "2026-11-24/kiosco-1/P007"


def test_a_restarted_kiosk_continues_the_series(tmp_path):
    TicketCounter(tmp_path / "counter.json").take("E", DAY)
    assert TicketCounter(tmp_path / "counter.json").take("E", DAY) == 2


def test_a_new_day_starts_a_new_series_on_its_first_ticket(tmp_path):
    counter = TicketCounter(tmp_path / "counter.json")
    counter.take("E", DAY)
    assert counter.take("E", date(2026, 11, 25)) == 1
    assert TicketCounter(tmp_path / "counter.json").take("E", date(2026, 11, 25)) == 2


def test_a_clock_set_back_to_an_earlier_day_continues_the_current_series(tmp_path):
    counter = TicketCounter(tmp_path / "counter.json")
    counter.take("E", date(2026, 11, 25))
    assert counter.take("E", DAY) == 2           # the clock went back a day: no second E-001
    assert counter.day == date(2026, 11, 25)
    assert counter.take("E", date(2026, 11, 25)) == 3
