"""The desk unit against a real broker and hub: a repeated NEXT never skips a citizen, and a rating pressed
while the desk is offline is delivered once."""
import pytest
from gpiozero.pins.mock import MockFactory

from appliance import config as site_config
from appliance import contract
from appliance.desk import DeskUnit
from appliance.drivers.gpio import press
from hub.service import Hub
from support import Running, wait_until


@pytest.fixture
def config(broker):
    return site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port)


def issue(hub_unit, *numbers: int) -> None:
    """Tickets as a kiosk would publish them, straight onto the broker."""
    assert hub_unit.link.wait_connected(5)
    for n in numbers:
        event = contract.TicketIssued(id=f"ticket-{n}", at=hub_unit.now().isoformat(), source="kiosco-1",
                                      turn_id=f"{hub_unit.today}/kiosco-1/R{n:03d}", number=f"R-{n:03d}",
                                      service="R", preferential=False)
        hub_unit.link.publish(contract.ticket_topic("kiosco-1"), event.to_json()).wait_for_publish(2)


def test_next_pressed_again_while_the_hub_is_away_calls_one_citizen_only(config, tmp_path):
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub:
        issue(hub, 1, 2)
        wait_until(lambda: len(hub.ledger.waiting()) == 2, what="two waiting turns")
    with Running(DeskUnit(config, 1, tmp_path / "desk", pin_factory=pins)) as desk:
        wait_until(lambda: desk.link.connected, what="the desk to connect")
        press(pins, config.desk_pins.next)
        wait_until(lambda: desk.offline, what="the desk to show it has no answer")
        press(pins, config.desk_pins.next)  # the advisor tries again: the same request goes out
        with Running(Hub(config, tmp_path / "hub")) as hub:
            wait_until(lambda: desk.serving, timeout=10, what="the desk's answer")
            assert desk.serving["number"] == "R-001"
            assert [t.number for t in hub.ledger.waiting()] == ["R-002"]
            assert not desk.offline


def test_a_rating_pressed_while_the_broker_is_down_is_counted_once_after_reconnect(config, broker, tmp_path):
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub, \
            Running(DeskUnit(config, 1, tmp_path / "desk", pin_factory=pins)) as desk:
        issue(hub, 1)
        wait_until(lambda: hub.ledger.waiting(), what="a waiting turn")
        press(pins, config.desk_pins.next)
        wait_until(lambda: desk.serving, what="the call")
        wait_until(lambda: all(pins.pin(p).state for p in config.desk_pins.rating_leds),
                   what="the pad's lights inviting a rating")
        broker.stop()
        wait_until(lambda: not desk.link.connected, what="the desk to notice")
        press(pins, config.desk_pins.rating[4])  # 5: muy satisfecho
        press(pins, config.desk_pins.rating[0])  # a second press for the same turn counts for nothing
        wait_until(lambda: len(desk.link.outbox) == 1, what="the rating kept on disk")
        broker.start()
        turn_id = desk.serving["turn_id"]
        wait_until(lambda: hub.ledger.turns[turn_id].rating == 5, timeout=15, what="the rating at the hub")
        wait_until(lambda: len(desk.link.outbox) == 0, what="the outbox to empty")
        ratings = [r for r in hub.store.day(hub.today) if r["kind"] == "rating"]
        assert [(r["value"], r["advisor"]) for r in ratings] == [(5, "Ana María Peña")]
