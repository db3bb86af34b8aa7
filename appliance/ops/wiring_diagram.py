"""Wiring diagrams as SVG, drawn from the pin map of a site configuration (appliance/ops/wiring.py).

    python -m appliance.ops.wiring_diagram [--config site.toml] --out DIR

writes one diagram per Pi: kiosk-<id>.svg, desk.svg, display-<id>.svg and hub.svg. The ones in wiring/ are
drawn from the example configuration and a test draws them again: a pin changed in the example without
redrawing fails. SVG for the same reasons as appliance/report/charts.py: a browser draws the text with its own fonts
(accents right, sharp when zoomed or printed), the file is small text, and a diff shows what moved.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from html import escape
from pathlib import Path

from appliance import site as site_config
from appliance.core.durable import write_atomic
from appliance.ops import wiring

SVG_WIDTH = 1120
CENTRE = SVG_WIDTH // 2
PITCH = 26                      # between two rows of the header
INK, MUTED, PAPER, BOX = "#1a202c", "#4a5568", "#ffffff", "#edf2f7"
COLOURS = {"button": "#2b6cb0", "light": "#2f855a", "uart": "#6b46c1", "i2c": "#2c7a7b"}
SUPPLY = {"GND": ("GND", INK), "3V3": ("3.3 V", "#dd6b20"), "5V": ("5 V", "#c53030")}
UNUSED = "#cbd5e0"
_FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"'
CHAR_EM = 0.55                  # DejaVu Sans: a little more than its mean width per character, in ems
LABEL_ROOM = CENTRE - 222 - 12  # from a pin's label to the drawing's edge, with a margin

BUTTON_NOTE = ("Button: GPIO → button → any GND pin. The Pi's internal pull-up holds the pin high; no resistor. "
               "Long cable (over 2 m): 10 kΩ to 3.3 V and 100 nF to GND at the Pi.")
LIGHT_NOTE = (f"Light: GPIO → {wiring.RESISTOR_OHMS} Ω → LED anode (long leg), cathode → GND: about 4 mA. "
              "GPIOs are 3.3 V only: never wire 5 V to one.")
HEADER_NOTE = ("Pin 1 has the square pad, at the end of the header away from the USB ports; even pins run along "
               "the board's edge. The same header on a Pi 3B+, 4 and 5.")


@dataclass(frozen=True)
class Connection:
    """A connection off the GPIO header: the Pi's port, the part at the other end, and what to know."""
    port: str
    part: str
    note: tuple[str, ...]


def _fitting(text: str, room: int, size: int = 13) -> int:
    """The largest font size, from `size` down to 9, at which the text fits `room` pixels (a generous estimate of
    DejaVu Sans, the widest of the fonts a browser may use here): a long label is smaller, never cut."""
    while size > 9 and len(text) * size * CHAR_EM > room:
        size -= 1
    return size


def _text(x: int, y: int, text: str, *, size: int = 12, anchor: str = "start", fill: str = INK,
          bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{weight}>'
            f"{escape(text)}</text>")


def _line(x1: int, y1: int, x2: int, y2: int, colour: str = INK, width: int = 2) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="{width}"/>'


def _chain(wire: wiring.Wire, start: int, y: int, d: int) -> list[str]:
    """What hangs on a used pin, drawn outwards (d = -1 leftwards, +1 rightwards) from x = start."""
    at = lambda offset: start + d * offset  # noqa: E731
    colour = COLOURS[wire.kind] if wire.bcm is not None else SUPPLY[wiring.HEADER[wire.physical]][1]
    ground = _text(at(74), y + 4, "GND", size=10, anchor="start" if d > 0 else "end", fill=MUTED)
    if wire.kind == "button":
        return [_line(at(0), y, at(35), y), _line(at(53), y, at(70), y),
                f'<circle cx="{at(44)}" cy="{y}" r="9" fill="{colour}" stroke="{INK}"/>',
                f'<circle cx="{at(44)}" cy="{y}" r="5" fill="none" stroke="{PAPER}" stroke-width="1.5"/>', ground]
    if wire.kind == "light":
        tip = (f"{at(56)},{y - 7} {at(56)},{y + 7} {at(68)},{y}")
        return [_line(at(0), y, at(8), y), _line(at(46), y, at(56), y), _line(at(68), y, at(70), y),
                f'<rect x="{min(at(8), at(46))}" y="{y - 7}" width="38" height="14" fill="{PAPER}" stroke="{INK}"/>',
                _text(at(27), y + 4, f"{wiring.RESISTOR_OHMS} Ω", size=9, anchor="middle"),
                f'<polygon points="{tip}" fill="{colour}" stroke="{INK}"/>', _line(at(68), y - 7, at(68), y + 7),
                ground]
    return [_line(at(0), y, at(90), y, colour), f'<circle cx="{at(90)}" cy="{y}" r="4" fill="{colour}"/>']


def _header(wires: list[wiring.Wire], top: int) -> list[str]:
    """The 40-pin header, pin 1 at the top left, with each used pin's part and label beside it."""
    used = {wire.physical: wire for wire in wires}
    parts = [f'<rect x="{CENTRE - 45}" y="{top - 16}" width="90" height="{19 * PITCH + 32}" rx="6" fill="#2d3748"/>']
    for number, name in wiring.HEADER.items():
        odd = number % 2 == 1
        d, x, y = (-1 if odd else 1), CENTRE + (-20 if odd else 20), top + (number - 1) // 2 * PITCH
        wire = used.get(number)
        shown, fill = SUPPLY.get(name, (name, UNUSED))
        if wire is not None and wire.bcm is not None:
            fill = COLOURS[wire.kind]
        ink = INK if fill == UNUSED else PAPER
        if number == 1:
            parts.append(f'<rect x="{x - 10}" y="{y - 10}" width="20" height="20" fill="{fill}" stroke="{PAPER}"/>')
        else:
            parts.append(f'<circle cx="{x}" cy="{y}" r="10" fill="{fill}" stroke="{PAPER}"/>')
        parts.append(_text(x, y + 4, str(number), size=10, anchor="middle", fill=ink, bold=True))
        anchor = "end" if odd else "start"
        parts.append(_text(CENTRE + d * 52, y + 4, shown, anchor=anchor, fill=INK if wire else MUTED,
                           bold=wire is not None))
        if wire is not None:
            parts += _chain(wire, CENTRE + d * 108, y, d)
            parts.append(_text(CENTRE + d * 222, y + 5, wire.label, size=_fitting(wire.label, LABEL_ROOM),
                               anchor=anchor))
    return parts


def _connection_rows(connections: list[Connection], top: int) -> list[str]:
    parts = [_text(40, top, "Connections", size=15, bold=True)]
    for i, connection in enumerate(connections):
        y = top + 22 + i * 50
        parts += [f'<rect x="40" y="{y}" width="230" height="32" rx="4" fill="{BOX}" stroke="{MUTED}"/>',
                  _text(155, y + 21, connection.port, anchor="middle", bold=True),
                  _line(270, y + 16, 312, y + 16),
                  f'<polygon points="312,{y + 11} 322,{y + 16} 312,{y + 21}" fill="{INK}"/>',
                  f'<rect x="322" y="{y}" width="330" height="32" rx="4" fill="{PAPER}" stroke="{INK}"/>',
                  _text(487, y + 21, connection.part, anchor="middle", bold=True)]
        parts += [_text(670, y + 13 + j * 16, line, fill=MUTED) for j, line in enumerate(connection.note)]
    return parts


def draw(title: str, subtitle: str, wires: list[wiring.Wire], connections: list[Connection], notes: list[str],
         source: str) -> str:
    """The whole diagram: title, the header with its wires (when any), the connections, the notes."""
    body = [_text(40, 36, title, size=20, bold=True), _text(40, 60, subtitle, size=13, fill=MUTED)]
    y = 90
    if wires:
        body += _header(wires, y + 20)
        y += 20 + 19 * PITCH + 50
    body += _connection_rows(connections, y + 10)
    y += 10 + 22 + len(connections) * 50 + 14
    for note in notes:
        body.append(_text(40, y, note, fill=INK))
        y += 20
    body.append(_text(40, y + 12, f"Drawn by appliance/ops/wiring_diagram.py from {source}: draw again after "
                                  "changing a pin.", size=11, fill=MUTED))
    height = y + 30
    return "\n".join([f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {height}" width="{SVG_WIDTH}" '
                      f'height="{height}" {_FONT}>', f"<title>{escape(title)}</title>",
                      f'<rect width="{SVG_WIDTH}" height="{height}" fill="{PAPER}"/>', *body, "</svg>", ""])


# --- the four roles ----------------------------------------------------------------------------------

def _network(config: site_config.SiteConfig) -> Connection:
    broker = config.broker
    link = f"TLS on port {broker.port}" if broker.ca_file is not None else f"port {broker.port}"
    return Connection("Ethernet", "Site network switch", (f"Wired is best; the hub's broker: {link}.",))


def _power(extra: str) -> Connection:
    return Connection("USB-C power", "5 V supply: 3 A (Pi 4), 5 A (Pi 5)", (extra,))


def kiosk_diagram(config: site_config.SiteConfig, kiosk_id: str, source: str) -> str:
    printer = config.kiosks[kiosk_id].printer
    kind = printer.get("kind")
    if wiring.printer_on_header(config, kiosk_id):
        device = printer.get("device", site_config.HEADER_UARTS[0])
        printer_cable = Connection("GPIO14/15 (pins 8, 10)", "MAX3232 → printer's RS-232 port",
                                   (f"{device}, {printer.get('baudrate', 9600)} baud 8N1;",
                                    "a TTL printer connects directly (TX→RX, RX←TX)."))
    elif kind == "serial":
        printer_cable = Connection("USB", "USB-RS-232 adapter → printer",
                                   (f"{printer.get('device')}, {printer.get('baudrate', 9600)} baud 8N1.",))
    elif kind == "network":
        printer_cable = Connection("Ethernet (switch)", "Thermal printer (ESC/POS)",
                                   (f"{printer.get('host')}:{printer.get('port', 9100)}, fixed IP.",))
    elif kind == "usb":
        printer_cable = Connection("USB", f"Thermal printer {printer.get('profile', '')}".strip(),
                                   (f"USB id {printer.get('vendor_id', 0):04x}:{printer.get('product_id', 0):04x}: a "
                                    "udev rule gives group lp access.",))
    else:
        printer_cable = Connection("—", "No printer (simulated)", (f"printer kind {kind!r} in the configuration.",))
    connections = [printer_cable,
                   Connection("Mains", "Printer's own supply (24 V)", ("Never powered from the Pi; USB or the RS-232",
                                                                       "ground joins the two grounds.")),
                   _network(config), _power("Official supply: a weak one makes the Pi reset while printing.")]
    buttons = sum(1 for wire in wiring.kiosk_wires(config, kiosk_id) if wire.kind == "button")
    return draw(f"Kiosk {kiosk_id}: {buttons} buttons, status light, printer",
                "BCM numbers from [[kiosks.buttons]] and status_led of the site configuration.",
                wiring.kiosk_wires(config, kiosk_id), connections, [BUTTON_NOTE, LIGHT_NOTE, HEADER_NOTE], source)


def desk_diagram(config: site_config.SiteConfig, source: str) -> str:
    counter = config.desk_settings.counter_display
    if counter["kind"] == "serial":
        display = Connection("USB", "USB-RS-232 adapter → CD5220 display",
                             (f"{counter['device']}, {counter['baudrate']} baud 8N1, CD5220 command set;",
                              "the display has its own 12 V supply."))
    else:
        display = Connection("—", "No counter display", ("[desk] counter kind \"none\".",))
    connections = [display, _network(config), _power("The rating pad's LEDs take a few mA each from the GPIOs.")]
    return draw("Desk unit: advisor's buttons, status light, rating pad",
                "BCM numbers from [desk_pins] of the site configuration: the same wiring on every desk.",
                wiring.desk_wires(config), connections, [BUTTON_NOTE, LIGHT_NOTE, HEADER_NOTE], source)


def display_diagram(config: site_config.SiteConfig, display_id: str, source: str) -> str:
    screen = config.displays[display_id]
    width, height = screen.size
    orientation = "portrait" if screen.portrait else "landscape"
    voice = f"voice on, volume {screen.volume} %" if screen.voice else "voice off in the configuration"
    connections = [Connection("HDMI 0 (next to USB-C)", "Waiting-room TV",
                              (f"{width} × {height}, {orientation}; TV on its HDMI input,", "overscan off.")),
                   Connection("HDMI audio / 3.5 mm jack", "TV speakers, or amplifier + speaker",
                              (f"{voice};", "Pi 5: no jack, HDMI or USB audio.")),
                   _network(config), _power("The TV has its own mains supply.")]
    return draw(f"Display {display_id}: the waiting-room TV",
                "No GPIO pin used: HDMI, sound, network and power.", wiring.display_wires(), connections,
                ["pygame draws straight on KMS/DRM (SDL_VIDEODRIVER=kmsdrm): no desktop is installed or needed.",
                 "Sound follows the HDMI cable to the TV; for a separate speaker: the Pi 4's jack or a USB adapter."],
                source)


def hub_diagram(config: site_config.SiteConfig, source: str) -> str:
    network = (f"Fixed IP address; every Pi reaches its broker (TLS, {config.broker.port})",
               f"and coordinators its web page (HTTPS, {config.web.port}).")
    clock = ("Keeps the site's time through a power cut:", "dtoverlay=i2c-rtc,ds3231 in config.txt.")
    connections = [Connection("Ethernet", "Site network switch", network),
                   Connection("Pins 1, 3, 5, 9", "DS3231 RTC module (CR2032)", clock),
                   _power("A small UPS (or a UPS HAT) rides through short cuts.")]
    return draw("Hub: network and a battery-backed clock",
                "A Pi has no clock battery and the hub gives the site its time: add an RTC (or a Pi 5's battery).",
                wiring.hub_wires(), connections,
                ["DS3231: VCC to 3.3 V (pin 1), never 5 V; SDA to pin 3, SCL to pin 5, GND to pin 9. The Pi's I2C "
                 "pull-ups are on the board.", HEADER_NOTE], source)


def write_all(config: site_config.SiteConfig, out: Path, source: str) -> list[Path]:
    """Draws every role of the site into `out`; returns the files written."""
    drawings = {f"kiosk-{kiosk_id}.svg": kiosk_diagram(config, kiosk_id, source) for kiosk_id in config.kiosks}
    drawings["desk.svg"] = desk_diagram(config, source)
    drawings |= {f"display-{display_id}.svg": display_diagram(config, display_id, source)
                 for display_id in config.displays}
    drawings["hub.svg"] = hub_diagram(config, source)
    out.mkdir(parents=True, exist_ok=True)
    for name, svg in drawings.items():
        write_atomic(out / name, svg.encode("utf-8"))
    return [out / name for name in drawings]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw the wiring diagrams of a site configuration.")
    parser.add_argument("--config", type=Path, default=site_config.EXAMPLE)
    parser.add_argument("--out", type=Path, required=True, help="folder for the SVG files (a checkout's: wiring/)")
    args = parser.parse_args(argv)
    for path in write_all(site_config.load(args.config), args.out, args.config.name):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
