"""The advisor's working day at the desk, through a real hub, desk unit and Mosquitto: a NEXT kept through a hub
outage, a transfer to any service, the rating window and the attention timer on the counter display."""
import dataclasses
from datetime import datetime, timedelta

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.desk.unit import DeskUnit
from appliance.drivers.gpio import press
from hub.service import Hub
from tests.desk.test_desk import desk_unit, issue
from tests.harness.roles import Running, SettableClock, wait_until


@pytest.fixture
def config(broker):
    return site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)


def shows(desk: DeskUnit, upper: str, lower: str | None = None) -> None:
    wait_until(lambda: desk.counter_display.shown[0] == upper and lower in (None, desk.counter_display.shown[1]),
               what=f"the counter display to show {upper!r} / {lower!r} (it shows {desk.counter_display.shown})")


def test_a_next_kept_through_a_three_minute_hub_outage_is_sent_when_the_hub_is_back_and_answered_once(config,
                                                                                                       tmp_path):
    """Three minutes by the site's clocks (the desk's and the hub's, moved on), longer than the 60 s a request
    lives in the broker; and the desk itself restarts in the middle of it."""
    pins, clock = MockFactory(), SettableClock(datetime.now(config.timezone).replace(hour=10, minute=0, second=0,
                                                                                       microsecond=0))
    with Running(Hub(config, tmp_path / "hub", now=clock)) as hub:
        issue(hub, 1, 2)
        wait_until(lambda: len(hub.ledger.waiting()) == 2, what="two waiting turns")
    pressed_at = clock.moment
    with Running(desk_unit(config, 1, tmp_path / "desk", pins, now=clock)) as desk:
        wait_until(lambda: desk.link.connected and not desk.hub_online, what="the desk to see the hub is away")
        press(pins, config.desk_pins.next)
        shows(desk, "Solicitud guardada", "Se enviará al volver")
        wait_until(lambda: desk._lights and desk._lights[0] == "kept", what="the light saying the press is kept")
        request_id = desk.pending.id
        clock.moment += timedelta(minutes=1)
        press(pins, config.desk_pins.next)   # the advisor tries again: still the same request
        assert desk.pending.id == request_id
    clock.moment += timedelta(minutes=1)
    with Running(desk_unit(config, 1, tmp_path / "desk", MockFactory(), now=clock)) as desk:   # the desk's power cut
        assert desk.pending.id == request_id
        shows(desk, "Solicitud guardada")
        clock.moment += timedelta(minutes=1)
        with Running(Hub(config, tmp_path / "hub", now=clock)) as hub:
            wait_until(lambda: desk.serving, what="the answer once the hub is back")
            assert desk.serving["number"] == "R-001" and desk.pending is None
            shows(desk, "Módulo 1", "Turno R-001")
            (asked,) = [r for r in hub.store.day(hub.today) if r["kind"] == "request"]
            assert asked["id"] == request_id and asked["device_at"] == pressed_at.isoformat(timespec="milliseconds")
            (call,) = [r for r in hub.store.day(hub.today) if r["kind"] == "call"]
            assert datetime.fromisoformat(call["at"]) - pressed_at == timedelta(minutes=3)
            assert [t.number for t in hub.ledger.waiting()] == ["R-002"]
    assert not (tmp_path / "desk" / "pending.json").exists()


def test_recall_cancels_a_request_the_hub_has_not_answered(config, tmp_path):
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub:
        issue(hub, 1)
        wait_until(lambda: hub.ledger.waiting(), what="a waiting turn")
    with Running(desk_unit(config, 1, tmp_path / "desk", pins)) as desk:
        wait_until(lambda: desk.link.connected and not desk.hub_online, what="the desk to see the hub is away")
        press(pins, config.desk_pins.next)
        shows(desk, "Solicitud guardada")
        press(pins, config.desk_pins.recall)
        shows(desk, "Solicitud cancelada", "Pulse de nuevo")
        assert desk.pending is None and not (tmp_path / "desk" / "pending.json").exists()
        with Running(Hub(config, tmp_path / "hub")) as hub:
            wait_until(lambda: desk.hub_online and not desk.offline, what="the hub back")
            shows(desk, "Módulo 1", "Cerrado")   # the NEXT cancelled did not open it
            assert [t.number for t in hub.ledger.waiting()] == ["R-001"] and desk.serving is None


def test_transfer_cycles_through_every_service_and_next_sends_the_citizen_to_the_one_shown(config, tmp_path):
    # Sent to the back of their new queues, so that desk 1, which attends S and F too, calls the R turns first.
    config = dataclasses.replace(config, desk_settings=dataclasses.replace(config.desk_settings, transfer_front=False))
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub, Running(desk_unit(config, 1, tmp_path / "desk", pins)) as desk:
        offered = ["V", "S", "E", "F", "C"]   # desk 1's usual transfer first, then the site's order, never its own
        issue(hub, *range(1, 6))
        for n, target in enumerate(offered, start=1):
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving and desk.serving["number"] == f"R-{n:03d}", what=f"R-{n:03d} called")
            for position in range(1, offered.index(target) + 2):
                press(pins, config.desk_pins.transfer)
                shows(desk, f"Trasladar a {position}/5", config.services[offered[position - 1]].counter_name)
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving is None and desk.pending is None, what=f"R-{n:03d} sent to {target}")
        queues = sorted((t.number, t.service) for t in hub.ledger.waiting())
        assert queues == [(f"R-{n:03d}", target) for n, target in enumerate(offered, start=1)]


def test_a_transfer_the_hub_refuses_says_why_on_the_counter_display(config, tmp_path):
    """A desk whose site file names a service the hub's does not (a site file updated on one Pi only)."""
    pins = MockFactory()
    extra = site_config.Service("Z", "Subsidio escolar")
    desk_config = dataclasses.replace(
        config, services={**config.services, "Z": extra},
        desks={**config.desks, 3: dataclasses.replace(config.desks[3], services=(*config.desks[3].services, "Z"))})
    with Running(Hub(config, tmp_path / "hub")) as hub, \
            Running(desk_unit(desk_config, 1, tmp_path / "desk", pins)) as desk:
        issue(hub, 1)
        press(pins, config.desk_pins.next)
        wait_until(lambda: desk.serving, what="R-001 called")
        for _ in range(6):   # V S E F C, then Z
            press(pins, config.desk_pins.transfer)
        shows(desk, "Trasladar a 6/6", "Subsidio escolar")
        press(pins, config.desk_pins.next)
        shows(desk, "No se pudo", "Servicio desconocido")
        assert desk.serving["number"] == "R-001" and desk.pending is None
        press(pins, config.desk_pins.no_show)   # while choosing, any other button gives the transfer up
        wait_until(lambda: desk.serving is None, what="the no-show")
        assert not hub.ledger.waiting()


def test_the_citizen_who_leaves_rates_their_own_attention_and_the_next_one_only_after_the_minimum(config, tmp_path):
    config = dataclasses.replace(config, rating_grace_s=60.0, rating_min_attention_s=30.0)
    pins, clock = MockFactory(), SettableClock(1000.0)
    lit = lambda: all(pins.pin(p).state for p in config.desk_pins.rating_leds)   # noqa: E731
    with Running(Hub(config, tmp_path / "hub")) as hub, \
            Running(desk_unit(config, 1, tmp_path / "desk", pins, monotonic=clock)) as desk:
        issue(hub, 1, 2)
        press(pins, config.desk_pins.next)
        wait_until(lambda: desk.serving and desk.pending is None, what="R-001 called")
        first = desk.serving["turn_id"]
        assert not lit()   # its attention has just started
        clock.moment += 31
        wait_until(lit, what="the pad inviting a rating after 30 s of attention")
        press(pins, config.desk_pins.next)
        wait_until(lambda: desk.serving["turn_id"] != first and desk.pending is None, what="R-002 called")
        press(pins, config.desk_pins.rating[4])   # the citizen who leaves: 5
        press(pins, config.desk_pins.rating[0])   # and again, 1: it is not R-002's rating
        clock.moment += 45   # past the minimum of R-002's attention, still within the grace of R-001
        press(pins, config.desk_pins.rating[1])
        wait_until(lambda: hub.ledger.turns[first].rating == 5, what="R-001's rating")
        second = desk.serving["turn_id"]
        clock.moment += 20
        press(pins, config.desk_pins.rating[3])   # R-002's own citizen, once the grace has passed: 4
        wait_until(lambda: hub.ledger.turns[second].rating == 4, what="R-002's rating")
        assert [r["value"] for r in hub.store.day(hub.today) if r["kind"] == "rating"] == [5, 4]


def test_the_counter_display_counts_the_minutes_and_warns_before_the_limit(config, tmp_path):
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub:
        clock = SettableClock(hub.now())
        with Running(desk_unit(config, 1, tmp_path / "desk", pins, now=clock)) as desk:
            issue(hub, 1)
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving and desk.pending is None, what="R-001 called")
            called = datetime.fromisoformat(hub.ledger.turns[desk.serving["turn_id"]].called_at)
            for elapsed, upper, lower in ((timedelta(seconds=30), "Módulo 1", "Turno R-001"),
                                          (timedelta(minutes=5), "Módulo 1", "Turno R-001 · 5 min"),
                                          (timedelta(minutes=12), "Quedan 3 minutos", "Turno R-001 · 12 min"),
                                          (timedelta(minutes=14, seconds=1), "Queda 1 minuto", "Turno R-001 · 14 min"),
                                          (timedelta(minutes=15), "Tiempo cumplido", "Turno R-001 · 15 min"),
                                          (timedelta(minutes=23), "Tiempo cumplido", "Turno R-001 · 23 min")):
                clock.moment = called + elapsed
                shows(desk, upper, lower)


def test_pause_takes_the_desk_out_of_the_queue_and_the_estimate_and_next_brings_it_back(config, tmp_path):
    pins, hold = MockFactory(), config.desk_settings.recall_hold_s
    with Running(Hub(config, tmp_path / "hub")) as hub, Running(desk_unit(config, 1, tmp_path / "desk", pins)) as desk:
        shows(desk, "Módulo 1", "Cerrado")   # nobody has opened it today
        issue(hub, *range(1, 7))
        for n in range(1, 5):   # three attentions measured at desk 1, the only desk open
            press(pins, config.desk_pins.next)
            wait_until(lambda: desk.serving and desk.serving["number"] == f"R-{n:03d}", what=f"R-{n:03d} called")
        wait_until(lambda: hub.board().waiting[0].minutes_per_turn is not None, what="the pace of Registro")
        press(pins, config.desk_pins.pause)
        shows(desk, "Módulo 1", "En pausa")
        wait_until(lambda: desk._lights[0] == "paused", what="the light of a paused desk")
        assert sorted(t.number for t in hub.ledger.waiting()) == ["R-005", "R-006"]   # nobody called to it
        assert hub.ledger.turns[f"{hub.today}/kiosco-1/R004"].outcome == "attended"
        assert hub.board().waiting[0].minutes_per_turn is None   # no open desk attends Registro now
        assert {d.desk: d.status for d in hub.board().desks}[1] == "paused"
        pause_pin = pins.pin(config.desk_pins.pause)
        pause_pin.drive_low()
        wait_until(lambda: hub.ledger.desk_status(1) == "closed", timeout=hold + 30, what="the desk closed")
        pause_pin.drive_high()
        shows(desk, "Módulo 1", "Cerrado")
        wait_until(lambda: pins.pin(config.desk_pins.status_led).state == 0, what="the status light off")
        press(pins, config.desk_pins.next)
        wait_until(lambda: desk.serving and desk.serving["number"] == "R-005", what="the desk open again")
        assert hub.ledger.desk_status(1) == "open" and hub.board().waiting[0].minutes_per_turn is not None


def test_an_advisor_signs_in_with_a_code_on_the_pad_of_a_closed_desk_and_its_calls_carry_the_name(config, tmp_path):
    pins = MockFactory()
    with Running(Hub(config, tmp_path / "hub")) as hub, \
            Running(desk_unit(config, 1, tmp_path / "desk", pins)) as desk:
        issue(hub, 1)
        wait_until(lambda: not desk.offline and desk.status == "closed", what="desk 1 closed, nobody opened it")
        for digit in (5, 2, 1):
            press(pins, config.desk_pins.rating[digit - 1])
        shows(desk, "Código de asesor", "***")
        press(pins, config.desk_pins.rating[2])               # 5213: Carlos Andrés Núñez's, in the site file
        shows(desk, "Sesión iniciada", "Carlos Andrés Núñez")
        assert hub.ledger.signed_in[1] == "Carlos Andrés Núñez"
        press(pins, config.desk_pins.next)                    # NEXT opens the desk and calls R-001
        wait_until(lambda: desk.serving, what="R-001 called")
        (call,) = [r for r in hub.store.day(hub.today) if r["kind"] == "call"]
        assert call["advisor"] == "Carlos Andrés Núñez"
