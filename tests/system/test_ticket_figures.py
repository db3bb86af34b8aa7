"""What a ticket says about the queue ("personas antes que usted", the estimate), through a real kiosk, hub and
Mosquitto: the figures are printed whenever the hub is reachable, quiet spells included, and left out only when
the hub's word is really old."""
import pytest
from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.dev.always_open import AlwaysOpen
from appliance.drivers.printer import SimulatedPrinter
from appliance.kiosk.unit import BOARD_FRESH_S, KioskUnit, TicketPress
from hub.service import BOARD_REFRESH_S, Hub
from tests.harness.roles import Running, SettableClock, wait_until


@pytest.fixture
def site(broker, tmp_path):
    config = site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port)
    kiosk_clock, hub_clock = SettableClock(1000.0), SettableClock(1000.0)
    kiosk = KioskUnit(config, "kiosco-1", tmp_path / "kiosk", pin_factory=MockFactory(), printer=SimulatedPrinter(),
                      opening=AlwaysOpen(), monotonic=kiosk_clock)
    hub = Hub(config, tmp_path / "hub", monotonic=hub_clock)
    return config, kiosk, kiosk_clock, hub, hub_clock


def take(kiosk, config, count: int = 1):
    """Presses the Registro y Aportes button, as a citizen does, and waits for the ticket."""
    before = len(kiosk.issued)
    for _ in range(count):
        kiosk.inbox.put(TicketPress(config.kiosks["kiosco-1"].buttons[0]))
    wait_until(lambda: len(kiosk.issued) == before + count, what="the tickets")
    return kiosk.issued[-1]


def test_after_a_quiet_spell_the_next_ticket_still_says_who_is_ahead(site):
    config, kiosk, kiosk_clock, hub, hub_clock = site
    with Running(hub), Running(kiosk):
        wait_until(lambda: kiosk.queue_figures("R", False)[0] == 0, what="the kiosk to have the hub's board")
        take(kiosk, config, 2)
        wait_until(lambda: kiosk.queue_figures("R", False)[0] == 2, what="the board with two waiting")
        # Ten quiet minutes: nobody takes a turn, nobody is called. The hub says the same again every half minute.
        for _ in range(20):
            kiosk_clock.moment += BOARD_REFRESH_S
            hub_clock.moment += BOARD_REFRESH_S
            wait_until(lambda: kiosk.queue_figures("R", False)[0] == 2, what="the board published again")
        third = take(kiosk, config)
    assert third.number == "R-003" and third.people_ahead == 2


def test_a_board_the_hub_has_not_confirmed_for_two_minutes_is_not_printed(site):
    config, kiosk, kiosk_clock, hub, _ = site
    with Running(kiosk):
        hub.start()    # online and connected, but its loop stands still: nothing it published is current any more
        try:
            wait_until(lambda: hub.step(0.05) is not None and kiosk.queue_figures("R", False)[0] == 0,
                       what="the kiosk to have the hub's board")
            kiosk_clock.moment += BOARD_FRESH_S + 1
            ticket = take(kiosk, config)
        finally:
            hub.stop()
    assert (ticket.people_ahead, ticket.estimated_wait_min) == (None, None)
