"""What citizens read, through a real kiosk, hub, display and Mosquitto: the queue's figures on a ticket whenever
the hub is reachable (quiet spells included, left out only when the hub's word is really old); the preferential
category from the button to the ticket, the CSV and the report; a dispenser's trouble on the waiting-room screen."""
import csv
import io
from datetime import date

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.dev.always_open import AlwaysOpen
from appliance.display.unit import DisplayUnit
from appliance.drivers.printer import SimulatedPrinter
from appliance.kiosk.unit import BOARD_FRESH_S, KioskUnit, TicketPress
from appliance.records.turns_csv import csv_chunks
from hub.export import rows
from hub.report.figures import build
from hub.report.render import render_body
from hub.service import BOARD_REFRESH_S, Hub
from tests.harness.escpos_text import printed_text
from tests.harness.faults.paper import Roll
from tests.harness.roles import Running, SettableClock, wait_until


@pytest.fixture
def site(broker, tmp_path):
    config = site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)
    kiosk_clock, hub_clock = SettableClock(1000.0), SettableClock(1000.0)
    kiosk = KioskUnit(config, "kiosco-1", tmp_path / "kiosk", pin_factory=MockFactory(), printer=SimulatedPrinter(),
                      opening=AlwaysOpen(), monotonic=kiosk_clock)
    hub = Hub(config, tmp_path / "hub", monotonic=hub_clock)
    return config, kiosk, kiosk_clock, hub, hub_clock


def live_board(kiosk, hub, hub_clock, *, step: bool = False) -> None:
    """Waits until the kiosk holds a board the hub published while it listened. A retained copy found at connect
    does not count (it could be a stuck hub's), so once both are connected the hub's steady copy is made due."""
    def after_a_step(condition):
        def check():
            if step:              # a hub whose loop the test runs by hand
                hub.step(0.05)
            return condition()
        return check

    wait_until(after_a_step(lambda: kiosk.link.connected and hub.link.connected), what="both on the broker")
    hub_clock.moment += BOARD_REFRESH_S
    wait_until(after_a_step(lambda: kiosk.queue_figures("R", False)[0] == 0),
               what="the kiosk to have the hub's board, live")


def take(kiosk, config, count: int = 1, button: int = 0):
    """Presses a button (Registro y Aportes unless told), as a citizen does, and waits for the ticket."""
    before = len(kiosk.issued)
    for _ in range(count):
        kiosk.inbox.put(TicketPress(config.kiosks["kiosco-1"].buttons[button]))
    wait_until(lambda: len(kiosk.issued) == before + count, what="the tickets")
    return kiosk.issued[-1]


def test_after_a_quiet_spell_the_next_ticket_still_says_who_is_ahead(site):
    config, kiosk, kiosk_clock, hub, hub_clock = site
    with Running(hub), Running(kiosk):
        live_board(kiosk, hub, hub_clock)
        take(kiosk, config, 2)
        wait_until(lambda: kiosk.queue_figures("R", False)[0] == 2, what="the board with two waiting")
        # Ten quiet minutes: nobody takes a turn, nobody is called. The hub says the same again every half minute.
        for _ in range(20):
            kiosk_clock.moment += BOARD_REFRESH_S
            hub_clock.moment += BOARD_REFRESH_S
            wait_until(lambda: kiosk.queue_figures("R", False)[0] == 2, what="the board published again")
        third = take(kiosk, config)
    assert third.number == "R-003" and third.people_ahead == 2


def test_a_kiosk_just_restarted_gives_its_first_ticket_the_figures_of_the_hubs_retained_board(site, tmp_path):
    config, kiosk, _, hub, hub_clock = site
    with Running(hub):
        with Running(kiosk):
            live_board(kiosk, hub, hub_clock)
            take(kiosk, config, 2)
            wait_until(lambda: kiosk.queue_figures("R", False)[0] == 2, what="the board with two waiting")
        again = KioskUnit(config, "kiosco-1", tmp_path / "kiosk", pin_factory=MockFactory(),
                          printer=SimulatedPrinter(), opening=AlwaysOpen(), monotonic=SettableClock(5000.0))
        again.inbox.put(TicketPress(config.kiosks["kiosco-1"].buttons[0]))   # a citizen presses as it starts
        with Running(again):
            wait_until(lambda: again.issued, what="the first ticket after the restart")
    assert (again.issued[0].number, again.issued[0].people_ahead) == ("R-003", 2)


def test_a_board_the_hub_has_not_confirmed_for_two_minutes_is_not_printed(site):
    config, kiosk, kiosk_clock, hub, _ = site
    with Running(kiosk):
        hub.start()    # online and connected, but its loop stands still: nothing it published is current any more
        try:
            live_board(kiosk, hub, hub.monotonic, step=True)
            kiosk_clock.moment += BOARD_FRESH_S + 1
            ticket = take(kiosk, config)
        finally:
            hub.stop()
    assert (ticket.people_ahead, ticket.estimated_wait_min) == (None, None)


def test_whom_a_preferential_turn_serves_goes_from_the_button_to_the_ticket_the_csv_and_the_report(site):
    config, kiosk, _, hub, _ = site
    older_adult = next(i for i, b in enumerate(config.kiosks["kiosco-1"].buttons) if b.category == "persona_mayor")
    before = len(kiosk.printer.output)
    with Running(hub), Running(kiosk):
        ticket = take(kiosk, config, button=older_adult)
        take(kiosk, config)                                             # and a normal one
        wait_until(lambda: len(hub.ledger.turns) == 2, what="the hub to record both")
    paper = printed_text(kiosk.printer.output[before:]).replace("\n", " ")
    assert ticket.number == "M-001" and "Atención preferencial Persona mayor" in paper
    day = date.fromisoformat(hub.today)
    names = config.service_names()
    table = list(csv.DictReader(io.StringIO(b"".join(csv_chunks(rows(hub.store, day, day, names))).decode("utf-8-sig")),
                                delimiter=";"))
    assert {(r["number"], r["preferential"], r["preferential_category"]) for r in table} == {
        ("M-001", "sí", "persona_mayor"), ("R-001", "no", "")}
    html = render_body(build(hub.store, day, day, config))
    assert "Atención preferencial por categoría" in html and ">Persona mayor<" in html


def test_a_dispenser_out_of_paper_and_a_ticket_without_number_are_told_to_the_waiting_room(broker, tmp_path):
    config = site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)
    printer, clock = Roll(), SettableClock(1000.0)
    kiosk = KioskUnit(config, "kiosco-1", tmp_path / "kiosk", pin_factory=MockFactory(), printer=printer,
                      opening=AlwaysOpen(), monotonic=clock)
    display = DisplayUnit(config, "pantalla-1", opening=AlwaysOpen())

    def shown():
        display.step(0.01)
        return display.scene().notice

    with Running(kiosk):
        display.start()
        try:
            assert display.link.wait_connected(30)
            printer.paper = "out"
            kiosk.inbox.put(TicketPress(config.kiosks["kiosco-1"].buttons[0]))   # refused: no number is taken
            wait_until(lambda: shown() == "El dispensador de turnos no tiene papel: por favor avise a un asesor.",
                       what="the screen to tell the room")
            printer.refill()
            printer.end_after(12)                  # a short roll: it ends in the first bytes, before the number
            clock.moment += 30                     # the kiosk finds paper at its next look
            wait_until(lambda: shown() is None, what="the notice to go once there is paper")
            kiosk.inbox.put(TicketPress(config.kiosks["kiosco-1"].buttons[0]))
            wait_until(lambda: kiosk.printer_state == "out", what="the roll to end in the ticket")
            printer.refill()                       # a full roll, at once
            clock.moment += 30
            wait_until(lambda: shown() == "Si su tiquete salió sin número, tome otro turno.",
                       what="the screen to ask the citizen for another ticket")
        finally:
            display.stop()
