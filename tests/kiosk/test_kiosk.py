"""The kiosk: one ticket per real press, nothing outside opening hours, printer faults, and a number never
repeated even when the kiosk is killed at any step of issuing."""
import dataclasses
import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.contract import PREFERENTIAL_CATEGORIES
from appliance.dev.always_open import AlwaysOpen
from appliance.drivers.printer import PrinterError, SimulatedPrinter
from appliance.kiosk.ticket import Slip, Ticket, TicketLayout, limit_slip, print_ticket, ticket_lines
from appliance.kiosk.unit import KioskUnit
from tests.harness.escpos_text import code_pages_used, printed_lines, printed_text
from tests.harness.roles import SettableClock

CONFIG = site_config.load(site_config.EXAMPLE)
TUESDAY_MORNING = datetime(2026, 11, 24, 9, 30, tzinfo=CONFIG.timezone)
CRASH_CHILD = Path(__file__).parents[1] / "harness" / "kiosk_crash_child.py"


def make_kiosk(tmp_path, *, moment=TUESDAY_MORNING, opening=None, printer=None, clock=None):
    pins = MockFactory()
    unit = KioskUnit(CONFIG, "kiosco-1", tmp_path / "kiosk", pin_factory=pins, printer=printer or SimulatedPrinter(),
                     now=lambda: moment, monotonic=clock or SettableClock(1000.0), opening=opening)
    return unit, pins


def drain(unit) -> None:
    while not unit.inbox.empty():
        unit.step(timeout=0)


def outbox_facts(unit) -> list[dict]:
    return [json.loads(item.payload) for item in unit.link.outbox.pending()]


def test_a_bouncing_burst_gives_exactly_one_ticket_per_real_press(tmp_path):
    clock = SettableClock(1000.0)
    unit, pins = make_kiosk(tmp_path, clock=clock)
    pin = pins.pin(CONFIG.kiosks["kiosco-1"].buttons[0].pin)
    for press in range(3):                       # three real presses, 400 ms apart
        for edge in range(5):                    # each bouncing for a few milliseconds
            clock.moment += 0.002
            pin.drive_low() if edge % 2 == 0 else pin.drive_high()
        clock.moment += 0.2
        pin.drive_high()
        clock.moment += 0.2
    drain(unit)
    assert [t.number for t in unit.issued] == ["R-001", "R-002", "R-003"]


def test_a_held_button_gives_one_ticket(tmp_path):
    clock = SettableClock(1000.0)
    unit, pins = make_kiosk(tmp_path, clock=clock)
    pin = pins.pin(CONFIG.kiosks["kiosco-1"].buttons[0].pin)
    pin.drive_low()
    clock.moment += 5
    drain(unit)
    pin.drive_high()
    drain(unit)
    assert len(unit.issued) == 1


@pytest.mark.parametrize("moment, why", [
    (datetime(2026, 11, 28, 9, 30), "a Saturday"),
    (datetime(2026, 7, 20, 9, 30), "Día de la Independencia, a Monday"),
    (datetime(2026, 11, 24, 12, 30), "lunch time"),
    (datetime(2026, 11, 24, 18, 0), "after closing"),
])
def test_outside_opening_hours_no_turn_is_issued_only_the_hours_slip(tmp_path, moment, why):
    printer = SimulatedPrinter()
    unit, _ = make_kiosk(tmp_path, moment=moment.replace(tzinfo=CONFIG.timezone), printer=printer)
    assert unit.issue(CONFIG.kiosks["kiosco-1"].buttons[0]) is None, why
    assert unit.issued == [] and unit.link.outbox.pending() == []
    slip = printed_text(printer.output).replace("\n", " ")
    assert "no estamos atendiendo" in slip and "lunes a viernes de 8:00 a 12:00 y de 14:00 a 16:00" in slip
    assert "El último turno del día se entrega a las 15:45." in slip
    assert unit.numbering.pending is None and not (tmp_path / "kiosk" / "counter.json").exists()


def test_without_paper_no_number_is_given_and_the_printer_state_is_published(tmp_path):
    printer = SimulatedPrinter()
    printer.paper = "out"
    unit, _ = make_kiosk(tmp_path, printer=printer)
    assert unit.issue(CONFIG.kiosks["kiosco-1"].buttons[0]) is None
    assert unit.printer_state == "out" and unit.link.outbox.pending() == []
    printer.paper = "ok"
    assert unit.issue(CONFIG.kiosks["kiosco-1"].buttons[0]).number == "R-001"


class JammingPrinter(SimulatedPrinter):
    """Reports paper, then fails in the middle of a ticket (a jam, the cover opened)."""

    jam: str | None = None

    def _raw(self, data: bytes) -> None:
        if self.jam:
            reason, self.jam = self.jam, None
            raise PrinterError(reason)
        super()._raw(data)


def test_a_ticket_that_could_not_be_printed_is_recorded_void_with_its_reason(tmp_path):
    printer = JammingPrinter()
    unit, _ = make_kiosk(tmp_path, printer=printer)
    printer.jam = "cover open"
    assert unit.issue(CONFIG.kiosks["kiosco-1"].buttons[0]) is None
    assert unit.issue(CONFIG.kiosks["kiosco-1"].buttons[0]).number == "R-002"
    facts = outbox_facts(unit)
    assert [(f["type"], f["number"]) for f in facts] == [("ticket_void", "R-001"), ("ticket_issued", "R-002")]
    assert "cover open" in facts[0]["reason"]


def test_the_ticket_says_how_many_are_ahead_only_with_fresh_figures_from_the_hub(tmp_path):
    unit, _ = make_kiosk(tmp_path)
    assert unit.queue_figures("R", False) == (None, None, False)  # no hub yet: left out of the ticket


@pytest.mark.parametrize("step", ["after_take", "while_printing", "after_print", "after_outbox"])
def test_a_kiosk_killed_at_any_step_of_issuing_never_repeats_a_number(tmp_path, step):
    state = tmp_path / "kiosk"
    for _ in range(2):  # a first ticket completes, then the second is interrupted
        child = subprocess.run([sys.executable, str(CRASH_CHILD), str(state),
                                "none" if _ == 0 else step, TUESDAY_MORNING.isoformat()],
                               capture_output=True, text=True, timeout=60)
    assert child.returncode == -9, child.stderr
    unit, _ = make_kiosk(tmp_path, opening=AlwaysOpen())
    unit._settle_pending()
    unit.issue(CONFIG.kiosks["kiosco-1"].buttons[0])
    numbers = [f["number"] for f in outbox_facts(unit)]
    assert numbers[0] == "R-001" and numbers[-1] == "R-003"
    assert len(numbers) == len(set(numbers))  # each number recorded once
    assert "R-002" in numbers  # the interrupted number is recorded (issued: a citizen may hold it), never lost


def test_a_clock_set_back_a_day_continues_the_series_instead_of_repeating_numbers(tmp_path):
    # A Pi without a clock battery can boot with yesterday's time and be corrected later the same morning.
    unit, _ = make_kiosk(tmp_path, moment=TUESDAY_MORNING)
    button = CONFIG.kiosks["kiosco-1"].buttons[0]
    unit.issue(button)
    unit.now = lambda: TUESDAY_MORNING.replace(day=23)
    assert unit.issue(button).number == "R-002"
    unit.now = lambda: TUESDAY_MORNING
    assert unit.issue(button).number == "R-003"
    facts = outbox_facts(unit)
    assert [f["turn_id"] for f in facts] == [f"2026-11-24/kiosco-1/R00{n}" for n in (1, 2, 3)]


# --- the ticket's bytes ------------------------------------------------------------------------------

SPANISH = Ticket(entity="Alcaldía de Tenjo", number="E-012", service_name="Educación", preferential=True,
                 issued_at=TUESDAY_MORNING, people_ahead=0, estimated_wait_min=None,
                 notice="¿Dudas? ¡Pregunte! Señora, señor: sus datos se tratan según la Ley 1581. Pingüino.",
                 hours="Horario: lunes a viernes de 8:00 a 12:00.", footer="Gracias por su visita. ¿Cómo lo atendimos?")


@pytest.mark.parametrize("paper_mm", [58, 80])
@pytest.mark.parametrize("encoding, page", [("CP858", 19), ("CP850", 2)])
def test_spanish_text_decodes_from_the_printed_bytes_in_the_one_code_page_of_the_site(paper_mm, encoding, page):
    printer = SimulatedPrinter()
    print_ticket(printer, SPANISH, TicketLayout(paper_mm, encoding))
    text = printed_text(printer.output)
    for expected in ("Alcaldía de Tenjo", "E-012", "Educación", "Atención preferencial", "¿Dudas? ¡Pregunte!",
                     "Señora", "Pingüino", "No hay personas antes que usted."):
        assert expected in text.replace("\n", " "), expected
    assert "Tiempo estimado" not in text  # unknown: left out, never a guess
    assert printer.output.endswith(b"\x1bd\x06\x1dV\x00")  # fed past the cutter, then a full cut
    assert printer.output.count(b"\x1bt") == 1 and code_pages_used(printer.output) == {page}


ALPHABET = "ÁÉÍÓÚÜÑ áéíóúüñ ¿¡"


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_golden_every_spanish_letter_decodes_in_one_code_page_never_switched_mid_ticket(paper_mm):
    # python-escpos alone would switch to CP857 (ESC t 13) for "Ó", which clone printers print as garbage.
    ticket = dataclasses.replace(SPANISH, entity="COMPENSACIÓN", service_name="Ñandú",
                                 footer=f"{ALPHABET} ¿Cómo lo atendimos?")
    printer = SimulatedPrinter()
    print_ticket(printer, ticket, TicketLayout(paper_mm))
    lines = [text for text, _width in printed_lines(printer.output)]
    assert "COMPENSACIÓN" in lines and "Ñandú" in lines
    assert ALPHABET in " ".join(lines)
    assert code_pages_used(printer.output) == {19}           # CP858, the default, for every character


def every_kind() -> dict[str, object]:
    """One of each thing a kiosk prints, with the longest texts the example site has."""
    longest = max((s.name for s in CONFIG.services.values()), key=len)
    category = max(PREFERENTIAL_CATEGORIES.values(), key=len)
    hours = CONFIG.hours.line()
    figures = dataclasses.replace(SPANISH, entity=CONFIG.name, service_name=longest, preferential=False,
                                  issued_at=TUESDAY_MORNING.replace(month=9, day=30), people_ahead=12,
                                  estimated_wait_min=125, notice=CONFIG.notice, hours=hours,
                                  footer=CONFIG.ticket_footer)
    return {
        "ticket": figures,
        "one ahead": dataclasses.replace(figures, people_ahead=1, estimated_wait_min=1),
        "preferential": dataclasses.replace(figures, preferential=True, category=category),
        "slip": Slip(entity=CONFIG.name, reason="Hoy es festivo, Día de la Independencia: no estamos atendiendo.",
                     reopening="Volvemos a atender el miércoles 30 de septiembre de 2026 a las 8:00.", hours=hours,
                     last_ticket="15:45", issued_at=TUESDAY_MORNING),
        "estimate of other days": dataclasses.replace(figures, estimate_from_history=True),
        "button limit": limit_slip(CONFIG.name, longest, 42, TUESDAY_MORNING),
        "kiosk limit": limit_slip(CONFIG.name, None, 125, TUESDAY_MORNING),
    }


@pytest.mark.parametrize("paper_mm, columns", [(58, 32), (80, 48)])
def test_every_line_of_every_kind_fits_the_paper_and_keeps_each_number_with_its_word(paper_mm, columns):
    for kind, printed in every_kind().items():
        lines = printed_lines(_printed(printed, paper_mm))
        for text, magnify in lines:
            assert len(text) * magnify <= columns, (kind, text)
        for (before, _), (after, _) in zip(lines, lines[1:]):
            assert not (re.search(r"\d$", before) and re.match(r"[a-záéíóúñ]", after)), (kind, before, after)
            assert not (re.search(r"[a-záéíóúñ]$", before) and re.match(r"\d", after)), (kind, before, after)
    texts = [text for text, _ in printed_lines(_printed(every_kind()["ticket"], paper_mm))]
    assert any(text.endswith("12 personas antes que usted.") for text in texts)
    assert any(text.endswith("125 minutos") for text in texts)


def _printed(printed, paper_mm: int) -> bytes:
    printer = SimulatedPrinter()
    print_ticket(printer, printed, TicketLayout(paper_mm))
    return printer.output


@pytest.mark.parametrize("ahead, line", [(0, "No hay personas antes que usted."),
                                         (1, "Hay 1 persona antes que usted."),
                                         (3, "Hay 3 personas antes que usted.")])
def test_the_people_ahead_read_naturally_in_singular_and_plural(ahead, line):
    assert line in printed_text(_printed(dataclasses.replace(SPANISH, people_ahead=ahead), 80)).split("\n")


def test_an_unknown_paper_width_is_refused_with_its_value():
    with pytest.raises(ValueError, match="58 or 80 mm, not 76"):
        TicketLayout(76)


def test_an_estimate_from_other_days_pace_says_so_on_the_ticket():
    from_history = dataclasses.replace(SPANISH, estimated_wait_min=12, estimate_from_history=True)
    text = printed_text(_printed(from_history, 58)).replace("\n", " ")
    assert "Tiempo estimado de espera: 12 minutos (calculado con la atención de otros días)" in text
    assert "otros días" not in printed_text(_printed(dataclasses.replace(from_history, estimate_from_history=False),
                                                     58))


@pytest.mark.parametrize("minutes, line", [(1, "Tiempo estimado de espera: 1 minuto"),
                                           (2, "Tiempo estimado de espera: 2 minutos")])
def test_the_estimate_agrees_in_number_and_the_sites_footer_ends_the_ticket(minutes, line):
    lines = [line.text for line in ticket_lines(dataclasses.replace(SPANISH, estimated_wait_min=minutes),
                                                TicketLayout(80))]
    assert line in lines
    assert lines[-1] == "Gracias por su visita. ¿Cómo lo atendimos?"


@pytest.mark.parametrize("encoding", ["CP858", "CP850"])
def test_every_ticket_selects_its_code_page_as_if_it_were_the_first(tmp_path, encoding):
    # A printer goes back to its default code page (CP437) at ESC @; the second ticket must not rely on the first's.
    kiosk, service_name = CONFIG.kiosks["kiosco-1"], "Área Única de Educación"
    config = dataclasses.replace(
        CONFIG, kiosks={kiosk.id: dataclasses.replace(kiosk, printer={**kiosk.printer, "encoding": encoding})},
        services={**CONFIG.services, "E": dataclasses.replace(CONFIG.services["E"], name=service_name)})
    printer = SimulatedPrinter()
    unit = KioskUnit(config, kiosk.id, tmp_path, pin_factory=MockFactory(), printer=printer,
                     now=lambda: TUESDAY_MORNING, monotonic=SettableClock(1000.0))
    button = kiosk.buttons[3]                                          # Educación
    unit.issue(button)
    second = len(printer.output)
    unit.issue(button)
    first, ticket = printer.output[:second], printer.output[second:]
    assert ticket == first.replace(b"E-001", b"E-002")                 # the same bytes as the first, but its number
    text = printed_text(ticket)                                        # read as a printer that has just reset
    assert "E-002" in text and service_name in text
    assert "califique la atención recibida." in text.replace("\n", " ")   # the site's footer
