"""No pin does two jobs on one Pi, and a serial printer on the header's UART keeps GPIO14 and GPIO15 to itself."""
import pytest

from appliance import site as site_config
from appliance.ops import wiring

EXAMPLE = site_config.EXAMPLE.read_text(encoding="utf-8")
SITE = site_config.load(site_config.EXAMPLE)


def site(*edits: tuple[str, str]) -> site_config.SiteConfig:
    text = EXAMPLE
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    return site_config.parse(text)


def roles(site: site_config.SiteConfig) -> dict[str, list[wiring.Wire]]:
    pins = {f"kiosk {kiosk_id}": wiring.kiosk_wires(site, kiosk_id) for kiosk_id in site.kiosks}
    return pins | {"desk": wiring.desk_wires(site), "hub": wiring.hub_wires()}


@pytest.mark.parametrize("example", [SITE, site(('kind = "usb"', 'kind = "serial"'))], ids=["usb", "serial"])
def test_no_pin_is_used_twice_on_any_pi(example):
    for role, wires in roles(example).items():
        physical = [wire.physical for wire in wires]
        assert len(physical) == len(set(physical)), role


def test_the_kiosks_leave_the_printers_serial_pins_free():
    for kiosk_id in SITE.kiosks:
        assert not {wire.bcm for wire in wiring.kiosk_wires(SITE, kiosk_id)} & set(site_config.UART_PINS), kiosk_id


def test_a_serial_printer_on_the_header_takes_pins_8_and_10_and_its_converter_pins_1_and_6():
    serial = site(('kind = "usb"', 'kind = "serial"'))
    wires = {wire.label: (wire.bcm, wire.physical) for wire in wiring.kiosk_wires(serial, "kiosco-1")}
    assert wires["printer TX (to MAX3232 T1IN)"] == (14, 8) and wires["printer RX (from MAX3232 R1OUT)"] == (15, 10)
    assert wires["MAX3232 VCC (3.3 V)"] == (None, 1) and wires["MAX3232 GND"] == (None, 6)
    on_adapter = site(('kind = "usb"', 'kind = "serial"\ndevice = "/dev/ttyUSB0"'))
    assert not any(wire.kind == "uart" for wire in wiring.kiosk_wires(on_adapter, "kiosco-1"))


@pytest.mark.parametrize("device", ["/dev/serial0", "/dev/ttyAMA0"])
def test_a_button_on_the_serial_printers_pin_is_refused(device):
    with pytest.raises(site_config.ConfigError) as error:
        site(('kind = "usb"', f'kind = "serial"\ndevice = "{device}"'), ("pin = 26", "pin = 15"))
    assert f"kiosks[1]: GPIO15 carries the serial printer on {device}" in str(error.value)


def test_gpio14_is_free_for_a_button_when_the_printer_is_on_usb():
    kiosk = site(("pin = 26", "pin = 14")).kiosks["kiosco-1"]
    assert kiosk.buttons[6].pin == 14 and kiosk.printer["kind"] == "usb"


def test_a_status_light_on_a_buttons_pin_is_refused():
    with pytest.raises(site_config.ConfigError) as error:
        site(("status_led = 21", "status_led = 19"))
    assert "kiosks[1].status_led: GPIO19 is also a button's pin" in str(error.value)
