"""The "Mi turno" page as a citizen meets it: the QR code read back from the bytes a real kiosk printed, opened in
a phone-sized headless Chromium through a real nginx on the guest listener, and followed while desks press NEXT
through the real hub and a real Mosquitto; then what a stranger's requests get."""
import dataclasses
import queue
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from selenium.webdriver.support.ui import WebDriverWait

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.core.public_code import public_code, ticket_address
from appliance.dev.always_open import AlwaysOpen
from appliance.dev.local_broker import free_port
from appliance.dev.local_front import LocalFront
from appliance.drivers.printer import SimulatedPrinter
from appliance.kiosk.unit import KioskUnit
from appliance.site import BrokerAddress, PublicSettings
from hub.mi_turno import MiTurnoPage
from hub.service import Hub
from tests.harness.chromium import browser_trusting, emulate_width, save_shot
from tests.harness.escpos_text import printed_qr_codes, printed_text
from tests.harness.page import page_certificate, page_config, request
from tests.harness.roles import STEP_DEADLINE_S, Running, Ticking, wait_until

SHOTS = Path("/tmp/mi-turno-shots")
PHONE_WIDTH = 390


class Site:
    """A site whose hub serves the page on a guest listener: the hub, `turnero mi-turno`, nginx, kiosk 1 printing
    into a simulated printer, and the desks' buttons; every role on one clock, mid-morning, that the test can
    move to tomorrow."""

    def __init__(self, broker, tmp_path: Path):
        base = page_config(site_config.load(site_config.EXAMPLE), broker)
        cert, key = page_certificate(broker)
        (tmp_path / "secret").write_text(secrets.token_hex(32))
        self.secret = (tmp_path / "secret").read_bytes().strip()
        port = free_port()
        self.config = dataclasses.replace(
            base, web=dataclasses.replace(base.web, host="127.0.0.1", port=free_port(), http_port=0,
                                          app_port=free_port()),
            public=PublicSettings(address=f"https://127.0.0.1:{port}", secret_file=tmp_path / "secret", listen=True,
                                  host="127.0.0.1", port=port, http_port=0, app_port=free_port(), cert_file=cert,
                                  key_file=key))
        real = datetime.now(self.config.timezone)
        self.offset = real.replace(hour=10, minute=30) - real
        self.printed: list[bytes] = []
        self.hub = Hub(self.config, tmp_path / "hub", now=self.now)
        self.page = MiTurnoPage(self.config, now=self.now)
        self.pins = MockFactory()
        self.kiosk = KioskUnit(self.config, "kiosco-1", tmp_path / "kiosk", pin_factory=self.pins,
                               printer=SimulatedPrinter(), on_printed=lambda *ticket: self.printed.append(ticket[2]),
                               now=self.now, monotonic=Ticking(), opening=AlwaysOpen())
        self.desks = Link("escritorios", BrokerAddress(broker.host, broker.port, ca_file=broker.ca_file),
                          queue.Queue(), now=self.now)
        self.front = LocalFront(tmp_path / "front", self.config)
        self._running = [Running(self.hub), Running(self.page), Running(self.kiosk)]

    def now(self) -> datetime:
        return datetime.now(self.config.timezone) + self.offset

    def start(self) -> "Site":
        for running in self._running:
            running.__enter__()
        self.desks.start()
        assert self.desks.wait_connected(STEP_DEADLINE_S)
        self.front.start()
        return self

    def stop(self) -> None:
        self.front.stop()
        self.desks.stop()
        for running in reversed(self._running):
            running.__exit__(None, None, None)

    def take_ticket(self, service: str = "R") -> bytes:
        """A citizen presses the kiosk's button for the service: the ticket's bytes, once the hub has it."""
        button = next(b for b in self.config.kiosks["kiosco-1"].buttons if b.service == service
                      and not b.preferential)
        pin, count = self.pins.pin(button.pin), len(self.kiosk.issued)
        pin.drive_low()
        pin.drive_high()
        wait_until(lambda: len(self.kiosk.issued) > count, what="the ticket printed")
        number = self.kiosk.issued[-1].number
        wait_until(lambda: any(t.number == number for t in self.hub.ledger.turns.values()), what=f"{number} queued")
        return self.printed[-1]

    def press(self, desk: int, action: str = "next", service: str | None = None) -> None:
        answered = self.hub.ledger.answered.get(desk)
        request_ = contract.DeskRequest(id=contract.new_id(), at=self.now().isoformat(), source=f"escritorio-{desk}",
                                        desk=desk, action=action, service=service)
        self.desks.publish(contract.request_topic(desk), request_.to_json()).wait_for_publish(2)
        wait_until(lambda: self.hub.ledger.answered.get(desk) not in (None, answered), what=f"desk {desk} answered")

    def ask(self, path: str, source: str = "127.0.0.2", method: str = "GET") -> tuple[int, dict, str]:
        return request(self.config, self.config.public.port, method, path, source=source)


@pytest.fixture
def site(broker, tmp_path):
    running = Site(broker, tmp_path).start()
    yield running
    running.stop()


@pytest.fixture
def phone(tmp_path, broker):
    for driver in browser_trusting(tmp_path, broker.ca_file):
        emulate_width(driver, PHONE_WIDTH)
        yield driver


def shows(phone, words: str):
    """Waits for the page to say `words` first (its title starts with what its large headline says), as it
    refreshes by itself: the test never reloads it."""
    return WebDriverWait(phone, STEP_DEADLINE_S, poll_frequency=0.2).until(
        lambda driver: driver.title.startswith(words), f"the page to say {words!r}")


def shot(phone, name: str) -> None:
    save_shot(phone, SHOTS / f"{name}.png", PHONE_WIDTH)
    emulate_width(phone, PHONE_WIDTH)


def body(phone) -> str:
    return phone.execute_script("return document.body.innerText")


def test_a_phone_follows_its_turn_from_the_ticket_to_the_desk_after_a_transfer_and_to_the_next_day(site, phone):
    for _ in range(3):
        site.take_ticket()
    ticket = site.take_ticket()
    ours = site.hub.ledger.waiting()[-1]
    address = ticket_address(site.config.public.address, public_code(site.secret, ours.turn_id))
    assert ours.number == "R-004" and printed_qr_codes(ticket) == [("native", address)]
    assert address.removeprefix("https://") in printed_text(ticket)

    phone.get(address)          # what the phone's camera opens
    shows(phone, "3 personas antes que usted")
    assert "Turno\nR-004" in body(phone) and "Registro y Aportes" in body(phone)
    assert phone.get_cookies() == [] and phone.find_elements("css selector", "a") == []
    shot(phone, "1-esperando")
    site.press(2)                                       # R-001 to Módulo 2
    shows(phone, "2 personas antes que usted")
    site.press(1)                                       # R-002 to Módulo 1
    shows(phone, "1 persona antes que usted")
    site.press(1)
    shows(phone, "No hay personas antes que usted")
    site.press(2)                                       # R-004, ours
    shows(phone, "Es su turno: diríjase al Módulo 2")
    assert phone.execute_script("return document.body.className") == "called"
    shot(phone, "2-llamado")

    site.press(2, "transfer", service="V")              # sent on to Vivienda: the same ticket follows it
    shows(phone, "No hay personas antes que usted")
    assert "Vivienda" in body(phone) and "Turno\nR-004" in body(phone)
    site.press(2)
    shows(phone, "Es su turno: diríjase al Módulo 2")
    site.press(2)                                       # the attention ends
    shows(phone, "Gracias por su visita")
    shot(phone, "3-atendido")

    site.offset += timedelta(days=1)                    # the page left open until the next morning
    shows(phone, "Turno no encontrado")
    shot(phone, "4-vencido")
    expired = site.ask(address.split(str(site.config.public.port), 1)[1])
    never_issued = site.ask("/t/" + "2" * 16)
    assert expired[0] == never_issued[0] == 404 and expired[2] == never_issued[2]
    assert "Los turnos vencen al terminar el día" in expired[2]


def test_a_wrong_code_gets_the_page_of_an_unknown_one_and_a_burst_from_one_address_a_spanish_429(site):
    site.take_ticket()
    unknown = site.ask("/t/" + "2" * 16)
    assert unknown[0] == 404 and "Turno no encontrado" in unknown[2] and "set-cookie" not in unknown[1]
    for path in ("/t/" + "2" * 300, "/t/%3Cscript%3E", "/t/%C3%B1" * 3, "/t/2222%FF", "/t/",
                 "/", "/en-vivo", "/ingresar", "/api/en-vivo"):      # nothing of the coordinators' page either
        assert site.ask(path)[::2] == unknown[::2], path
    assert site.ask("/t/" + "2" * 16, method="POST")[0] == 405
    for path, refusal in (("/t/" + "x" * 9000, 414), ("/t/..%2F..%2Fetc%2Fpasswd", 400),
                          ("/t/2222%00", 400)):
        status, _, text = site.ask(path)     # what nginx does not read, or reads above the root: never passed on
        assert status == refusal and "Esta dirección no es válida" in text

    with ThreadPoolExecutor(20) as pool:        # an address asking as fast as it can
        answers = list(pool.map(lambda _: site.ask("/t/" + "3" * 16, source="127.0.0.9"), range(60)))
    refused = [answer for answer in answers if answer[0] == 429]
    assert refused and {answer[0] for answer in answers} == {404, 429}
    assert all("Demasiadas solicitudes" in text and headers["retry-after"] == "30" for _, headers, text in refused)
    assert site.ask("/t/" + "3" * 16, source="127.0.0.10")[0] == 404     # the guest beside it is not held up


def test_a_thousand_phones_following_leave_the_next_answered_and_each_reads_its_own_turn(site):
    """How fast the hub answers with them is bench/bench_mi_turno.py's to measure: here, that a NEXT pressed while
    a thousand phones ask is answered, that they reach the page and never the hub, and that each reads its turn."""
    for _ in range(10):
        site.take_ticket()
    codes = {t.number: public_code(site.secret, t.turn_id) for t in site.hub.ledger.waiting()}
    wait_until(lambda: all(site.page.book.find(code) for code in codes.values()), what="the page knows every turn")
    phones = [(f"127.0.{1 + n // 250}.{1 + n % 250}", f"R-{1 + n % 10:03d}") for n in range(1000)]
    with ThreadPoolExecutor(16) as pool:
        answers = pool.map(lambda phone: site.ask(f"/t/{codes[phone[1]]}", source=phone[0]), phones)
        site.press(3)                   # R-001 called while the thousand ask
        answers = list(answers)
    serving = site.hub.ledger.turns[site.hub.ledger.serving[3]]
    assert serving.number == "R-001" and site.hub.rejected == {}
    assert [status for status, _, _ in answers] == [200] * 1000
    for (_, number), (_, _, text) in zip(phones, answers):
        assert f"Turno <strong>{number}</strong>" in text
        assert "antes que usted" in text or "Es su turno: diríjase al Módulo 3" in text
