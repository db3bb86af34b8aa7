"""Many sites, one view: the central's page in headless Chromium over HTTPS, against a real central fed by two
sites through real bridges. Each site has its real hub (fed events straight into its loop, publishing to its own
broker), its coordinators' page (which publishes the site's live picture), its shipper and the bridge; the
central has its Mosquitto, PostgreSQL, the ingest with its roll-up and the page."""
import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from appliance.dev.network import LocalCentral
from appliance.ops import site_ca
from appliance.web.accounts import Accounts
from central import rollup
from central.ingest import Central as CentralLoop
from appliance.report.html import integer, minutes, percent
from appliance.report.tally import mean, median, p90
from central.web.app import CentralWeb
from hub.report.figures import build
from hub.shipper import Shipper
from tests.harness import hub_feed
from tests.harness.chromium import browser_trusting, save_shot
from tests.harness.network import LiveSite
from tests.harness.page import form_headers, request
from tests.harness.roles import Running, wait_until

PASSWORD = "clave-de-la-central-1"
SHOTS = Path("/tmp/central-shots")
DEADLINE_S = 60.0


@pytest.fixture
def network(tmp_path, postgres):
    with psycopg.connect(postgres.dsn, autocommit=True) as db:
        db.execute("TRUNCATE records, refusals, site_days, sites, turns, day_figures")
    central = LocalCentral(tmp_path / "central", postgres.dsn, ["cali", "palmira"])
    central.broker.start()
    sites = [LiveSite(tmp_path / name, name, central) for name in ("cali", "palmira")]
    for site in sites:
        site.broker.start()
        site.hub.start()
        site.page.start()
    accounts = Accounts(central.config.web.state)
    accounts.add("nacional", PASSWORD)
    accounts.add("regional-cali", PASSWORD, sites=["cali"])
    page = CentralWeb(central.config)
    with Running(CentralLoop(central.config, pace=rollup.Pace(1, 1))), Running(Shipper(sites[0].config, sites[0].days, tmp_path / "s1")), \
            Running(Shipper(sites[1].config, sites[1].days, tmp_path / "s2")):
        page.start()
        yield central, sites, page
        page.stop()
    for site in sites:
        site.page.stop()
        site.hub.stop()
        site.broker.stop()
    central.broker.stop()


@pytest.fixture
def browser(tmp_path, network):
    central = network[0]
    yield from browser_trusting(tmp_path, central.files / site_ca.CA_CERT)


def ask(page: CentralWeb, path: str, cookie: str | None = None) -> tuple[int, dict, str]:
    return request(page.config, page.port, "GET", path, cookie=cookie)


def shot(driver, name: str, width: int) -> None:
    save_shot(driver, SHOTS / f"{name}.png", width)


def signed_in(page: CentralWeb, user: str) -> str:
    headers = {**form_headers(page), "Origin": f"https://127.0.0.1:{page.port}"}
    status, answer, _ = request(page.config, page.port, "POST", "/ingresar", headers=headers,
                                body=f"usuario={user}&clave={PASSWORD}".encode())
    assert status == 303, status
    return answer["set-cookie"].split(";")[0].split("=", 1)[1]


def card(driver, site: str) -> str:
    """A site's card as shown (read in one script: the page reloads itself every few seconds)."""
    return driver.execute_script("return (document.querySelector(`.site-card[data-site='${arguments[0]}']`)"
                                 "?.textContent || '').replace(/\\s+/g, ' ')", site)


def card_order(driver) -> list[str]:
    return driver.execute_script("return [...document.querySelectorAll('.site-card')].map(e => e.dataset.site)")


def sign_in(driver, page: CentralWeb, user: str) -> None:
    driver.get(f"https://127.0.0.1:{page.port}/ingresar")
    driver.find_element(By.ID, "usuario").send_keys(user)
    driver.find_element(By.ID, "clave").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_until(lambda: driver.current_url.endswith("/sedes"), 10, "the sites' page after signing in")


def test_the_live_cards_follow_a_next_at_a_site_and_a_cut_bridge_shows_as_stale(network, browser):
    central, (cali, palmira), page = network
    cali.tickets(4, minutes_ago=45)           # longest wait 45 min: over the 20 min target
    palmira.tickets(2, minutes_ago=5)
    sign_in(browser, page, "nacional")
    wait_until(lambda: "4 personas en espera" in card(browser, "cali") and
               "2 personas en espera" in card(browser, "palmira"), DEADLINE_S, "both sites' cards")
    assert card_order(browser) == ["cali", "palmira"]      # the site over its target comes first
    assert "Sobre la meta" in card(browser, "cali") and "45 min" in card(browser, "cali")
    assert re.search(r"Datos hace \d+ s\.", card(browser, "palmira"))
    shot(browser, "central-1-sedes", 1280)
    shot(browser, "central-2-sedes-telefono", 390)

    cali.next()                                  # a NEXT at the site: the card follows within seconds
    wait_until(lambda: "3 personas en espera" in card(browser, "cali"), DEADLINE_S, "the card after a NEXT")

    palmira.broker.stop()                        # the WAN to palmira is cut: its bridge goes down
    wait_until(lambda: "Sin conexión con la sede desde las" in card(browser, "palmira"), DEADLINE_S,
               "palmira shown as stale")
    assert "no actuales" in card(browser, "palmira")
    assert browser.execute_script("return document.querySelector(`.site-card[data-site='palmira']`).className") \
        == "site-card stale"
    shot(browser, "central-3-sede-sin-conexion", 1280)

    browser.get(f"https://127.0.0.1:{page.port}/sedes/cali")
    assert "Registro y Aportes" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "central-4-una-sede", 1280)
    browser.get(f"https://127.0.0.1:{page.port}/equipos")
    assert "kiosco-1" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "central-5-equipos", 1280)
    palmira.broker.start()


def test_a_regional_user_sees_only_their_sites_everywhere(network):
    central, (cali, palmira), page = network
    cali.tickets(2)
    palmira.tickets(3)
    cookie = signed_in(page, "regional-cali")
    wait_until(lambda: len(_json_sites(page, signed_in(page, "nacional"))) == 2, DEADLINE_S, "both sites known")
    assert [c["site"] for c in _json_sites(page, cookie)] == ["cali"]
    for path in ("/sedes", "/equipos", "/informe?desde=2026-01-01", "/exportar"):
        status, _, body = ask(page, path, cookie)
        assert status == 200 and "palmira" not in body.lower(), path
    status, _, body = ask(page, "/sedes/palmira", cookie)
    assert status == 404 and "no existe" in body
    for path in ("/informe?sede=palmira", "/informe.html?sede=palmira", "/exportar/turnos.csv?sede=palmira",
                 "/informe?sede=cali&sede=palmira"):
        status, _, body = ask(page, path, cookie)
        assert status == 403 and "No tiene acceso a la sede «palmira»" in body, path
    today = datetime.now(hub_feed.TZ).date().isoformat()
    wait_until(lambda: _csv_sites(page, cookie, today) == {"cali"}, DEADLINE_S, "cali's rows in its CSV")
    status, _, body = ask(page, f"/informe.html?desde={today}", cookie)
    assert status == 200 and "Palmira" not in body and "Cali" in body


def _json_sites(page, cookie) -> list[dict]:
    status, _, body = ask(page, "/api/sedes", cookie)
    assert status == 200
    return json.loads(body)


def _csv_sites(page, cookie, day: str) -> set[str]:
    status, _, body = ask(page, f"/exportar/turnos.csv?desde={day}", cookie)
    assert status == 200
    return {row["site"] for row in csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";")}


def test_the_consolidated_informe_is_the_sum_of_the_sites_own_informes(network, browser):
    central, sites, page = network
    cali, palmira = sites
    cali.tickets(9, minutes_ago=70)
    palmira.tickets(6, minutes_ago=30)
    for n in range(6):
        cali.next(1, rating=1 + n % 5)
        cali.next(2, rating=5 - n % 3)
    for n in range(4):
        palmira.next(1, rating=2 + n)
    today = datetime.now(hub_feed.TZ).date()
    own = {site.id: build(site.hub.store, today, today, site.config, now=datetime.now(hub_feed.TZ)).total
           for site in sites}

    def rolled() -> bool:       # every record of the morning has reached the central and been folded
        with psycopg.connect(central.config.dsn) as db:
            found = db.execute("SELECT sum(turns), sum(waits_n), sum(attended), sum(ratings[1] + ratings[2] + "
                               "ratings[3] + ratings[4] + ratings[5]) FROM day_figures WHERE facet = 'site'").fetchone()
        return found == tuple(sum(count(f) for f in own.values()) for count in (
            lambda f: f.turns, lambda f: len(f.waits), lambda f: f.outcomes.get("attended", 0), lambda f: f.rated))
    wait_until(rolled, DEADLINE_S, "both sites' day rolled up")
    sign_in(browser, page, "nacional")
    browser.get(f"https://127.0.0.1:{page.port}/informe?desde={today}&hasta={today}")
    table = _table(browser, "Comparación de sedes")
    for site in sites:       # each site's row is its own Informe, figure by figure, as the site's page writes it
        figures = own[site.id]
        assert table[site.name] == {
            "Turnos": integer(figures.turns), "Atendidos": integer(figures.outcomes.get("attended", 0)),
            "No se presentaron": integer(figures.outcomes.get("no_show", 0)),
            "Espera media": minutes(mean(figures.waits)), "Espera p90": minutes(p90(figures.waits)),
            "Dentro de la meta": percent(figures.within(20 * 60), len(figures.waits)),
            "Atención media": minutes(mean(figures.attentions)), "Calificados": integer(figures.rated),
            "Con 4 o 5": percent(figures.good, figures.rated)}
    assert {row["Turnos"] for row in table.values()} != {"0"}
    shot(browser, "central-6-informe", 1280)
    shot(browser, "central-7-informe-telefono", 390)
    cards = browser.execute_script("return Object.fromEntries([...document.querySelectorAll('.card')].map(c => ["
                                   "c.querySelector('.card-label').textContent, [...c.children].slice(1).map("
                                   "e => e.textContent)]))")
    total = lambda count: sum(count(f) for f in own.values())    # noqa: E731
    assert cards["Turnos"][0] == integer(total(lambda f: f.turns))
    assert cards["Atendidos"][0] == integer(total(lambda f: f.outcomes.get("attended", 0)))
    assert cards["No se presentaron"][0] == integer(total(lambda f: f.outcomes.get("no_show", 0)))
    assert cards["Esperaron hasta 20 min"][1] == (f"{integer(total(lambda f: f.within(1200)))} de "
                                                 f"{integer(total(lambda f: len(f.waits)))} llamados")
    assert cards["Calificaciones de 4 o 5"][1] == (f"{integer(total(lambda f: f.good))} de "
                                                  f"{integer(total(lambda f: f.rated))} calificaciones")
    all_waits = sorted(w for f in own.values() for w in f.waits)
    assert cards["Espera media"][1] == f"Mediana {minutes(median(all_waits))} · p90 {minutes(p90(all_waits))}"


def _table(driver, title: str) -> dict[str, dict[str, str]]:
    return driver.execute_script("""
        const section = [...document.querySelectorAll("section")].find(s => s.querySelector("h2")?.textContent
                                                                       === arguments[0]);
        const heads = [...section.querySelectorAll("thead th")].map(th => th.textContent);
        return Object.fromEntries([...section.querySelectorAll("tbody tr")].map(tr => [tr.cells[0].textContent,
            Object.fromEntries([...tr.cells].slice(1).map((td, i) => [heads[i + 1], td.textContent]))]));""", title)



def test_a_coordinator_books_a_site_s_appointment_from_the_central_and_the_site_s_hub_decides(network, browser):
    central, (cali, palmira), page = network
    today = datetime.now(hub_feed.TZ).date()
    sign_in(browser, page, "nacional")
    browser.get(f"https://127.0.0.1:{page.port}/citas?sede=cali")
    wait_until(lambda: page.link.connected, DEADLINE_S, "the central page's broker")
    Select(browser.find_element(By.ID, "servicio")).select_by_value("R")
    browser.find_element(By.CSS_SELECTOR, "button[value=book_first]").click()     # Cita prioritaria mañana

    def booked() -> str:          # the site's hub takes the order from its bridge, decides, records it
        cali.hub.step(0.05)
        return browser.execute_script("return document.querySelector('[role=status]')?.textContent || ''")
    wait_until(lambda: "La sede agendó la cita" in booked() or (browser.refresh() and False), DEADLINE_S,
               "the site's answer at the central")
    bookings = [r for day in cali.hub.store.days() if day > today.isoformat()
                for r in cali.hub.store.day(day) if r["kind"] == "booking"]      # filed under the appointment's day
    assert len(bookings) == 1 and bookings[0]["by"] == "nacional" and not bookings[0]["contact"]
    code = bookings[0]["appointment"]
    assert code in booked()
    wait_until(lambda: code in _main_text(browser) or browser.refresh(), DEADLINE_S,
               "the appointment listed at the central")
    save_shot(browser, SHOTS / "central-8-citas.png", 1280)
    # A regional coordinator books only at their sites; a desk's order never crosses the bridge.
    cookie = signed_in(page, "regional-cali")
    headers = {**form_headers(page), "Origin": f"https://127.0.0.1:{page.port}"}
    status, _, body = request(page.config, page.port, "POST", "/citas", cookie=cookie, headers=headers,
                              body=b"sede=palmira&accion=book_first&servicio=R")
    assert status == 404
    status, _, body = request(page.config, page.port, "POST", "/citas", cookie=cookie, headers=headers,
                              body=b"sede=cali&accion=desk_status&servicio=R")
    assert status == 400 and "Elija qué hacer" in body


def _main_text(driver) -> str:
    return driver.execute_script("return document.querySelector('main').textContent")
