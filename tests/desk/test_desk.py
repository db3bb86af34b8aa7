"""The desk unit against a real broker and hub: a repeated NEXT never skips a citizen, and a rating pressed
while the desk is offline is delivered once."""
import dataclasses
import os
import tty
from datetime import datetime, timedelta

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import contract
from appliance import site as site_config
from appliance.core.debounce import Debouncer
from appliance.desk.unit import DeskUnit
from appliance.drivers.counter_display import SerialCounterDisplay
from appliance.drivers.gpio import press
from hub.service import Hub
from tests.harness.roles import STEP_DEADLINE_S, Running, Ticking, wait_until


def desk_unit(config, number, state, pins, **options):
    """A desk whose presses, made by a test faster than any hand, are never taken for contact bounce."""
    return DeskUnit(config, number, state, pin_factory=pins, debounce=Debouncer(clock=Ticking()), **options)


@pytest.fixture
def config(broker):
    """The example site; its citizens may rate as soon as they are called (the rating window has its own test)."""
    site = site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)
    return dataclasses.replace(site, rating_min_attention_s=0.0)


def issue(hub_unit, *numbers: int) -> None:
    """Tickets as a kiosk would publish them, straight onto the broker."""
    assert hub_unit.link.wait_connected(STEP_DEADLINE_S)
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
    with Running(desk_unit(config, 1, tmp_path / "desk", pins)) as desk:
        wait_until(lambda: desk.link.connected, what="the desk to connect")
        press(pins, config.desk_pins.next)
        wait_until(lambda: desk.offline, what="the desk to show it has no answer")
        press(pins, config.desk_pins.next)  # the advisor tries again: the same request goes out
        with Running(Hub(config, tmp_path / "hub")) as hub:
            wait_until(lambda: desk.serving, what="the desk's answer")
            assert desk.serving["number"] == "R-001"
            assert [t.number for t in hub.ledger.waiting()] == ["R-002"]
            assert not desk.offline


def test_a_rating_pressed_while_the_broker_is_down_is_counted_once_after_reconnect(config, broker, tmp_path):
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub, \
            Running(desk_unit(config, 1, tmp_path / "desk", pins)) as desk:
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
        wait_until(lambda: hub.ledger.turns[turn_id].rating == 5, what="the rating at the hub")
        wait_until(lambda: len(desk.link.outbox) == 0, what="the outbox to empty")
        ratings = [r for r in hub.store.day(hub.today) if r["kind"] == "rating"]
        assert [(r["value"], r["advisor"]) for r in ratings] == [(5, "Ana María Peña")]


# --- advisor buttons through the hub -------------------------------------------------------------------

def serve_first(config, tmp_path, pins, hub, *numbers):
    issue(hub, *numbers)
    wait_until(lambda: len(hub.ledger.waiting()) == len(numbers), what="waiting turns")
    desk = desk_unit(config, 1, tmp_path / "desk", pins)
    return desk


def test_recall_no_show_and_transfer_buttons(config, tmp_path):
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub:
        with Running(serve_first(config, tmp_path, pins, hub, 1, 2)) as desk:
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving and desk.serving["number"] == "R-001", what="R-001 called")
            press(pins, config.desk_pins.recall)
            wait_until(lambda: len(hub.ledger.calls) == 2, what="the recall")
            assert hub.ledger.calls[0]["recall"] and hub.ledger.turns[desk.serving["turn_id"]].recalls == 1
            wait_until(lambda: desk.pending is None, what="the recall's answer")
            press(pins, config.desk_pins.no_show)
            wait_until(lambda: desk.serving is None, what="the no-show")
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving and desk.serving["number"] == "R-002", what="R-002 called")
            press(pins, config.desk_pins.transfer)  # desk 1 offers its usual Vivienda first
            wait_until(lambda: desk.counter_display.shown == ("Trasladar a 1/5", "Vivienda"), what="the offer")
            press(pins, config.desk_pins.next)  # sends the citizen there
            wait_until(lambda: desk.serving is None, what="the transfer")
        outcomes = {t.turn_id.split("/")[-1]: (t.service, t.outcome, t.status) for t in hub.ledger.turns.values()}
        assert outcomes == {"R001": ("R", "no_show", "closed"), "R002": ("R", "transferred", "closed"),
                            "R002>V": ("V", "", "waiting")}
        assert [t.number for t in hub.ledger.waiting()] == ["R-002"]  # same number, in the Vivienda queue


def test_holding_next_recalls_when_the_desk_has_no_recall_button(config, tmp_path):
    config = dataclasses.replace(config, desk_pins=dataclasses.replace(config.desk_pins, recall=None),
                                 desk_settings=dataclasses.replace(config.desk_settings, recall_hold_s=0.5))
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub:
        with Running(serve_first(config, tmp_path, pins, hub, 1, 2)) as desk:
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving and desk.pending is None, what="R-001 called")
            next_pin = pins.pin(config.desk_pins.next)
            next_pin.drive_low()
            wait_until(lambda: desk.next_button.is_held, what="NEXT held")
            next_pin.drive_high()
            wait_until(lambda: len(hub.ledger.calls) == 2, what="the recall")
        assert hub.ledger.calls[0]["recall"] and desk.serving["number"] == "R-001"
        assert [t.number for t in hub.ledger.waiting()] == ["R-002"]  # holding did not also call the next


def test_the_desk_light_warns_when_an_attention_passes_the_limit(config, tmp_path):
    clock = [datetime.now(config.timezone)]
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub", now=lambda: clock[0])) as hub:
        with Running(serve_first(config, tmp_path, pins, hub, 1)) as desk:
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving and desk.pending is None, what="R-001 called")
            assert not desk.overdue
            # The call is at the desk's own time (its request's), a moment after the hub's clock was set.
            called = datetime.fromisoformat(hub.ledger.turns[hub.ledger.serving[1]].called_at)
            clock[0] = called + timedelta(minutes=config.desk_settings.attention_limit_min, seconds=1)
            wait_until(lambda: desk.overdue, what="the warning")
            wait_until(lambda: desk._lights and desk._lights[0] == "overdue", what="the overdue light pattern")


# --- the counter display ------------------------------------------------------------------------------

def test_the_cd5220_counter_display_receives_its_lines_over_a_serial_port():
    master, slave = os.openpty()
    tty.setraw(master)
    counter = SerialCounterDisplay(os.ttyname(slave), 9600)
    counter.show("Módulo 3", "Turno P-007")
    expected = (b"\x1b@" + b"\x1bQA" + "      Módulo 3      ".encode("cp437") + b"\r"
                + b"\x1bQB" + "    Turno P-007     ".encode("cp437") + b"\r")
    received = b""
    while len(received) < len(expected):
        received += os.read(master, 1024)
    assert received == expected
    assert "Módulo".encode("cp437") == b"M\xa2dulo"  # ó is 0xA2 in the display's code page
    counter.close()
    os.close(master)
    os.close(slave)


def test_an_unplugged_counter_display_does_not_stop_the_desk(caplog):
    counter = SerialCounterDisplay("/dev/ttyUSB-nothing-here", 9600)
    counter.show("Módulo 1", "Turno R-001")
    counter.show("Módulo 1", "Turno R-002")
    assert caplog.text.count("does not answer") == 1


def test_two_desks_pressing_next_at_the_same_instant_get_different_turns(config, tmp_path):
    pins = {1: MockFactory(), 2: MockFactory()}
    with Running(Hub(config, tmp_path / "hub")) as hub:
        issue(hub, 1, 2)
        wait_until(lambda: len(hub.ledger.waiting()) == 2, what="two waiting turns")
        with Running(desk_unit(config, 1, tmp_path / "d1", pins[1])) as one, \
                Running(desk_unit(config, 2, tmp_path / "d2", pins[2])) as two:
            wait_until(lambda: one.link.connected and two.link.connected, what="both desks online")
            for factory in pins.values():
                factory.pin(config.desk_pins.next).drive_low()
            for factory in pins.values():
                factory.pin(config.desk_pins.next).drive_high()
            wait_until(lambda: one.serving and two.serving, what="both answers")
            assert {one.serving["number"], two.serving["number"]} == {"R-001", "R-002"}


def test_a_bouncing_next_button_calls_one_citizen(config, tmp_path):
    pins, clock = MockFactory(), [100.0]
    with Running(Hub(config, tmp_path / "hub")) as hub:
        issue(hub, 1, 2)
        wait_until(lambda: len(hub.ledger.waiting()) == 2, what="waiting turns")
        desk = DeskUnit(config, 1, tmp_path / "desk", pin_factory=pins, debounce=Debouncer(clock=lambda: clock[0]))
        with Running(desk):
            wait_until(lambda: desk.link.connected, what="the desk online")
            pin = pins.pin(config.desk_pins.next)
            for edge in range(7):  # one press, its contacts bouncing for a few milliseconds
                clock[0] += 0.003
                pin.drive_low() if edge % 2 == 0 else pin.drive_high()
                if edge == 0:
                    wait_until(lambda: desk.serving, what="the call")  # the answer comes before the bounce ends
            pin.drive_high()
            wait_until(lambda: desk.pending is None, what="no request outstanding")
        assert desk.serving["number"] == "R-001"
        assert [t.number for t in hub.ledger.waiting()] == ["R-002"]
