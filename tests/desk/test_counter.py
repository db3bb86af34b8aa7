"""What the counter display says fits its two lines of 20 characters and its code page (CD5220: PC437), accents
included: every text the desk shows, with the example site's names and every reason the hub gives; a service
name that would not fit has a short name, or the site's check refuses it."""
import pytest
from gpiozero.pins.mock import MockFactory

from appliance import contract
from appliance import site as site_config
from appliance.desk import counter
from appliance.desk.unit import DeskPress, DeskUnit
from appliance.drivers.counter_display import DISPLAY_CHARACTERS, ENCODING, cd5220_lines

SITE = site_config.load(site_config.EXAMPLE)
LINES = [
    *(counter.idle(desk.name, status) for desk in SITE.desks.values() for status in contract.DESK_STATUSES),
    *(counter.attention("Módulo 1", number, seconds, 15, 3) for number in ("R-001", "PR-123456")
      for seconds in (0, 59, 60, 12 * 60, 14 * 60 + 1, 15 * 60, 240 * 60)),
    counter.kept_request(), counter.cancelled_request(), ("Código de asesor", "***"),
    *(counter.signed_in(name) for name in SITE.desk_settings.advisor_codes.values()),
    *(counter.transfer_choice(service.counter_name, 6, 6) for service in SITE.services.values()),
    *(counter.refused(reason) for reason in contract.REFUSALS.values()), counter.refused("Sin otro servicio"),
]


@pytest.mark.parametrize("upper, lower", LINES)
def test_every_text_fits_the_display_and_its_code_page(upper, lower):
    for line in (upper, lower):
        assert len(line) <= DISPLAY_CHARACTERS, line
        assert line.encode(ENCODING).decode(ENCODING) == line     # no character the display lacks


def test_the_hubs_reasons_fit_the_contract_and_the_minutes_agree_in_number():
    assert all(len(reason) <= contract.REFUSAL_CHARS for reason in contract.REFUSALS.values())
    assert counter.attention("Módulo 1", "R-001", 14 * 60 + 1, 15, 3)[0] == "Queda 1 minuto"
    assert counter.attention("Módulo 1", "R-001", 12 * 60, 15, 3)[0] == "Quedan 3 minutos"
    assert counter.attention("Módulo 1", "PR-123456", 61 * 60, 240, 3)[1] == "PR-123456 · 61 min"   # no room for "Turno"


class BytesCounter:
    """A counter display that keeps the bytes a CD5220 would receive."""

    def __init__(self):
        self.received = b""

    def show(self, upper: str, lower: str) -> None:
        self.received = cd5220_lines(upper, lower)


def test_the_transfer_chooser_shows_each_service_whole_by_its_short_name(tmp_path):
    display = BytesCounter()
    desk = DeskUnit(SITE, 1, tmp_path, pin_factory=MockFactory(), counter_display=display)
    desk.serving = {"turn_id": "2026-11-24/kiosco-1/S001", "number": "S-001", "service": "S"}
    shown = []
    for _ in SITE.attended_services()[1:]:
        desk.inbox.put(DeskPress("transfer"))
        desk.step(timeout=0)
        shown.append(display.received.split(b"\x1bQB")[1].removesuffix(b"\r").decode(ENCODING).strip())
    assert sorted(shown) == sorted(SITE.services[letter].counter_name for letter in SITE.attended_services()
                                   if letter != "S")
    assert "Serv. Financieros" in shown and all(len(name) <= DISPLAY_CHARACTERS for name in shown)
    desk.stop()


@pytest.mark.parametrize("name, short_name, problem", [
    ("Servicios Financieros", None, "services[5].short_name: is missing: the name 'Servicios Financieros' does not "
                                    "fit (the desk's counter display shows 20 characters of code page 437"),
    ("Óptica", None, "services[5].short_name: is missing: the name 'Óptica' does not fit"),
    ("Servicios Financieros", "Servicios Financieros", "services[5].short_name: 'Servicios Financieros' does not fit"),
])
def test_the_check_refuses_a_service_name_the_counter_cannot_show_without_a_short_name(name, short_name, problem):
    text = site_config.EXAMPLE.read_text(encoding="utf-8").replace(
        'name = "Servicios Financieros"\nshort_name = "Serv. Financieros"',
        f'name = "{name}"' + (f'\nshort_name = "{short_name}"' if short_name else ""))
    with pytest.raises(site_config.ConfigError) as error:
        site_config.parse(text)
    assert problem in str(error.value)
