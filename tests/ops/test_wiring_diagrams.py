"""The diagrams in wiring/ are drawn from the pin map of the example configuration: drawn again they are the same
files, each wire's label stands on its pin's row, and every page shows its diagram."""
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import ImageFont

from appliance import site as site_config
from appliance.ops import wiring, wiring_diagram

WIRING = Path(__file__).resolve().parents[2] / "wiring"
SITE = site_config.load(site_config.EXAMPLE)
SVG = "{http://www.w3.org/2000/svg}"


def test_the_committed_diagrams_are_the_example_drawn_again(tmp_path):
    drawn = wiring_diagram.write_all(SITE, tmp_path, site_config.EXAMPLE.name)
    assert sorted(path.name for path in drawn) == sorted(path.name for path in WIRING.glob("*.svg"))
    for path in drawn:
        assert (WIRING / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), \
            f"wiring/{path.name} is out of date: run .venv/bin/python -m appliance.ops.wiring_diagram --out wiring"


def texts(svg: str) -> list[tuple[float, float, str]]:
    return [(float(t.get("x")), float(t.get("y")), t.text) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def rows(svg: str) -> dict[str, tuple[float, float]]:
    """Where each header pin's number is drawn: the row of that pin."""
    inside = lambda x: abs(x - wiring_diagram.CENTRE) < 45  # noqa: E731 - the header's box
    return {text: (x, y) for x, y, text in texts(svg) if inside(x) and text.isdigit()}


def moved_site() -> site_config.SiteConfig:
    text = site_config.EXAMPLE.read_text(encoding="utf-8")
    for old, new in (("next = 17", "next = 4"), ('kind = "usb"', 'kind = "serial"'), ("pin = 26", "pin = 18")):
        text = text.replace(old, new, 1)
    return site_config.parse(text)


@pytest.mark.parametrize("site", [SITE, moved_site()], ids=["example", "moved"])
def test_each_label_stands_on_its_pins_row_and_side(site):
    drawings = [(wiring_diagram.kiosk_diagram(site, "kiosco-1", "x"), wiring.kiosk_wires(site, "kiosco-1")),
                (wiring_diagram.desk_diagram(site, "x"), wiring.desk_wires(site)), (wiring_diagram.hub_diagram(site, "x"), wiring.hub_wires())]
    for svg, wires in drawings:
        pins, labels = rows(svg), {text: (x, y) for x, y, text in texts(svg)}
        assert len(pins) == 40
        for wire in wires:
            pin_x, pin_y = pins[str(wire.physical)]
            label_x, label_y = labels[wire.label]
            assert label_y - 1 == pin_y, wire                   # the same row (the label sits 1 px lower)
            assert (label_x < pin_x) == (wire.physical % 2 == 1), wire   # odd pins on the left
        assert sum(1 for _x, _y, text in texts(svg) if text == "GND") == \
            len(wiring.GROUND) + sum(1 for wire in wires if wire.kind in ("button", "light")), "ground marks"


def drawn_width(text_element) -> float:
    """How wide a text element is drawn in DejaVu Sans, the widest of the fonts the diagrams name."""
    bold = "-Bold" if text_element.get("font-weight") == "bold" else ""
    font = ImageFont.truetype(f"/usr/share/fonts/truetype/dejavu/DejaVuSans{bold}.ttf",
                              int(text_element.get("font-size")))
    return font.getlength(text_element.text)


@pytest.mark.parametrize("name", sorted(path.name for path in WIRING.glob("*.svg")))
def test_every_text_of_a_diagram_lies_whole_inside_the_drawing(name):
    svg = ET.fromstring((WIRING / name).read_text(encoding="utf-8"))
    width = float(svg.get("width"))
    for text in svg.iter(f"{SVG}text"):
        x, drawn = float(text.get("x")), drawn_width(text)
        left = {"start": x, "middle": x - drawn / 2, "end": x - drawn}[text.get("text-anchor")]
        assert 0 <= left and left + drawn <= width, (text.text, left, left + drawn)


def test_the_network_note_gives_the_brokers_port_from_the_site_file():
    shown = [text for _x, _y, text in texts(wiring_diagram.kiosk_diagram(SITE, "kiosco-1", "x"))]
    assert "Wired is best; the hub's broker: TLS on port 8883." in shown
    plain = site_config.parse(site_config.EXAMPLE.read_text(encoding="utf-8").replace(
        "port = 8883", "port = 1884\ntls = false"))
    assert "Wired is best; the hub's broker: port 1884." in [
        text for _x, _y, text in texts(wiring_diagram.desk_diagram(plain, "x"))]


def test_the_display_needs_no_pin_and_its_diagram_says_what_it_is_plugged_into():
    svg = wiring_diagram.display_diagram(SITE, "pantalla-1", "x")
    shown = {text for _x, _y, text in texts(svg)}
    assert not rows(svg) and {"Waiting-room TV", "HDMI audio / 3.5 mm jack"} <= shown
    assert any("1920 × 1080, landscape" in text for text in shown)


@pytest.mark.parametrize("page, diagram", [("kiosk.md", "kiosk-kiosco-1.svg"), ("desk.md", "desk.svg"),
                                           ("display.md", "display-pantalla-1.svg"), ("hub.md", "hub.svg")])
def test_each_page_shows_its_diagram(page, diagram):
    text = (WIRING / page).read_text(encoding="utf-8")
    assert re.search(rf"!\[[^\]]+\]\({re.escape(diagram)}\)", text)
