"""The wiring pages and the site configuration name the same pins, and each BCM number sits at its header pin."""
import re
from pathlib import Path

from appliance import config

WIRING = Path(__file__).resolve().parents[1] / "wiring"
SITE = config.load(config.EXAMPLE)
# BCM number -> physical pin on the 40-pin header of every Raspberry Pi since the B+.
HEADER = {2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33, 14: 8, 15: 10,
          16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18, 25: 22, 26: 37, 27: 13}


def table(page: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r"^\| ([^|]+?) \| (\d+) \| (\d+) \|$", (WIRING / page).read_text(encoding="utf-8"), re.M)
    return {name: (int(bcm), int(physical)) for name, bcm, physical in rows}


def test_every_bcm_number_is_at_its_physical_pin():
    for page in ("desk.md", "kiosk.md"):
        for name, (bcm, physical) in table(page).items():
            assert HEADER[bcm] == physical, f"{page}: {name}"


def test_the_desk_page_has_the_configured_pins():
    pins, rows = SITE.desk_pins, table("desk.md")
    assert rows["NEXT button"][0] == pins.next and rows["status light"][0] == pins.status_led
    assert (rows["RECALL button"][0], rows["NO-SHOW button"][0], rows["TRANSFER button"][0]) == \
        (pins.recall, pins.no_show, pins.transfer)
    assert [rows[k][0] for k in rows if k.startswith("rating") and "button" in k] == list(pins.rating)
    assert [rows[k][0] for k in rows if k.startswith("rating") and "light" in k] == list(pins.rating_leds)


def test_the_kiosk_page_has_the_configured_buttons():
    kiosk, rows = SITE.kiosks["kiosco-1"], table("kiosk.md")
    documented = {bcm for name, (bcm, _) in rows.items() if name != "status light"}
    assert documented == {b.pin for b in kiosk.buttons}
    assert rows["status light"][0] == kiosk.status_led
