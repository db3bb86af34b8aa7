"""Appointments through the real parts: booked on the Citas page in headless Chromium, the slip printed by a kiosk
on the page's order and its QR code read back from the bytes, checked in by two kiosks' simulated readers at once
(one ticket, one slip saying why), called first at its time by the real hub while a walk-in and a preferential
turn wait, rated, and found in the CSV and the Informe."""
import dataclasses
import queue
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.drivers.gpio import press
from appliance.drivers.printer import SimulatedPrinter
from appliance.drivers.reader import SimulatedReader
from appliance.kiosk.preview import TicketKeeper
from appliance.kiosk.unit import KioskUnit
from hub.export import rows
from hub.report.figures import build
from hub.service import Hub
from tests.harness.escpos_text import printed_qr_codes, printed_text
from tests.harness.page import make_page, page_config
from tests.harness.roles import STEP_DEADLINE_S, Running, wait_until
from tests.hub.test_web import browser, click_to_page, shot, sign_in, text_of  # noqa: F401 (browser: a fixture)

SHOTS = Path("/tmp/web-shots")


class Shifted:
    """The real clock moved to a Tuesday morning, ticking; `jump` moves it on, for every role at once."""

    def __init__(self, zone, start: datetime):
        self.zone, self.offset = zone, start - datetime.now(zone)

    def __call__(self) -> datetime:
        return datetime.now(self.zone) + self.offset

    def jump(self, minutes: float) -> None:
        self.offset += timedelta(minutes=minutes)


@pytest.fixture
def site(broker, tmp_path):
    config = page_config(site_config.load(site_config.EXAMPLE), broker)
    first = dataclasses.replace(config.kiosks["kiosco-1"], printer={"kind": "simulated"}, reader="simulated")
    second = dataclasses.replace(first, id="kiosco-2", buttons=(dataclasses.replace(first.buttons[0], prefix="RB"),))
    config = dataclasses.replace(config, kiosks={"kiosco-1": first, "kiosco-2": second})
    clock = Shifted(config.timezone, datetime(2026, 11, 24, 9, 0, tzinfo=config.timezone))
    pins = {kiosk: MockFactory() for kiosk in config.kiosks}
    kiosks = {kiosk: KioskUnit(config, kiosk, tmp_path / kiosk, pin_factory=pins[kiosk], printer=SimulatedPrinter(),
                               on_printed=TicketKeeper(tmp_path / "papel" / kiosk), now=clock, reader=SimulatedReader)
              for kiosk in config.kiosks}
    desk = Link("escritorio-1", config.broker, queue.Queue(), now=clock)
    with Running(Hub(config, tmp_path / "hub", now=clock)) as hub, Running(kiosks["kiosco-1"]), \
            Running(kiosks["kiosco-2"]):
        desk.start()
        for unit in (hub, desk, *kiosks.values()):
            assert unit.link.wait_connected(STEP_DEADLINE_S) if unit is not desk else desk.wait_connected(
                STEP_DEADLINE_S)
        web = make_page(config, tmp_path / "hub", now=clock)
        web.start()
        yield web, hub, kiosks, pins, desk, clock
        web.stop()
        desk.stop()


def paper(unit: KioskUnit) -> list[bytes]:
    """Each piece of paper the kiosk printed, in the order it came out, as the bytes its printer got."""
    return [path.read_bytes() for path in sorted(unit.on_printed.folder.glob("*.bin"),
                                                 key=lambda path: path.stat().st_mtime_ns)]   # names sort by label


def read(printed: bytes) -> str:
    """The paper's text as one line: where a sentence wraps depends on the paper's width."""
    return " ".join(printed_text(printed).split())


def desk_press(desk: Link, hub: Hub, clock, action: str = "next") -> None:
    request = contract.DeskRequest(id=contract.new_id(), at=clock().isoformat(), source="escritorio-1", desk=1,
                                   action=action)
    desk.publish(contract.request_topic(1), request.to_json()).wait_for_publish(2)
    wait_until(lambda: hub.ledger.answered.get(1) == request.id, what="the hub's answer to desk 1")


def serving(hub: Hub) -> str | None:
    turn = hub.ledger.turns.get(hub.ledger.serving.get(1, ""))
    return turn.number if turn else None


def test_an_appointment_from_the_page_to_the_kiosk_to_the_desk_to_the_report(site, browser):
    web, hub, kiosks, pins, desk, clock = site
    browser.get(web.url + "ingresar")
    sign_in(browser, "clave-de-prueba-1")
    click_to_page(browser, By.LINK_TEXT, "Citas")
    assert browser.current_url == web.url + "citas"

    # A citizen who cannot wait: 9:30 today, name and phone given, but the consent box left unticked.
    Select(browser.find_element(By.ID, "hora")).select_by_visible_text("9:30")
    browser.find_element(By.ID, "nombre").send_keys("Rosa Elena Díaz")
    browser.find_element(By.ID, "telefono").send_keys("300 123 4567")
    click_to_page(browser, By.CSS_SELECTOR, "#agendar button[type=submit]")
    assert text_of(browser, ".error").startswith("Sin la autorización del ciudadano (Ley 1581 de 2012)")
    assert not hub.calendar.contacts.of_day("2026-11-24")
    for box in browser.find_elements(By.CSS_SELECTOR, "#agendar input[type=checkbox]"):
        box.click()
    click_to_page(browser, By.CSS_SELECTOR, "#agendar button[type=submit]")
    assert text_of(browser, ".done") == ("Cita de Registro y Aportes agendada el martes 24 de noviembre de 2026 a "
                                         "las 9:30.")
    click_to_page(browser, By.CSS_SELECTOR, "#prioritaria button[type=submit]")
    assert text_of(browser, ".done") == ("Cita prioritaria de Registro y Aportes agendada el miércoles 25 de "
                                         "noviembre de 2026 a las 8:00.")
    rows_shown = browser.find_elements(By.CSS_SELECTOR, "#citas tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "td[data-label=Hora]").text for r in rows_shown] == ["9:30", "8:00"]
    assert "Rosa Elena Díaz · 3001234567" in rows_shown[0].text
    shot(browser, "citas")
    code = rows_shown[0].get_attribute("data-key")

    # The slip, printed by kiosco-1 on the page's order: its QR code is the appointment's code.
    rows_shown[0].find_element(By.CSS_SELECTOR, "form[action='/citas/comprobante'] button").click()
    wait_until(lambda: paper(kiosks["kiosco-1"]), what="the slip at kiosco-1")
    (slip,) = paper(kiosks["kiosco-1"])
    text = read(slip)
    for words in ("Su cita", "9:30", "martes 24 de noviembre de 2026", "Registro y Aportes",
                  "Dirección: Calle 5 # 6-23, Cali", "Traiga su documento de identidad"):
        assert words in text
    ((_how, read_back),) = printed_qr_codes(slip)
    assert read_back == code
    browser.get(web.url + f"citas/{code}")
    assert "Su cita" in text_of(browser, "#comprobante") and code in text_of(browser, "#comprobante code")
    shot(browser, "comprobante")

    # A walk-in and a preferential citizen take their turns; then the slip is read at both kiosks at once.
    buttons = kiosks["kiosco-1"].kiosk.buttons
    for button in (buttons[0], next(b for b in buttons if b.preferential)):
        press(pins["kiosco-1"], button.pin)
    wait_until(lambda: len(hub.ledger.waiting()) == 2, what="two walk-ins queued")
    kiosks["kiosco-1"].reader.scan(read_back)
    kiosks["kiosco-2"].reader.scan(read_back)
    wait_until(lambda: len(paper(kiosks["kiosco-1"])) == 4 and len(paper(kiosks["kiosco-2"])) == 1,
               what="one ticket and one slip for the two scans")
    printed = [read(p) for p in (paper(kiosks["kiosco-1"])[-1], paper(kiosks["kiosco-2"])[-1])]
    ticket = next(p for p in printed if "Su turno RC-001" in p)
    refusal = next(p for p in printed if p is not ticket)
    assert "Cita de las 9:30" in ticket and "Se le llamará a las 9:30, antes que los turnos sin cita." in ticket
    assert "Esta cita ya se registró a las 9:00: su turno es el RC-001." in refusal
    assert [r["kind"] for r in hub.store.day("2026-11-24")].count("checkin") == 1

    # NEXT before its time: the preferential citizen; at 9:31 the appointment goes first, and is rated.
    # (The hub's loop runs in its own thread: the desk's answer and the call land in the same step, read after it.)
    desk_press(desk, hub, clock)
    wait_until(lambda: serving(hub) == "P-001", what="the preferential turn called before the appointment's time")
    clock.jump(31)
    desk_press(desk, hub, clock)
    wait_until(lambda: serving(hub) == "RC-001", what="the appointment called first at its time")
    rating = contract.Rating(id=contract.new_id(), at=clock().isoformat(), source="escritorio-1", desk=1,
                             turn_id=hub.ledger.serving[1], value=5)
    desk.publish(contract.rating_topic(1), rating.to_json()).wait_for_publish(2)
    wait_until(lambda: hub.ledger.turns[rating.turn_id].rating == 5, what="the rating")

    # A reader sending garbage: a slip, no turn (at the kiosk that printed the ticket: the other has just printed
    # a slip, and one citizen gets one slip). The CSV and the Informe have the appointment.
    taker = kiosks["kiosco-1"] if "Su turno RC-001" in read(paper(kiosks["kiosco-1"])[-1]) else kiosks["kiosco-2"]
    before = len(paper(taker))
    taker.reader.scan("HOLA<script>")
    wait_until(lambda: len(paper(taker)) == before + 1, what="the garbage's slip")
    assert "Este código no es el de un comprobante de cita." in read(paper(taker)[-1])
    assert len(hub.ledger.turns) == 3
    day = clock().date()
    (row,) = [r for r in rows(hub.store, day, day, web.config.service_names()) if r["number"] == "RC-001"]
    assert (row["appointment"], row["appointment_local"], row["rating"]) == ("sí", "2026-11-24 09:30:00", 5)
    (_, total) = build(hub.store, day, day, web.config, now=clock()).appointments[-1:][0]
    assert (total.booked, total.arrived, total.on_time) == (1, 1, 1)

    # Tomorrow's appointment is moved a slot later, then cancelled; the page says each, and who did it is recorded.
    browser.get(web.url + "citas")
    (arrived, tomorrow) = browser.find_elements(By.CSS_SELECTOR, "#citas tbody tr")
    assert "llegó · turno RC-001" in arrived.text and not arrived.find_elements(By.CSS_SELECTOR, "form")
    ref = tomorrow.find_element(By.CSS_SELECTOR, "code").text
    Select(tomorrow.find_element(By.CSS_SELECTOR, "select[name=hora]")).select_by_visible_text("8:15")
    click_to_page(browser, By.CSS_SELECTOR, "#citas tbody tr:nth-child(2) form:nth-of-type(2) button")
    assert text_of(browser, ".done") == f"La cita {ref} quedó para el miércoles 25 de noviembre de 2026 a las 8:15."
    click_to_page(browser, By.XPATH, "//tr[2]//button[text()='Cancelar cita']")
    assert text_of(browser, ".done") == f"La cita {ref} quedó cancelada."
    assert len(browser.find_elements(By.CSS_SELECTOR, "#citas tbody tr")) == 1
    cancelled = [r for r in hub.store.day("2026-11-25") if r["kind"] == "booking_cancel"]
    assert [r["by"] for r in cancelled] == ["coordinacion"]

    # A citizen who comes without the slip (or whose slip the reader cannot read): reception checks them in.
    Select(browser.find_element(By.ID, "hora")).select_by_visible_text("9:45")
    click_to_page(browser, By.CSS_SELECTOR, "#agendar button[type=submit]")
    row = browser.find_element(By.CSS_SELECTOR, "#citas tbody tr:nth-child(2)")
    ref = row.find_element(By.CSS_SELECTOR, "code").text
    click_to_page(browser, By.XPATH, "//tr[2]//button[text()='Registrar llegada']")
    assert text_of(browser, ".done") == f"Llegada de la cita {ref} registrada: su turno es el RC-002."
    assert "llegó · turno RC-002" in browser.find_element(By.CSS_SELECTOR, "#citas tbody tr:nth-child(2)").text
    assert hub.ledger.turns[f"{day}/recepcion/RC002"].appointment is not None
    shot(browser, "citas-llegada")
