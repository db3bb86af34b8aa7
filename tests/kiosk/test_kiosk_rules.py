"""Plain rules of the kiosk: opening hours with Colombian public holidays, and contact-bounce filtering."""
from datetime import datetime

from appliance import site as site_config
from appliance.core.debounce import Debouncer
from appliance.core.hours import OpeningHours
from tests.harness.roles import SettableClock

SITE = site_config.load(site_config.EXAMPLE)
HOURS = OpeningHours(SITE.hours, SITE.holidays)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SITE.timezone)


def test_open_on_weekdays_in_the_morning_and_afternoon_periods():
    assert HOURS.is_open(at("2026-11-24 08:00"))       # a Tuesday, opening minute
    assert HOURS.is_open(at("2026-11-24 11:59"))
    assert not HOURS.is_open(at("2026-11-24 12:00"))   # lunch
    assert HOURS.is_open(at("2026-11-24 14:30"))
    assert not HOURS.is_open(at("2026-11-24 16:00"))   # closing time
    assert not HOURS.is_open(at("2026-11-24 07:59"))


def test_closed_on_weekends_and_on_colombian_public_holidays():
    assert not HOURS.is_open(at("2026-11-28 09:00"))   # Saturday
    assert not HOURS.is_open(at("2026-11-16 09:00"))   # Monday, Independencia de Cartagena (observed)
    assert HOURS.holiday(at("2026-07-20 09:00")) == "Día de la Independencia"
    assert HOURS.holiday(at("2026-11-24 09:00")) is None


def test_a_bouncing_contact_counts_as_one_press():
    clock = SettableClock(100.0)
    debounce = Debouncer(quiet_s=0.05, clock=clock)
    presses = 0
    for offset, pressed in [(0, True), (0.002, False), (0.004, True), (0.006, False), (0.009, True),
                            (0.150, False)]:
        clock.moment = 100 + offset
        presses += debounce.edge("R", pressed)
    assert presses == 1


def test_two_quick_real_presses_count_twice_and_buttons_are_independent():
    clock = SettableClock(100.0)
    debounce = Debouncer(quiet_s=0.05, clock=clock)
    results = []
    for offset, button, pressed in [(0, "R", True), (0.12, "R", False), (0.25, "R", True), (0.251, "S", True)]:
        clock.moment = 100 + offset
        results.append(debounce.edge(button, pressed))
    assert results == [True, False, True, True]
