"""What the counter display says fits its two lines of 20 characters and its code page (CD5220: PC437), accents
included: every text the desk shows, with the example site's names and every reason the hub gives."""
import pytest

from appliance import contract
from appliance import site as site_config
from appliance.desk import counter
from appliance.drivers.counter_display import DISPLAY_CHARACTERS, ENCODING

SITE = site_config.load(site_config.EXAMPLE)
LINES = [
    *(counter.idle(desk.name, status) for desk in SITE.desks.values() for status in contract.DESK_STATUSES),
    *(counter.attention("Módulo 1", number, seconds, 15, 3) for number in ("R-001", "PR-123456")
      for seconds in (0, 59, 60, 12 * 60, 14 * 60 + 1, 15 * 60, 240 * 60)),
    counter.kept_request(), counter.cancelled_request(),
    *(counter.transfer_choice(service.name, 6, 6) for service in SITE.services.values()),
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
