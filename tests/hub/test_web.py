"""The coordinators' page: sign-in, sessions, periods and config in isolation; then the real thing in a headless
Chromium driven by Selenium, against a real Mosquitto, the real hub and the CSV read back by LibreOffice."""
import csv
import io
import json
import queue
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import appliance.web.accounts
from appliance import contract
from appliance import site as site_config
from appliance.cli import main as turnero
from appliance.core.link import Link
from appliance.records.journal import DayStore
from appliance.records.turns_csv import CSV_COLUMNS
from appliance.site import BrokerAddress, ConfigError
from hub.service import Hub
from appliance.web.accounts import DECOY, SESSION_S, AccountError, Accounts
from appliance.web.pages import COOKIE
from appliance.web.auth import Throttle, hash_password, verify_password
from appliance.web.queries import MAX_DAYS, BadRequest, period
from tests.harness.chromium import browser_trusting, emulate_width, require, save_shot
from tests.harness.page import PASSWORD, ask, make_page, page_config
from tests.harness.roles import STEP_DEADLINE_S, Running, wait_until

SHOTS = Path("/tmp/web-shots")
FORMULA = "=cmd|' /C calc'!A0"


# --- passwords, sessions, periods, configuration ------------------------------------------------------------

def test_a_password_hash_is_salted_and_verified_in_constant_time():
    first, second = hash_password("la misma clave"), hash_password("la misma clave")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("la misma clave", first) and not verify_password("la misma Clave", first)
    assert not verify_password("x", "scrypt$16384$8$1$no-base64$AAAA")
    # An unknown name is checked against a hash made as every account's: it takes as long as a wrong password.
    assert DECOY.split("$")[:4] == first.split("$")[:4]


def test_a_session_is_a_record_that_expires_and_ends_with_a_new_password_or_the_account(tmp_path):
    clock = [1_000_000.0]
    accounts = Accounts(tmp_path, now=lambda: clock[0])
    accounts.add("ana", PASSWORD)
    assert accounts.sign_in("ana", "otra") is None and accounts.sign_in("nadie", PASSWORD) is None
    token = accounts.sign_in("ana", PASSWORD)
    assert accounts.user(token) == "ana" and Accounts(tmp_path, now=lambda: clock[0]).user(token) == "ana"  # elsewhere
    assert token not in (tmp_path / "coordinators.json").read_text()                   # only its digest is kept
    clock[0] += SESSION_S + 1
    assert accounts.user(token) is None
    clock[0] -= SESSION_S
    accounts.sign_out(token)
    assert accounts.user(token) is None
    token = accounts.sign_in("ana", PASSWORD)
    assert accounts.set_password("ana", "una clave nueva") == 1 and accounts.user(token) is None
    token = accounts.sign_in("ana", "una clave nueva")
    assert accounts.remove("ana") == 1 and accounts.user(token) is None and accounts.names() == []
    assert (tmp_path / "coordinators.json").stat().st_mode & 0o777 == 0o600


def test_a_password_changed_while_a_sign_in_is_checked_opens_no_session(tmp_path, monkeypatch):
    accounts = Accounts(tmp_path)
    accounts.add("ana", PASSWORD)
    checked = appliance.web.accounts.verify_password

    def meanwhile(plain, stored):       # `turnero web-user passwd ana` runs while the old password is checked
        Accounts(tmp_path).set_password("ana", "una clave nueva")
        return checked(plain, stored)

    monkeypatch.setattr(appliance.web.accounts, "verify_password", meanwhile)
    assert accounts.sign_in("ana", PASSWORD) is None
    monkeypatch.setattr(appliance.web.accounts, "verify_password", checked)
    assert accounts.user(accounts.sign_in("ana", "una clave nueva")) == "ana"


def test_accounts_refuse_what_would_not_work_and_a_broken_file_is_not_a_crash(tmp_path):
    accounts = Accounts(tmp_path)
    for name, password, reason in (("ana", "corta", "at least 10 characters"), (" ana", PASSWORD, "1 to 64"),
                                   ("", PASSWORD, "1 to 64"), ("a\nb", PASSWORD, "printable")):
        with pytest.raises(AccountError, match=reason):
            accounts.add(name, password)
    accounts.add("ana", PASSWORD)
    with pytest.raises(AccountError, match="exists already"):
        accounts.add("ana", PASSWORD)
    with pytest.raises(AccountError, match="no account 'luis'"):
        accounts.set_password("luis", PASSWORD)
    (tmp_path / "coordinators.json").write_text("{ medio archivo")
    assert Accounts(tmp_path).sign_in("ana", PASSWORD) is None and Accounts(tmp_path).names() == []


def test_web_user_adds_changes_and_removes_accounts_on_the_command_line(tmp_path, monkeypatch, capsys):
    state = ["--state", str(tmp_path)]
    answers = iter(["una clave larga", "una clave larga", "otra clave larga", "otra distinta!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert turnero(["web-user", "add", "ana", *state]) == 0 and "ana: added" in capsys.readouterr().out
    assert Accounts(tmp_path).sign_in("ana", "una clave larga")
    assert turnero(["web-user", "passwd", "ana", *state]) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("la tercera clave\n"))
    assert turnero(["web-user", "passwd", "ana", "--password-stdin", *state]) == 0
    assert "1 session(s) ended" in capsys.readouterr().out
    assert turnero(["web-user", "list", *state]) == 0 and capsys.readouterr().out == "ana\n"
    assert turnero(["web-user", "remove", "luis", *state]) == 2 and "no account 'luis'" in capsys.readouterr().err
    assert turnero(["web-user", "remove", "ana", *state]) == 0 and Accounts(tmp_path).names() == []


def test_failed_sign_ins_are_throttled_per_name_address_and_account_and_a_right_password_clears_them():
    moment = [0.0]
    throttle = Throttle(limit=2, window=60, spray=5, account=4, now=lambda: moment[0])
    assert throttle.admit("10.0.0.5", "ana") and throttle.admit("10.0.0.5", "ana")    # both wrong
    assert not throttle.admit("10.0.0.5", "ana") and throttle.admit("10.0.0.6", "ana")
    throttle.succeeded("10.0.0.6", "ana")
    assert throttle.admit("10.0.0.5", "coordinacion")     # behind the site's NAT the others still sign in
    throttle.succeeded("10.0.0.5", "coordinacion")
    moment[0] = 61
    assert throttle.admit("10.0.0.5", "ana")
    throttle.succeeded("10.0.0.5", "ana")                  # she found her password: the count starts again
    assert throttle.admit("10.0.0.5", "ana") and throttle.admit("10.0.0.5", "ana")
    assert not throttle.admit("10.0.0.5", "ana")
    assert [throttle.admit("10.0.0.7", name) for name in "abcdef"] == [True] * 5 + [False]   # name after name
    assert not throttle.admit("10.0.0.7", "coordinacion")


def test_past_an_accounts_limit_only_an_address_without_failures_is_heard():
    throttle = Throttle(limit=5, window=60, spray=30, account=4, now=lambda: 0.0)
    assert [throttle.admit("10.0.0.1", "ana") for _ in range(4)] == [True] * 4
    assert not throttle.admit("10.0.0.1", "ana")           # the account's limit, before the address's
    assert throttle.admit("10.0.0.2", "ana")               # a clean address, once
    assert not throttle.admit("10.0.0.2", "ana")
    assert throttle.admit("10.0.0.3", "ana")               # the coordinator, from her own desk
    throttle.succeeded("10.0.0.3", "ana")
    assert throttle.admit("10.0.0.1", "luis")              # other accounts are not held


@pytest.mark.parametrize("query, message", [
    ({"desde": ["2026-13-01"]}, "La fecha inicial «2026-13-01» no es válida"),
    ({"desde": ["24/11/2026"]}, "Escríbala como AAAA-MM-DD"),
    ({"desde": ["2026-W48-2"]}, "no es válida"),
    ({"desde": ["2026-11-24"], "hasta": ["2026-11-02"]}, "La fecha inicial es posterior a la final."),
    ({"desde": ["2024-01-01"], "hasta": ["2026-11-24"]}, f"el máximo es {MAX_DAYS}"),
])
def test_a_bad_period_is_refused_in_spanish(query, message):
    with pytest.raises(BadRequest, match=message):
        period(query, date(2026, 11, 24))


def test_a_period_defaults_to_today_and_to_one_day():
    today = date(2026, 11, 24)
    assert period({}, today) == (today, today)
    assert period({"desde": ["2026-11-02"]}, today) == (date(2026, 11, 2), date(2026, 11, 2))
    assert period({"desde": ["2025-11-24"], "hasta": ["2026-11-24"]}, today)[0] == date(2025, 11, 24)  # 366 days


@pytest.mark.parametrize("old, new, message", [
    ("wait_target_minutes = 20", "wait_target_minutes = 0", "web.wait_target_minutes: must be from 1 to 480, not 0"),
    ("port = 8443", "port = 0", "web.port: must be a TCP port from 1"),
    ("http_port = 8080", "http_port = 8443", "web.http_port: must differ from web.port"),
    ("app_port = 8081", "app_port = 8080", "web.app_port: must differ from web.port and web.http_port, not 8080"),
    ("app_port = 8081", "app_port = 70000", "web.app_port: must be a TCP port from 1 to 65535"),
    ("http_port = 8080", "tls = false", "web.tls: false is only for a page behind a proxy on the hub itself"),
    ("http_port = 8080", 'cert_file = "web.crt"', "web.cert_file: must be an absolute path"),
    ("http_port = 8080", '[[web.users]]\nname = "ana"', "web.users: the coordinators' accounts are no longer kept"),
])
def test_a_wrong_web_setting_is_reported_with_its_key(old, new, message):
    text = site_config.EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ConfigError) as error:
        site_config.parse(text.replace(old, new, 1))
    assert message in str(error.value)


def test_the_example_site_has_a_web_section():
    web = site_config.load(site_config.EXAMPLE).web
    assert (web.port, web.http_port, web.app_port, web.tls, web.wait_target_min) == (8443, 8080, 8081, True, 20)
    assert web.cert_file == site_config.DEFAULT_CREDENTIALS_DIR / "web.crt"


# --- the site: broker, hub, devices, the page --------------------------------------------------------------

def yesterday_with_a_formula(state: Path, today: date) -> None:
    """Yesterday's day file: one attended Educación turn whose advisor name is a spreadsheet formula."""
    day = (today - timedelta(days=1)).isoformat()
    stamp = lambda hh_mm: f"{day}T{hh_mm}:00.000-05:00"  # noqa: E731
    turn = f"{day}/kiosco-1/E001"
    store = DayStore(state / "days")
    store.append([
        {"id": "y1", "kind": "ticket", "day": day, "at": stamp("10:00"), "turn_id": turn, "number": "E-001",
         "service": "E", "preferential": False, "kiosk": "kiosco-1", "received_at": stamp("10:00")},
        {"id": "y2", "kind": "call", "day": day, "at": stamp("10:12"), "turn_id": turn, "desk": 2,
         "advisor": FORMULA, "request_id": "y-r1", "recall": False},
        {"id": "y3", "kind": "close", "day": day, "at": stamp("10:20"), "turn_id": turn, "desk": 2,
         "outcome": "attended", "request_id": "y-r2"}])
    store.close()


class Devices:
    """A kiosk and desk 1 as the hub sees them: their own links (so their statuses are real), publishing
    what the real units publish."""

    def __init__(self, config, hub: Hub, clock):
        address = BrokerAddress(config.broker.host, config.broker.port, ca_file=config.broker.ca_file)
        self.hub, self.clock, self.inbox = hub, clock, queue.Queue()
        self.kiosk = Link("kiosco-1", address, queue.Queue(), now=clock)
        self.desk = Link("escritorio-1", address, queue.Queue(), now=clock)
        self.probe = Link("prueba", address, self.inbox, now=clock, subscriptions=(contract.ALARMS_TOPIC,))
        for link in (self.kiosk, self.desk, self.probe):
            link.start()
            assert link.wait_connected(STEP_DEADLINE_S)

    def ticket(self, letter: str, n: int, minutes_ago: float, preferential: bool = False) -> None:
        prefix = "P" if preferential else letter
        today = self.hub.today
        event = contract.TicketIssued(
            id=f"ticket-{prefix}{n}", at=(self.clock() - timedelta(minutes=minutes_ago)).isoformat(),
            source="kiosco-1", turn_id=f"{today}/kiosco-1/{prefix}{n:03d}", number=f"{prefix}-{n:03d}",
            service=letter, preferential=preferential)
        self.kiosk.publish(contract.ticket_topic("kiosco-1"), event.to_json()).wait_for_publish(2)

    def printer(self, state: str) -> None:
        status = contract.PrinterStatus(id=contract.new_id(), at=self.clock().isoformat(),
                                        source="kiosco-1", state=state, detail="")
        self.kiosk.publish(contract.printer_topic("kiosco-1"), status.to_json(), retain=True).wait_for_publish(2)

    def next(self, desk: int, expected: str) -> None:
        self.press(desk, "next")
        wait_until(lambda: self.number_at(desk) == expected, what=f"desk {desk} serving {expected}")

    def press(self, desk: int, action: str) -> None:
        request = contract.DeskRequest(id=contract.new_id(), at=self.clock().isoformat(),
                                       source=f"escritorio-{desk}", desk=desk, action=action)
        self.desk.publish(contract.request_topic(desk), request.to_json()).wait_for_publish(2)

    def rate(self, desk: int, value: int) -> None:
        rating = contract.Rating(id=contract.new_id(), at=self.clock().isoformat(),
                                 source=f"escritorio-{desk}", desk=desk, turn_id=self.hub.ledger.serving[desk],
                                 value=value)
        self.desk.publish(contract.rating_topic(desk), rating.to_json()).wait_for_publish(2)

    def number_at(self, desk: int) -> str | None:
        turn = self.hub.ledger.turns.get(self.hub.ledger.serving.get(desk, ""))
        return turn.number if turn else None

    def alarms(self) -> list[dict]:
        """The latest retained alarms message."""
        latest = None
        while not self.inbox.empty():
            item = self.inbox.get()
            if getattr(item, "topic", None) == contract.ALARMS_TOPIC:
                latest = contract.expect(item.payload, contract.Alarms)
        return latest.alarms if latest else []

    def stop(self) -> None:
        for link in (self.kiosk, self.desk, self.probe):
            link.stop()


@pytest.fixture
def site(broker, tmp_path):
    """Mid-morning: desk 1 has served a preferential turn (rated 5) and serves R-001; desk 2 serves R-002;
    R-003 has waited 24 minutes (over the 20-minute target); the display is offline; the kiosk's paper is
    low. Yesterday had one turn whose advisor name is a formula."""
    config = page_config(site_config.load(site_config.EXAMPLE), broker)
    # Mid-morning by everyone's clock whatever the hour the test runs (at 00:10 a turn taken 30 minutes ago would
    # be yesterday's): the real clock moved to 10:30 today, ticking.
    real = datetime.now(config.timezone)
    offset = real.replace(hour=10, minute=30) - real
    clock = lambda: datetime.now(config.timezone) + offset  # noqa: E731
    state = tmp_path / "hub"
    yesterday_with_a_formula(state, clock().date())
    with Running(Hub(config, state, now=clock)) as hub:
        assert hub.link.wait_connected(STEP_DEADLINE_S)
        devices = Devices(config, hub, clock)
        display = Link("pantalla-1", broker.address(), queue.Queue(), now=clock)
        display.start()
        assert display.wait_connected(STEP_DEADLINE_S)
        display.stop()                      # a clean stop: retained "offline"
        devices.printer("low")
        for letter, n, ago, preferential in (("R", 1, 30, False), ("R", 2, 26, False), ("R", 3, 24, False),
                                             ("R", 1, 12, True), ("S", 1, 4, False), ("E", 1, 2, False)):
            devices.ticket(letter, n, ago, preferential)
        wait_until(lambda: len(hub.ledger.waiting()) == 6, what="six turns queued")
        devices.next(1, "P-001")
        devices.rate(1, 5)
        wait_until(lambda: any(t.rating == 5 for t in hub.ledger.turns.values()), what="the rating recorded")
        devices.next(1, "R-001")
        devices.next(2, "R-002")
        web = make_page(config, state, now=clock)
        web.start()
        web.devices = devices
        yield web
        web.stop()
        devices.stop()


@pytest.fixture
def browser(tmp_path, broker):
    """Headless Chromium that trusts the site CA, as a coordinator's browser does once it is imported."""
    yield from browser_trusting(tmp_path, broker.ca_file)


def shot(driver, name: str, width: int = 1366) -> None:
    save_shot(driver, SHOTS / f"{name}.png", width)


def text_of(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def live(driver) -> dict:
    """The live view's tables (row key -> the row's cells joined by tabs) and the alarms' text, read in one
    script: the page redraws them every few seconds, and a script runs between two redraws, never during one."""
    return driver.execute_script("""
        const rows = id => Object.fromEntries([...document.querySelectorAll(`#${id} tr[data-key]`)].map(
            tr => [tr.dataset.key, [...tr.cells].map(td => td.textContent).join("\\t")]));
        return {filas: rows("filas"), modulos: rows("modulos"), equipos: rows("equipos"),
                llamados: rows("llamados"), alarmas: document.getElementById("alarmas").textContent};""")


def eventually(driver, predicate, what: str, timeout: float = 10):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: predicate(), message=what)


def click_to_page(driver, how: str, what: str) -> None:
    """Clicks a link or a form's button and waits for the page that answers: a new document, without the old
    one's mark, fully loaded. (Asking about an old element mid-navigation can fail with an inspector error
    instead of "stale", so the old page is marked instead.)"""
    driver.execute_script("window.oldPage = true")
    driver.find_element(how, what).click()
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(lambda d: d.execute_script(
        "return window.oldPage === undefined && document.readyState === 'complete'"))


def sign_in(driver, password: str) -> None:
    driver.find_element(By.ID, "usuario").clear()
    driver.find_element(By.ID, "usuario").send_keys("coordinacion")
    driver.find_element(By.ID, "clave").send_keys(password)
    click_to_page(driver, By.CSS_SELECTOR, "form button[type=submit]")


def request(web, method: str, path: str, cookie: str | None = None) -> tuple[int, dict, bytes]:
    """A raw request over HTTPS: the path goes on the wire exactly as written (no client-side normalisation)."""
    status, headers, body = ask(web, method, path, cookie=cookie)
    return status, headers, body.encode()


def test_a_coordinator_follows_the_morning_downloads_the_csv_and_reads_the_report(site, browser, tmp_path):
    web, today = site, site.now().date()

    # Every page asks for the sign-in first; a wrong password is refused in Spanish.
    browser.get(web.url + "en-vivo")
    assert browser.current_url == web.url + "ingresar"
    shot(browser, "1-ingresar")
    sign_in(browser, "no es la clave")
    assert "El usuario o la contraseña no son correctos." in text_of(browser, ".error")
    sign_in(browser, PASSWORD)
    assert browser.current_url == web.url + "en-vivo"

    # The live view: queues, desks with their advisors, devices, alarms.
    def arrived() -> dict | None:    # the retained board, desk states and statuses have reached the page
        view = live(browser)
        return view if "R" in view["filas"] and "R-001" in view["modulos"].get("1", "") and \
            "pantalla-1" in view["alarmas"] and "Poco papel" in view["equipos"].get("kiosco-1", "") else None
    view = eventually(browser, arrived, "the retained state on the page")
    assert view["filas"]["R"].startswith("Registro y Aportes\t1\t0\t24 min")
    assert view["filas"]["S"].startswith("Salud\t1\t0") and view["filas"]["E"].startswith("Educación\t1\t0")
    desks, devices = view["modulos"], view["equipos"]
    assert desks["1"].startswith("Módulo 1\tAbierto\tAna María Peña\tR-001\tRegistro y Aportes")
    assert "excede" not in desks["1"] and "José Muñoz\tR-002" in desks["2"]
    assert desks["3"].startswith("Módulo 3\tCerrado\t") and "Libre" in desks["3"]
    assert "En línea" in devices["hub"] and "Poco papel" in devices["kiosco-1"]
    assert "Sin conexión" in devices["pantalla-1"] and "Sin reporte" in devices["escritorio-2"]
    assert "Registro y Aportes: 1 turno espera más de 20 min." in view["alarmas"]
    assert "Sin conexión: pantalla-1 (pantalla de turnos)." in view["alarmas"]
    assert any(call.startswith("P-001\tMódulo 1") for call in view["llamados"].values())
    shot(browser, "2-en-vivo")

    # The same alarms, retained on MQTT for other consumers.
    published = wait_until(lambda: {(a["kind"], a["subject"]) for a in web.devices.alarms()} or None,
                           what="retained alarms")
    assert {("wait", "R"), ("device", "pantalla-1")} <= published

    # The view follows the site without a reload: desk 1 calls R-003 and the wait alarm goes.
    web.devices.next(1, "R-003")
    eventually(browser, lambda: "R-003" in live(browser)["modulos"]["1"], "desk 1 serving R-003 on the page")
    eventually(browser, lambda: "espera más de" not in live(browser)["alarmas"], "the wait alarm gone")

    # The CSV of yesterday and today, downloaded through the form.
    click_to_page(browser, By.LINK_TEXT, "Exportar CSV")
    assert f"Máximo {MAX_DAYS} días." in text_of(browser, "form.period + p")
    browser.execute_script("document.getElementById('desde').value = arguments[0]",
                           (today - timedelta(days=1)).isoformat())
    shot(browser, "3-exportar")
    browser.find_element(By.CSS_SELECTOR, "form.period button").click()
    name = f"turnos_{today - timedelta(days=1)}_{today}.csv"
    csv_path = eventually(browser, lambda: (browser.downloads / name).exists() and browser.downloads / name,
                          "the CSV downloaded")
    data = csv_path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode("utf-8").splitlines()
    assert lines[0].startswith("turn_id;number;service;service_name;") and len(lines) == 1 + 7
    assert "Educación" in data.decode("utf-8-sig") and "José Muñoz" in data.decode("utf-8-sig")
    assert f";'{FORMULA};" in data.decode("utf-8-sig")          # the formula made text
    read_back_by_libreoffice(csv_path, tmp_path)

    # The report with its charts.
    click_to_page(browser, By.LINK_TEXT, "Informe")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4
    cards = text_of(browser, ".cards")
    assert "Turnos\n6" in cards and "Calificaciones de 4 o 5\n100 %" in cards
    arrivals = browser.find_elements(By.CSS_SELECTOR, "svg.chart")[0].find_elements(By.CSS_SELECTOR, "rect")
    assert sum(float(bar.get_attribute("data-value")) for bar in arrivals) == 6
    shot(browser, "4-informe")

    # The report as one file: it opens from disk, offline, with its charts.
    browser.find_element(By.PARTIAL_LINK_TEXT, "Descargar el informe").click()
    report_file = browser.downloads / f"informe_{today}_{today}.html"
    eventually(browser, report_file.exists, "the report file downloaded")
    browser.get(report_file.as_uri())
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 4 and "Turnos\n6" in text_of(browser, ".cards")
    shot(browser, "7-informe-archivo")

    # Bad dates come back as the form with the reason.
    browser.get(web.url + "exportar/turnos.csv?desde=2026-13-01")
    assert "La fecha inicial «2026-13-01» no es válida" in text_of(browser, ".error")
    shot(browser, "5-fecha-mala")

    # Signing out ends the session: the cookie copied before it opens nothing.
    cookie = browser.get_cookie(COOKIE)
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert request(web, "GET", "/api/en-vivo", cookie["value"])[0] == 200
    click_to_page(browser, By.CSS_SELECTOR, ".topbar button")
    assert browser.current_url == web.url + "ingresar" and browser.get_cookie(COOKIE) is None
    assert request(web, "GET", "/api/en-vivo", cookie["value"])[0] == 401


def read_back_by_libreoffice(csv_path: Path, tmp_path: Path) -> None:
    """Calc opens the CSV as its import dialog is set in docs/crm.md (filter options 59 = ';', 34 = '"', 76 =
    UTF-8, from line 1, "detect special numbers"): the accents are intact, the neutralised cell is text, not a
    formula, and the local times are dates."""
    soffice = Path(shutil.which("soffice") or "/usr/bin/soffice")
    require(soffice, "libreoffice-calc-nogui")
    out = tmp_path / "calc"
    subprocess.run([str(soffice), f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}", "--headless",
                    "--infilter=CSV:59,34,76,1,,0,false,true", "--convert-to", "xlsx", "--outdir", str(out),
                    str(csv_path)],
                   check=True, capture_output=True, timeout=60)
    with zipfile.ZipFile(out / csv_path.with_suffix(".xlsx").name) as book:
        strings = book.read("xl/sharedStrings.xml").decode("utf-8")
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet                  # no formula anywhere
    column = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[CSV_COLUMNS.index("issued_local")]
    issued = re.search(rf'<c r="{column}2"([^>]*)><v>([^<]*)</v>', sheet)
    assert issued and 't="s"' not in issued.group(1) and float(issued.group(2)) > 46000   # a date (days since 1899)
    for text in ("service_name", "Educación", "José Muñoz", "Ana María Peña", "'=cmd|' /C calc'!A0"):
        assert text.replace("'", "&apos;") in strings or text in strings, text


def test_bad_input_strangers_and_path_tricks_get_clean_4xx(site, browser):
    web = site
    browser.get(web.url + "ingresar")
    sign_in(browser, PASSWORD)
    cookie = browser.get_cookie(COOKIE)["value"]

    # Strangers: pages redirect to the sign-in, data answers 401, a forged cookie is nobody's.
    status, headers, _ = request(web, "GET", "/en-vivo")
    assert status == 303 and headers["location"] == "/ingresar"
    status, headers, body = request(web, "GET", "/api/en-vivo")
    assert status == 401 and json.loads(body) == {"error": "Inicie sesión para ver esta página."}
    assert request(web, "GET", "/exportar/turnos.csv")[0] == 401
    assert request(web, "GET", "/informe.html")[0] == 401
    assert request(web, "GET", "/api/en-vivo", cookie[:-2] + "00")[0] == 401
    assert request(web, "GET", "/api/en-vivo", cookie)[0] == 200

    # Bad periods: 400 with the reason in Spanish.
    for query, reason in (("desde=2026-13-01", "no es válida"), ("desde=2026-11-24&hasta=2026-11-01", "posterior"),
                          ("desde=2020-01-01&hasta=2026-11-24", "el máximo es 366"),
                          ("desde=%3Cscript%3E", "«&lt;script&gt;» no es válida")):
        for path in ("/exportar/turnos.csv", "/informe", "/informe.html"):
            status, _, body = request(web, "GET", f"{path}?{query}", cookie)
            assert status == 400 and reason in body.decode("utf-8"), (path, query)

    # Path tricks and unknown pages: 404; other methods: 405.
    for path in ("/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/estilo.css/../../hub/web/app.py", "//etc/passwd",
                 "/en-vivo%00", "/en-vivo/", "/static/style.css", "/hub/web/app.py", "/exportar/../informe",
                 "http://elsewhere/en-vivo", "/" + "a" * 3000):
        status, _, body = request(web, "GET", path, cookie)
        if path.startswith(("//", "http:")):    # not a path of this server at all: refused before the page
            assert status == 400 and b"Traceback" not in body, path
            continue
        assert status == 404 and "La página que busca no existe." in body.decode("utf-8"), path
    status, _, body = request(web, "GET", "/informe?" + "&".join(f"c{i}=1" for i in range(30)), cookie)
    assert status == 400 and "demasiados campos" in body.decode("utf-8")
    assert request(web, "PUT", "/en-vivo", cookie)[0] == 405
    status, headers, _ = request(web, "POST", "/en-vivo", cookie)
    assert status == 405 and set(headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert "default-src 'none'" in headers["content-security-policy"]

    browser.get(web.url + "no-existe")
    assert "Página no encontrada" in text_of(browser, "h1")
    shot(browser, "6-no-existe")
    assert browser.find_elements(By.CSS_SELECTOR, ".topbar")         # still signed in, with the menu


def fits(driver, width: int, figures: str = "td") -> dict:
    """At `width` CSS pixels: how wide the page is, and every one of `figures` that lies outside the screen."""
    emulate_width(driver, width)
    return driver.execute_script("""
        const outside = [...document.querySelectorAll(arguments[0])].filter(e => {
            const box = e.getBoundingClientRect();
            return box.width > 0 && (box.left < 0 || box.right > window.innerWidth + 0.5);
        }).map(e => (e.dataset.label || e.className.baseVal || e.className) + ": " + e.textContent.slice(0, 30));
        return {width: document.documentElement.scrollWidth, outside: outside};""", figures)


def test_every_page_fits_a_phone_without_sideways_scrolling(site, browser):
    """At 390 px (a phone) and 1366 px: the page never scrolls sideways, no live figure, report card or chart
    lies outside the screen; on the phone each live row is a card with every value named."""
    web = site
    browser.get(web.url + "ingresar")
    sign_in(browser, PASSWORD)
    eventually(browser, lambda: "R-001" in live(browser)["modulos"].get("1", ""), "the desks on the page")
    for width in (390, 1366):
        layout = fits(browser, width)
        assert layout["width"] <= width and not layout["outside"], (width, layout)
    fits(browser, 390)
    labels = browser.execute_script("""return [...document.querySelectorAll('#modulos tr[data-key="1"] td')]
        .map(td => getComputedStyle(td, '::before').content + ' ' + td.textContent);""")
    assert '"Estado" Abierto' in labels and '"Tiempo" ' in " | ".join(labels), labels
    assert any(label.startswith('"Mayor espera"') for label in browser.execute_script(
        """return [...document.querySelectorAll('#filas tr[data-key="R"] td')]
           .map(td => getComputedStyle(td, '::before').content + ' ' + td.textContent);"""))
    shot(browser, "8-en-vivo-390", width=390)
    shot(browser, "8-en-vivo-1366")
    click_to_page(browser, By.LINK_TEXT, "Informe")
    for width in (390, 1366):   # the cards and charts in view; a long table scrolls in its frame, its first column kept
        layout = fits(browser, width, ".card-value, svg.chart, table.figures th[scope=row]")
        assert layout["width"] <= width and not layout["outside"], (width, layout)
    shot(browser, "9-informe-390", width=390)
    for page in ("exportar", "modulos", "contingencia"):
        browser.get(web.url + page)
        assert fits(browser, 390)["width"] <= 390, page
        shot(browser, f"10-{page}-390", width=390)


def order_on(browser, form: str, button: str = "button[type=submit]", **fields) -> str:
    """Fills one order form of the page, sends it and returns what the page answers (done or refused)."""
    for name, value in fields.items():
        field = browser.find_element(By.CSS_SELECTOR, f"{form} [name={name}]")
        if field.tag_name == "select":
            browser.execute_script("arguments[0].value = arguments[1]", field, value)
        elif field.get_attribute("type") in ("date", "time"):
            browser.execute_script("arguments[0].value = arguments[1]", field, value)
        else:
            field.clear()
            field.send_keys(value)
    click_to_page(browser, By.CSS_SELECTOR, f"{form} {button}")
    return text_of(browser, "p[role=status], p[role=alert]")


def test_a_coordinator_opens_pauses_calls_corrects_and_enters_a_manual_contingency(site, browser, tmp_path):
    web, hub = site, site.devices.hub
    today = web.now().date()
    browser.get(web.url + "ingresar")
    sign_in(browser, PASSWORD)
    click_to_page(browser, By.LINK_TEXT, "Módulos")
    assert "Abierto" in text_of(browser, "#modulo-1 h2") and "Cerrado" in text_of(browser, "#modulo-3 h2")
    shot(browser, "11-modulos")

    # A break for desk 2's advisor: the desk calls nobody until it opens again.
    answer = order_on(browser, "#modulo-2 form:nth-of-type(1)", "button[value=paused]")
    assert answer == "Módulo 2 queda en pausa." and hub.ledger.desk_status(2) == "paused"
    assert "En pausa" in text_of(browser, "#modulo-2 h2")

    # Desk 3: another advisor today, then a number called to it, refused while it is closed.
    assert order_on(browser, "#modulo-3 form:nth-of-type(2)", asesor="Carlos Andrés Núñez") == (
        "Carlos Andrés Núñez atiende desde ahora en Módulo 3.")
    refused = order_on(browser, "#modulo-3 form:nth-of-type(3)", numero="r-003")
    assert refused == "Módulo 3 está cerrado: ábralo antes."
    assert "error" in browser.find_element(By.CSS_SELECTOR, "p[role=status]").get_attribute("class")
    order_on(browser, "#modulo-3 form:nth-of-type(1)", "button[value=open]")
    called = order_on(browser, "#modulo-3 form:nth-of-type(3)", numero="R-003")
    assert called == "El turno R-003 fue llamado a Módulo 3."
    (call,) = [r for r in hub.store.day(hub.today) if r["kind"] == "call" and r["desk"] == 3]
    assert (call["advisor"], call["by"]) == ("Carlos Andrés Núñez", "coordinacion")

    # Education's citizen called to desk 1, which does not attend Educación: refused, saying which desks do.
    assert order_on(browser, "#modulo-1 form:nth-of-type(3)", numero="E-001") == (
        "Módulo 1 no atiende Educación: llame el turno E-001 a Módulo 2 o Módulo 3.")
    assert "E-001" in [t.number for t in hub.ledger.waiting()]

    # Desk 1's last NEXT was a mistake: R-001 goes back to the queue and P-001 is served again.
    assert order_on(browser, "#modulo-1 form:nth-of-type(4)") == "Se deshizo el último SIGUIENTE de Módulo 1."
    assert hub.ledger.turns[hub.ledger.serving[1]].number == "P-001"
    assert "R-001" in [t.number for t in hub.ledger.waiting()]

    # R-002 did not come to desk 2, then comes back: in the queue again, in its place.
    web.devices.press(2, "no_show")
    wait_until(lambda: hub.ledger.turns[f"{hub.today}/kiosco-1/R002"].outcome == "no_show", what="R-002 absent")
    assert order_on(browser, "form:has(#ausente)", numero="R-002") == (
        "El turno R-002 vuelve a la fila, en el lugar que tenía.")
    assert "R-002" in [t.number for t in hub.ledger.waiting()]
    not_sent = order_on(browser, "form:has(#ausente)", numero="R-0002x")   # refused by the page, never sent
    assert not_sent.startswith("El número «R-0002x»")
    orders = text_of(browser, "#ordenes")
    assert orders.count("coordinacion") == 8 and "Pausar Módulo 2 Hecho" in orders
    assert "Llamar el turno R-003 a Módulo 3 No se hizo Módulo 3 está cerrado" in orders
    assert "Llamar el turno E-001 a Módulo 1 No se hizo Módulo 1 no atiende Educación" in orders
    shot(browser, "12-modulos-ordenes")

    # Yesterday the system failed for an hour: the paper sheet's attentions are entered.
    yesterday = (today - timedelta(days=1)).isoformat()
    click_to_page(browser, By.LINK_TEXT, "Contingencia")
    shot(browser, "13-contingencia")
    sheet = {"fecha": yesterday, "numero": "TM-001", "servicio": "S", "modulo": "2", "asesor": "José Muñoz",
             "llegada": "10:02", "llamado": "10:20", "fin": "10:31", "resultado": "attended"}
    assert order_on(browser, "form.manual", **sheet) == f"Atención manual TM-001 del {yesterday} (atendido) registrada."
    assert order_on(browser, "form.manual", **{**sheet, "llamado": "09:00"}) == (
        "Las horas deben seguirse: llegada, llamado y fin de la atención.")
    assert browser.find_element(By.ID, "numero").get_attribute("value") == "TM-001"   # the form keeps what was typed
    assert order_on(browser, "form.manual", **sheet) == f"El número TM-001 ya está registrado el {yesterday}."
    shot(browser, "14-contingencia-registrada")

    # In yesterday's CSV and report, marked as manual.
    token = browser.get_cookie(COOKIE)["value"]
    status, _, body = request(web, "GET", f"/exportar/turnos.csv?desde={yesterday}&hasta={yesterday}", cookie=token)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    (paper,) = [row for row in rows if row["number"] == "TM-001"]
    assert status == 200 and (paper["kiosk"], paper["manual"], paper["service_seconds"]) == ("manual", "sí", "660")
    browser.get(web.url + f"informe?desde={yesterday}&hasta={yesterday}")
    assert "Registrados a mano después de una contingencia (turnero manual): 1 turno;" in text_of(browser, ".notes")
    shot(browser, "15-informe-manual")
