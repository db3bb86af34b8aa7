"""When a press gives no ticket, or half of one: the slip that says why (a holiday by its name, the site's own
closed days, the day's last ticket), one slip per citizen, the per-button and per-kiosk limits, and a ticket cut short after or
before its number. Real python-escpos on the simulated printer, bytes read back as the paper shows them."""
import json
from datetime import datetime

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.drivers.printer import PrinterError, SimulatedPrinter
from appliance.kiosk.unit import SIGNAL_S, SLIP_HOLD_S, KioskUnit
from tests.harness.escpos_text import printed_text
from tests.harness.faults.paper import Roll
from tests.harness.roles import SettableClock

CONFIG = site_config.load(site_config.EXAMPLE)
REGISTRO = CONFIG.kiosks["kiosco-1"].buttons[0]


def kiosk_at(tmp_path, moment: datetime, printer=None):
    clock = SettableClock(1000.0)
    unit = KioskUnit(CONFIG, "kiosco-1", tmp_path / "kiosk", pin_factory=MockFactory(),
                     printer=printer or SimulatedPrinter(), now=lambda: moment.replace(tzinfo=CONFIG.timezone),
                     monotonic=clock)
    return unit, clock


def paper(printer) -> str:
    return printed_text(printer.output).replace("\n", " ")


@pytest.mark.parametrize("moment, reason, reopening", [
    (datetime(2026, 12, 8, 9, 30), "Hoy es festivo, La Inmaculada Concepción: no estamos atendiendo.",
     "el miércoles 9 de diciembre de 2026 a las 8:00"),
    (datetime(2026, 3, 23, 9, 30), "Hoy es festivo, Día de San José: no estamos atendiendo.",   # moved to Monday
     "el martes 24 de marzo de 2026 a las 8:00"),
    (datetime(2026, 12, 24, 9, 30), "Hoy no estamos atendiendo: Nochebuena.",       # the site's own, every year
     "el lunes 28 de diciembre de 2026 a las 8:00"),                                 # Christmas, then a weekend
    (datetime(2027, 12, 24, 9, 30), "Hoy no estamos atendiendo: Nochebuena.", "el lunes 27 de diciembre de 2027"),
    (datetime(2026, 12, 7, 9, 30), "Hoy no estamos atendiendo: jornada de capacitación.",   # that day only
     "el miércoles 9 de diciembre de 2026"),
    (datetime(2026, 11, 24, 15, 50), "Por hoy ya no se entregan más turnos.",        # past the last ticket, 15:45
     "el miércoles 25 de noviembre de 2026 a las 8:00"),
    (datetime(2026, 11, 24, 12, 30), "En este momento no estamos atendiendo.", "hoy a las 14:00"),
])
def test_the_slip_says_why_no_ticket_is_given_and_when_the_site_opens_again(tmp_path, moment, reason, reopening):
    printer = SimulatedPrinter()
    unit, _ = kiosk_at(tmp_path, moment, printer)
    assert unit.issue(REGISTRO) is None
    unit.step(timeout=0)
    slip = paper(printer)
    assert reason in slip, slip
    assert f"Volvemos a atender {reopening}" in slip, slip
    assert "Horario: lunes a viernes de 8:00 a 12:00 y de 14:00 a 16:00." in slip
    assert "El último turno del día se entrega a las 15:45." in slip
    assert unit.link.outbox.pending() == [] and unit.light == "closed"


def test_until_the_last_ticket_the_kiosk_issues(tmp_path):
    unit, _ = kiosk_at(tmp_path, datetime(2026, 11, 24, 15, 45))
    assert unit.issue(REGISTRO).number == "R-001"


def test_a_closed_day_given_with_its_year_closes_that_year_only(tmp_path):
    unit, _ = kiosk_at(tmp_path, datetime(2027, 12, 7, 9, 30))                   # a Tuesday
    assert unit.issue(REGISTRO).number == "R-001"


def test_a_citizen_pressing_again_and_again_outside_hours_gets_one_slip(tmp_path):
    printer = SimulatedPrinter()
    unit, clock = kiosk_at(tmp_path, datetime(2026, 11, 28, 10, 0), printer)   # a Saturday
    for _ in range(5):
        unit.issue(REGISTRO)
        clock.moment += 1
    assert paper(printer).count("no estamos atendiendo") == 1
    clock.moment += SLIP_HOLD_S
    unit.issue(REGISTRO)                          # the next citizen, a while later
    assert paper(printer).count("no estamos atendiendo") == 2


def test_a_button_gives_its_limit_of_tickets_then_the_light_says_why(tmp_path):
    unit, clock = kiosk_at(tmp_path, datetime(2026, 11, 24, 9, 30))
    numbers = []
    for _ in range(CONFIG.press_limit + 2):
        ticket = unit.issue(REGISTRO)
        numbers.append(ticket and ticket.number)
        clock.moment += 2
    unit.step(timeout=0)
    assert numbers == [f"R-{n:03d}" for n in range(1, CONFIG.press_limit + 1)] + [None, None]
    assert unit.light == "limit"
    assert unit.issue(CONFIG.kiosks["kiosco-1"].buttons[1]).number == "S-001"   # another button is not limited
    clock.moment += SIGNAL_S
    unit.step(timeout=0)
    assert unit.light == "ready"
    clock.moment += CONFIG.press_window_s
    assert unit.issue(REGISTRO).number == f"R-{CONFIG.press_limit + 1:03d}"


def test_the_whole_kiosk_gives_its_limit_however_many_buttons_are_pressed_and_a_slip_says_when(tmp_path):
    printer = SimulatedPrinter()
    unit, clock = kiosk_at(tmp_path, datetime(2026, 11, 24, 9, 30), printer)
    buttons = CONFIG.kiosks["kiosco-1"].buttons
    given = []
    for press in range(CONFIG.kiosk_limit + 3):                 # one person going along the buttons, 1 s apart
        given.append(unit.issue(buttons[press % len(buttons)]))
        clock.moment += 1
    unit.step(timeout=0)
    assert sum(ticket is not None for ticket in given) == CONFIG.kiosk_limit
    assert given[CONFIG.kiosk_limit:] == [None, None, None] and unit.light == "limit"
    slip = paper(printer).split("En este momento")[1:]
    assert slip == [" este dispensador no entrega más turnos. Podrá tomar su turno en 40 segundos. Si necesita "
                    "ayuda, acérquese a un asesor. martes 24 de noviembre de 2026 · 9:30 "]   # one slip for the three
    clock.moment += CONFIG.press_window_s
    assert unit.issue(buttons[0]) is not None                     # a minute later the kiosk gives again


def test_a_button_at_its_limit_prints_a_slip_naming_its_service(tmp_path):
    printer = SimulatedPrinter()
    unit, clock = kiosk_at(tmp_path, datetime(2026, 11, 24, 9, 30), printer)
    for _ in range(CONFIG.press_limit + 1):
        unit.issue(REGISTRO)
        clock.moment += 2
    assert "En este momento el botón de Registro y Aportes no entrega más turnos. Podrá tomar su turno en 40 " \
           "segundos." in paper(printer)


def roll_ending(where: bytes, tmp_path) -> Roll:
    """A printer whose roll ends just after `where` in the first ticket (as a whole ticket's bytes show it)."""
    whole = SimulatedPrinter()
    unit, _ = kiosk_at(tmp_path / "whole", datetime(2026, 11, 24, 9, 30), whole)
    unit.issue(REGISTRO)
    roll = Roll()
    roll.end_after(whole.output.index(where) + len(where))
    return roll


def test_a_ticket_cut_short_after_its_number_is_a_valid_turn(tmp_path):
    printer = roll_ending(b"R-001\n", tmp_path)   # the service and everything under it are missing
    unit, _ = kiosk_at(tmp_path, datetime(2026, 11, 24, 9, 30), printer)
    ticket = unit.issue(REGISTRO)
    assert ticket.number == "R-001" and "R-001" in paper(printer)
    assert [json.loads(item.payload)["type"] for item in unit.link.outbox.pending()] == ["ticket_issued"]
    assert unit.printer_state == "out"


def test_a_ticket_cut_short_before_its_number_is_void_and_the_citizen_is_asked_to_take_another(tmp_path):
    printer = roll_ending(b"Su turno\n", tmp_path)   # the number is missing
    unit, clock = kiosk_at(tmp_path, datetime(2026, 11, 24, 9, 30), printer)
    sent = []
    unit.link.publish = lambda topic, payload, **_: sent.append(json.loads(payload))
    assert unit.issue(REGISTRO) is None and "R-001" not in paper(printer)
    facts = [json.loads(item.payload) for item in unit.link.outbox.pending()]
    assert [(f["type"], f["number"]) for f in facts] == [("ticket_void", "R-001")]
    printer.refill()                       # someone put a roll in
    clock.moment += 30
    unit.step(timeout=0)
    assert unit.printer_state == "ok"
    void_at = "2026-11-24T09:30:00.000-05:00"      # from now on the screen asks the citizen to take another
    assert [(s["state"], s.get("void_at")) for s in sent if s["type"] == "printer_status"] == [
        ("ok", None), ("out", void_at), ("ok", void_at)]
    assert unit.issue(REGISTRO).number == "R-002"


def test_a_printer_that_fails_before_the_number_leaves_the_light_saying_so(tmp_path):
    class Jams(SimulatedPrinter):
        def textln(self, txt: str = "") -> None:
            raise PrinterError("cover open")

    unit, clock = kiosk_at(tmp_path, datetime(2026, 11, 24, 9, 30), Jams())
    assert unit.issue(REGISTRO) is None
    unit.step(timeout=0)
    assert unit.light == "void"
    clock.moment += SIGNAL_S
    unit.step(timeout=0)
    assert unit.light == "ready"
