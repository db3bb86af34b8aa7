"""Nothing is lost: a kiosk keeps issuing while the broker or the hub is down, and every ticket reaches the hub
once they are back. Real Mosquitto, real roles, mock pins and a simulated printer."""
import pytest
from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.dev.always_open import AlwaysOpen
from appliance.dev.local_broker import LocalBroker, free_port
from appliance.drivers.gpio import press
from appliance.drivers.printer import SimulatedPrinter
from appliance.kiosk.unit import KioskUnit
from hub.service import Hub
from tests.harness.roles import Running, Ticking, wait_until


@pytest.fixture
def stopped_broker(tmp_path):
    broker = LocalBroker(tmp_path / "broker", port=free_port())
    yield broker
    broker.stop()


def site_for(broker):
    return site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)


def kiosk_for(config, tmp_path, pins):
    return KioskUnit(config, "kiosco-1", tmp_path / "kiosk", pin_factory=pins, printer=SimulatedPrinter(),
                     opening=AlwaysOpen(), monotonic=Ticking())


def test_tickets_issued_while_the_broker_is_down_reach_the_hub_once_it_is_back(stopped_broker, tmp_path):
    config, pins = site_for(stopped_broker), MockFactory()
    with Running(kiosk_for(config, tmp_path, pins)) as kiosk:
        for _ in range(3):
            press(pins, 5)
        wait_until(lambda: len(kiosk.issued) == 3, what="three tickets printed with no broker")
        assert [t.number for t in kiosk.issued] == ["R-001", "R-002", "R-003"]
        assert all(t.people_ahead is None for t in kiosk.issued)  # no figures from the hub: none printed
        assert len(kiosk.link.outbox) == 3

        stopped_broker.start()
        with Running(Hub(config, tmp_path / "hub")) as hub:
            wait_until(lambda: len(hub.ledger.turns) == 3, what="the hub to receive the outbox")
            assert sorted(t.number for t in hub.ledger.turns.values()) == ["R-001", "R-002", "R-003"]
            wait_until(lambda: len(kiosk.link.outbox) == 0, what="the outbox to empty once the hub has them")


def test_tickets_issued_while_the_hub_is_down_wait_in_the_broker_for_it(stopped_broker, tmp_path):
    stopped_broker.start()
    config, pins = site_for(stopped_broker), MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub:
        # The hub has been once: the broker keeps its session and queues for it. Only once it has subscribed,
        # though: a hub stopped before (a slow machine) leaves the broker nothing to queue for.
        wait_until(lambda: hub.link.connected, what="the hub's subscriptions")
    with Running(kiosk_for(config, tmp_path, pins)) as kiosk:
        press(pins, 6)
        press(pins, 26)
        wait_until(lambda: len(kiosk.issued) == 2, what="both tickets printed")
        # The broker has them, but only the hub's word lets the kiosk forget them: a power cut of the broker
        # before it saves would lose what it holds in memory for an absent hub.
        assert len(kiosk.link.outbox) == 2
        with Running(Hub(config, tmp_path / "hub")) as hub:
            wait_until(lambda: len(hub.ledger.turns) == 2, what="the queued tickets")
            assert sorted(t.number for t in hub.ledger.turns.values()) == ["P-001", "S-001"]
            wait_until(lambda: len(kiosk.link.outbox) == 0, what="the hub to confirm both")
