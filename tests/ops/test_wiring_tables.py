"""The wiring pages and the code name the same pins: each page's pin table has exactly the rows of the pin map
that the roles read from the example site configuration, and each BCM number sits at its header pin."""
import re
from pathlib import Path

import pytest
from gpiozero.pins.pi import PiBoardInfo

from appliance import site as site_config
from appliance.ops import wiring

WIRING = Path(__file__).resolve().parents[2] / "wiring"
SITE = site_config.load(site_config.EXAMPLE)
# BCM number -> physical pin on the 40-pin header of every Raspberry Pi since the B+, written from the Raspberry
# Pi pinout independently of gpiozero's data that appliance/ops/wiring.py uses.
HEADER = {2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33, 14: 8, 15: 10,
          16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18, 25: 22, 26: 37, 27: 13}
GROUND_PINS = (6, 9, 14, 20, 25, 30, 34, 39)
PAGES = {"kiosk.md": wiring.kiosk_wires(SITE, "kiosco-1"), "desk.md": wiring.desk_wires(SITE), "hub.md": wiring.hub_wires(),
         "display.md": wiring.display_wires()}
ROW = re.compile(r"^\| ([^|]+?) \| *(\d*) *\| ([\d, ]+) \|$", re.M)


def table(page: str) -> list[tuple[str, int | None, str]]:
    """The rows (function, BCM or None, physical pins) of the page's "## Pins" section."""
    text = (WIRING / page).read_text(encoding="utf-8")
    section = text.split("\n## Pins", 1)[1].split("\n## ", 1)[0] if "\n## Pins" in text else ""
    return [(name, int(bcm) if bcm else None, physical) for name, bcm, physical in ROW.findall(section)]


@pytest.mark.parametrize("page", PAGES)
def test_the_pin_table_has_the_pins_the_code_reads(page):
    rows = [row for row in table(page) if row[0] != "ground"]
    assert rows == [(wire.label, wire.bcm, str(wire.physical)) for wire in PAGES[page]]


@pytest.mark.parametrize("page", ["kiosk.md", "desk.md"])
def test_the_ground_row_lists_every_ground_pin(page):
    assert [row for row in table(page) if row[0] == "ground"] == [("ground", None, ", ".join(map(str, GROUND_PINS)))]
    assert wiring.GROUND == GROUND_PINS


def test_every_bcm_number_in_the_pages_is_at_its_physical_pin():
    for page in PAGES:
        for name, bcm, physical in table(page):
            if bcm is not None:
                assert HEADER[bcm] == int(physical), f"{page}: {name}"


def test_the_pin_map_reads_the_header_of_a_pi_3b_plus_4_and_5_from_gpiozero():
    for revision in (0xa020d3, 0xc03111, 0xd04170):
        pins = PiBoardInfo.from_revision(revision).headers["J8"].pins.values()
        assert {pin.number: pin.name for pin in pins} == wiring.HEADER, hex(revision)
    assert {bcm: wiring.physical(bcm) for bcm in HEADER} == HEADER


def test_a_pin_moved_in_the_configuration_moves_in_the_pin_map():
    moved = site_config.parse(site_config.EXAMPLE.read_text(encoding="utf-8").replace("next = 17", "next = 4", 1))
    assert wiring.desk_wires(moved)[0] == wiring.Wire("NEXT button", "button", 4, 7)
    assert wiring.desk_wires(moved)[0] not in PAGES["desk.md"]
