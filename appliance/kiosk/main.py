"""`turnero kiosk`: this Pi's kiosk, built from the site file and the command line, run as a service.

With --simulated it runs on mock pins with a simulated printer that keeps each ticket in the state folder
(`tickets/*.bin`, the ESC/POS bytes, and `tickets/*.png`, a picture of the paper), and the terminal's keys press
the buttons."""
from __future__ import annotations

from contextlib import nullcontext

from appliance import site as site_config
from appliance.core.runtime import serve, state_dir
from appliance.drivers.gpio import pin_factory
from appliance.drivers.keys import Key, TerminalKeys, free_key, key_help
from appliance.kiosk.unit import KioskUnit
from appliance.site import SiteConfig


def button_keys(config: SiteConfig, kiosk_id: str) -> list[Key]:
    """A key for each button: its number prefix in lower case ("r" for Registro y Aportes) where it is free."""
    keys: list[Key] = []
    for button in config.kiosks[kiosk_id].buttons:
        what = config.services[button.service].name + (f" ({button.kind})" if button.preferential else "")
        keys.append(Key(free_key(button.prefix.lower(), {key.key for key in keys}), button.pin, what))
    return keys


def code_reader(device: str | None, simulated: bool):
    """The maker of the kiosk's QR reader: the device's, a simulated one (which only the demo and tests type
    into), or None."""
    if device is None:
        return None
    if simulated or device == "simulated":
        from appliance.drivers.reader import SimulatedReader
        return SimulatedReader
    from appliance.drivers.reader import CodeReader
    return lambda on_code: CodeReader(device, on_code)


def main(args) -> int:
    config = site_config.load(args.config)
    site_config.require(args.id in config.kiosks, f"kiosk {args.id!r} is not in {args.config}")
    state, pins = state_dir(args.state, "kiosk"), pin_factory(args.simulated)
    printer = keeper = keys = None
    if args.simulated:
        from appliance.drivers.printer import SimulatedPrinter
        from appliance.kiosk.preview import TicketKeeper

        printer, keeper = SimulatedPrinter(), TicketKeeper(state / "tickets")
        keys = button_keys(config, args.id)
        print(key_help(keys), flush=True)
    unit = KioskUnit(config, args.id, state, pin_factory=pins, printer=printer, on_printed=keeper,
                     reader=code_reader(config.kiosks[args.id].reader, args.simulated))
    with TerminalKeys(keys, pins) if keys else nullcontext():
        serve(unit)
    return 0
