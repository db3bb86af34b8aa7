"""What is wired to which pin of each role's Raspberry Pi, derived from the site configuration.

This is the one pin map behind the wiring pages: their tables and diagrams (appliance/ops/wiring_diagram.py) are
checked against it, and it reads the same keys the roles give gpiozero ([[kiosks.buttons]], status_led,
[desk_pins]). Physical pin numbers come from gpiozero's own board data, so the pages name the header
position of the very pin the code drives. The 40-pin header is the same on every Pi since the B+ (3, 4, 5).
"""
from __future__ import annotations

from dataclasses import dataclass

from gpiozero.pins.pi import PiBoardInfo

from appliance.desk.rating import LABELS as RATING_LABELS
from appliance.site import HEADER_UARTS, UART_PINS, SiteConfig

# Physical pin -> what is there: "GPIO17", "GND", "3V3" or "5V" (a Raspberry Pi 5's J8 header).
HEADER = dict(sorted((pin.number, pin.name) for pin in PiBoardInfo.from_revision(0xd04170).headers["J8"].pins.values()))
GROUND = tuple(number for number, name in HEADER.items() if name == "GND")
RESISTOR_OHMS = 330   # an LED's series resistor: (3.3 V - ~2 V forward) / 330 Ω ≈ 4 mA, a GPIO's safe few mA


@dataclass(frozen=True)
class Wire:
    label: str          # as in the page's pin table: "NEXT button", "Salud", "status light"
    kind: str           # "button" | "light" | "uart" | "i2c" | "power"
    bcm: int | None     # None for a supply pin
    physical: int


def physical(bcm: int) -> int:
    """The header position of GPIO `bcm`: physical(17) == 11."""
    return next(number for number, name in HEADER.items() if name == f"GPIO{bcm}")


def _gpio(label: str, kind: str, bcm: int) -> Wire:
    return Wire(label, kind, bcm, physical(bcm))


def _supply(label: str, name: str) -> Wire:
    """The first header pin carrying `name` ("3V3"), for a module's supply."""
    return Wire(label, "power", None, min(n for n, pin in HEADER.items() if pin == name))


def kiosk_wires(config: SiteConfig, kiosk_id: str) -> list[Wire]:
    """A kiosk's service buttons in configuration order, its status light, and the header UART when its
    printer is on it (through a MAX3232 for an RS-232 printer)."""
    unit = config.kiosks[kiosk_id]
    wires = []
    for button in unit.buttons:
        name = config.services[button.service].name
        if button.preferential:
            name = f"{name} ({button.kind})"
        wires.append(_gpio(name, "button", button.pin))
    if unit.status_led is not None:
        wires.append(_gpio("status light", "light", unit.status_led))
    if printer_on_header(config, kiosk_id):
        tx, rx = UART_PINS
        wires += [_gpio("printer TX (to MAX3232 T1IN)", "uart", tx),
                  _gpio("printer RX (from MAX3232 R1OUT)", "uart", rx), _supply("MAX3232 VCC (3.3 V)", "3V3"),
                  Wire("MAX3232 GND", "power", None, GROUND[0])]
    return wires


def printer_on_header(config: SiteConfig, kiosk_id: str) -> bool:
    printer = config.kiosks[kiosk_id].printer
    return printer.get("kind") == "serial" and printer.get("device", HEADER_UARTS[0]) in HEADER_UARTS


def desk_wires(config: SiteConfig) -> list[Wire]:
    """A desk unit's pins (the same on every desk): the advisor's buttons, the status light, the rating pad."""
    pins = config.desk_pins
    wires = [_gpio("NEXT button", "button", pins.next)]
    wires += [_gpio(label, "button", pin) for label, pin in (("RECALL button", pins.recall),
                                                             ("NO-SHOW button", pins.no_show),
                                                             ("TRANSFER button", pins.transfer),
                                                             ("PAUSE button", pins.pause)) if pin is not None]
    wires.append(_gpio("status light", "light", pins.status_led))
    wires += [_gpio(f"rating {value} button ({RATING_LABELS[value]})", "button", pin)
              for value, pin in enumerate(pins.rating, start=1)]
    wires += [_gpio(f"rating {value} light", "light", pin) for value, pin in enumerate(pins.rating_leds, start=1)]
    return wires


def hub_wires() -> list[Wire]:
    """The hub's battery-backed clock, a DS3231 module on I2C bus 1 (fixed pins, `dtoverlay=i2c-rtc,ds3231`)."""
    return [_supply("RTC VCC (3.3 V)", "3V3"), _gpio("RTC SDA", "i2c", 2), _gpio("RTC SCL", "i2c", 3),
            Wire("RTC GND", "power", None, GROUND[1])]


def display_wires() -> list[Wire]:
    """The display uses no header pin: HDMI, sound, network and power only."""
    return []
