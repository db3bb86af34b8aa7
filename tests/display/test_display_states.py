"""What the waiting room reads besides the calls: the estimated wait per service, the closed site (a holiday by its
name, the site's own closed days, its hours), a dispenser without paper, a ticket that came out without its number
and the end of the day's tickets. The display role fed the messages it would receive."""
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt

from appliance import contract
from appliance import site as site_config
from appliance.display.unit import VOID_SHOWN_S, DisplayUnit
from appliance.screens.scene import CALL_LINGERS, CLOSED_TITLE
from tests.harness.roles import SettableClock

CONFIG = site_config.load(site_config.EXAMPLE)
TUESDAY = datetime(2026, 11, 24, 9, 30, tzinfo=CONFIG.timezone)


def display_at(moment: datetime):
    clock, monotonic = SettableClock(moment), SettableClock(1000.0)
    return DisplayUnit(CONFIG, "pantalla-1", now=clock, monotonic=monotonic), clock, monotonic


def deliver(unit: DisplayUnit, topic: str, message: contract.Message | bytes) -> None:
    received = mqtt.MQTTMessage(topic=topic.encode())
    received.payload = message if isinstance(message, bytes) else message.to_json()
    unit.inbox.put(received)
    unit.step(0)


def board(waiting=(), calls=()) -> contract.Board:
    return contract.Board(id=contract.new_id(), at=TUESDAY.isoformat(), source="hub", calls=list(calls),
                          waiting=list(waiting))


def waiting(normal: int, pace: int | None = None, service: str = "R") -> contract.Waiting:
    return contract.Waiting(service=service, service_name=CONFIG.services[service].name, normal=normal,
                            preferential=0, minutes_per_turn=pace)


def call(number: str, at: datetime = TUESDAY) -> contract.Call:
    return contract.Call(id=f"c-{number}", at=at.isoformat(), source="hub",
                         turn_id=f"2026-11-24/kiosco-1/{number.replace('-', '')}", number=number, service="R",
                         service_name="Registro y Aportes", preferential=False, desk=1, desk_name="Módulo 1")


def printer(state: str, void_at: datetime | None = None, source: str = "kiosco-1") -> contract.PrinterStatus:
    return contract.PrinterStatus(id=contract.new_id(), at=TUESDAY.isoformat(), source=source, state=state,
                                  detail="usb TM-T20II", void_at=void_at and void_at.isoformat())


def test_each_service_shows_the_wait_a_ticket_taken_now_would_have_once_the_pace_is_known():
    unit, *_ = display_at(TUESDAY)
    deliver(unit, contract.BOARD_TOPIC, board([waiting(4, pace=3), waiting(2, service="S")]))
    registro, salud = unit.scene().waiting
    assert (registro.count, registro.estimate) == (4, "15 min aprox.")    # four ahead, the fifth is served at 15
    assert (salud.count, salud.estimate) == (2, None)                      # no pace yet: no guess on the screen


def test_on_a_holiday_with_nobody_waiting_the_screen_says_the_site_is_closed_and_why_without_older_calls():
    unit, *_ = display_at(datetime(2026, 12, 8, 10, 0, tzinfo=CONFIG.timezone))
    deliver(unit, contract.BOARD_TOPIC, board([waiting(0)], [call("R-004")]))   # the board of an earlier day
    scene = unit.scene()
    assert scene.headline is None and scene.history == ()
    assert scene.idle == (f"{CLOSED_TITLE}\nHoy es festivo, La Inmaculada Concepción: no estamos atendiendo. "
                          "Volvemos a atender el miércoles 9 de diciembre de 2026 a las 8:00.")


def test_outside_hours_with_the_hub_away_the_closed_screen_alone_without_the_restoring_banner():
    unit, *_ = display_at(TUESDAY.replace(hour=18))
    deliver(unit, contract.status_topic("hub"), contract.OFFLINE.encode())
    deliver(unit, contract.BOARD_TOPIC, board([waiting(0)], [call("R-030", TUESDAY.replace(hour=15, minute=58))]))
    scene = unit.scene()
    assert scene.idle.startswith(CLOSED_TITLE) and scene.banner is None
    assert [c.number for c in scene.history] == ["R-030"]      # today's calls stay listed
    unit.now.moment = TUESDAY                                 # open again, the hub still away: the banner comes back
    assert unit.scene().banner is not None


def test_the_sites_own_closed_day_and_the_hours_between_periods_are_said_too():
    unit, clock, _ = display_at(datetime(2026, 12, 24, 10, 0, tzinfo=CONFIG.timezone))
    assert unit.scene().idle == (f"{CLOSED_TITLE}\nHoy no estamos atendiendo: Nochebuena. Volvemos a atender el "
                                 "lunes 28 de diciembre de 2026 a las 8:00.")    # Christmas, then a weekend
    clock.moment = TUESDAY.replace(hour=12, minute=30)                  # lunch
    assert unit.scene().idle == f"{CLOSED_TITLE}\nEn este momento no estamos atendiendo. Volvemos a atender hoy a las 14:00."


def test_after_closing_time_citizens_still_waiting_are_still_called_on_screen():
    unit, clock, _ = display_at(TUESDAY.replace(hour=16, minute=10))
    deliver(unit, contract.BOARD_TOPIC, board([waiting(2)], [call("R-031", TUESDAY.replace(hour=16, minute=9))]))
    assert unit.scene().headline.number == "R-031" and unit.scene().idle is None
    deliver(unit, contract.BOARD_TOPIC, board([waiting(0)], [call("R-033", TUESDAY.replace(hour=16, minute=9))]))
    assert unit.scene().headline.number == "R-033"          # the last citizen called still sees where to go
    clock.moment += CALL_LINGERS
    assert unit.scene().headline is None and unit.scene().idle.startswith(CLOSED_TITLE)


def test_past_the_last_ticket_the_room_is_told_no_more_tickets_are_given_today():
    unit, clock, _ = display_at(TUESDAY.replace(hour=15, minute=44))
    assert unit.scene().notice is None
    clock.moment = TUESDAY.replace(hour=15, minute=50)
    assert unit.scene().notice == "Por hoy ya no se entregan más turnos. Atendemos a quienes ya tienen su turno."


def test_a_dispenser_without_paper_is_told_to_the_room_until_it_prints_again():
    unit, *_ = display_at(TUESDAY)
    topic = contract.printer_topic("kiosco-1")
    deliver(unit, topic, printer("out"))
    assert unit.scene().notice == "El dispensador de turnos no tiene papel: por favor avise a un asesor."
    deliver(unit, topic, printer("offline"))
    assert unit.scene().notice == "El dispensador de turnos no está imprimiendo: por favor avise a un asesor."
    deliver(unit, topic, printer("ok"))
    assert unit.scene().notice is None


def test_a_ticket_without_its_number_asks_the_citizen_to_take_another_for_a_minute():
    unit, _, monotonic = display_at(TUESDAY)
    topic = contract.printer_topic("kiosco-1")
    deliver(unit, topic, printer("ok", void_at=TUESDAY + timedelta(seconds=40)))   # a kiosk's clock a little ahead
    assert unit.scene().notice == "Si su tiquete salió sin número, tome otro turno."
    deliver(unit, topic, printer("ok", void_at=TUESDAY + timedelta(seconds=40)))   # the same state again
    monotonic.moment += VOID_SHOWN_S                                               # a minute of the screen's own
    assert unit.scene().notice is None


def test_a_ticket_without_number_long_ago_found_retained_at_start_is_not_news():
    unit, *_ = display_at(TUESDAY)
    deliver(unit, contract.printer_topic("kiosco-1"), printer("ok", void_at=TUESDAY - timedelta(hours=2)))
    assert unit.scene().notice is None


def test_a_dispenser_that_is_down_is_told_to_the_room():
    unit, *_ = display_at(TUESDAY)
    deliver(unit, contract.status_topic("kiosco-1"), contract.OFFLINE.encode())
    assert unit.scene().notice == "El dispensador de turnos no está funcionando: por favor avise a un asesor."
    deliver(unit, contract.status_topic("kiosco-1"), contract.ONLINE.encode())
    assert unit.scene().notice is None


def test_a_printer_state_on_another_kiosks_topic_is_refused_and_changes_nothing():
    unit, *_ = display_at(TUESDAY)
    deliver(unit, contract.printer_topic("kiosco-1"), printer("out", source="kiosco-2"))
    assert unit.rejected.total() == 1 and unit.scene().notice is None
