"""The whole turn lifecycle through a real Mosquitto, with gpiozero mock pins, a simulated ESC/POS printer and
an SDL dummy screen: the roles are the demo's, each with its own MQTT connection and its own pins."""
import csv
import ssl
import urllib.error
import urllib.request
from datetime import date

import pytest

from appliance.dev.demo import DemoSite
from tests.harness.escpos_text import printed_qr_codes, printed_text
from tests.harness.roles import wait_until


@pytest.fixture
def site(tmp_path, broker):
    site = DemoSite(tmp_path, broker, headless=True)
    site.start()
    yield site
    site.stop()


def on_screen(site, predicate):
    """The display runs in the main thread, as in the demo: each poll lets it take one step."""
    def check():
        site.display.step(0.01)
        return predicate()
    return check


def button_index(site, *, service: str, preferential: bool) -> int:
    return next(i for i, b in enumerate(site.kiosk.kiosk.buttons)
                if b.service == service and b.preferential == preferential)


def page_of(address: str, ca_file) -> str | None:
    """The page at this address as a phone that trusts the site CA gets it; None until it knows the turn."""
    try:
        with urllib.request.urlopen(address, context=ssl.create_default_context(cafile=str(ca_file)),
                                    timeout=10) as answer:
            return answer.read().decode()
    except urllib.error.HTTPError:
        return None


def test_a_morning_from_ticket_to_rating_to_the_crm_export(site, tmp_path):
    # A citizen takes a normal turn for Educación, then an older adult a preferential one.
    site.take_turn(button_index(site, service="E", preferential=False))
    wait_until(lambda: len(site.kiosk.issued) == 1, what="the first ticket")
    site.take_turn(button_index(site, service="R", preferential=True))
    wait_until(lambda: len(site.kiosk.issued) == 2, what="the second ticket")
    tickets = sorted((tmp_path / "tickets").glob("*.bin"))
    assert len(tickets) == 2 and len(list((tmp_path / "tickets").glob("*.png"))) == 2
    first = printed_text(tickets[0].read_bytes())
    assert "E-001" in first and "Educación" in first
    assert "P-001" in printed_text(tickets[1].read_bytes())
    wait_until(lambda: len(site.hub.ledger.waiting()) == 2, what="the hub to queue both turns")
    # The first ticket's QR code opens its turn's "Mi turno" page, which the demo serves.
    (_, address), = printed_qr_codes(tickets[0].read_bytes())
    page = wait_until(lambda: page_of(address, site.broker.ca_file), what="E-001's page")
    assert "Turno <strong>E-001</strong>" in page and "No hay personas antes que usted" in page

    # Desk 1 (Registro y Aportes, Salud, Servicios Financieros) calls: the preferential turn goes first.
    site.next_at(1)
    wait_until(lambda: site.desks[1].serving, what="desk 1's answer")
    assert site.desks[1].serving["number"] == "P-001"
    assert site.desks[1].counter_display.shown == ("Módulo 1", "Turno P-001")
    wait_until(on_screen(site, lambda: site.display.announced), what="the display's announcement")
    scene = site.display.scene()
    assert scene.headline is not None
    assert (scene.headline.number, scene.headline.desk) == ("P-001", "Módulo 1")

    # The citizen rates 4 on desk 1's pad, once it invites a rating; then desk 2 calls the normal turn.
    leds = [site.desk_pins[1].pin(pin) for pin in site.config.desk_pins.rating_leds]
    wait_until(lambda: all(led.state for led in leds), what="the pad inviting a rating")
    site.rate_at(1, 4)
    site.next_at(2)
    wait_until(lambda: site.desks[2].serving, what="desk 2's answer")
    assert site.desks[2].serving["number"] == "E-001"
    wait_until(lambda: any(t.rating == 4 for t in site.hub.ledger.turns.values()), what="the rating at the hub")
    wait_until(on_screen(site, lambda: site.display.scene().headline.number == "E-001"),
               what="the display to show E-001")
    assert site.display.scene().headline.desk == "Módulo 2"
    assert [c.number for c in site.display.announced] == ["P-001", "E-001"]

    # The coordinators' CSV: one row per ticket, with the desk, the wait and the rating on the right row.
    path = site.export()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["number"]: row for row in csv.DictReader(handle, delimiter=";")}
    assert set(rows) == {"E-001", "P-001"}
    assert (rows["P-001"]["desk"], rows["P-001"]["rating"], rows["P-001"]["preferential"]) == ("1", "4", "sí")
    assert (rows["E-001"]["desk"], rows["E-001"]["rating"]) == ("2", "")
    assert rows["E-001"]["service_name"] == "Educación"
    assert int(rows["E-001"]["wait_seconds"]) >= 0 and int(rows["P-001"]["wait_seconds"]) >= 0
    assert date.fromisoformat(rows["E-001"]["issued_at"][:10]) == site.config.today()
