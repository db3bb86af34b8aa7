"""`turnero kiosk`: this Pi's kiosk, built from the site file and the command line, run as a service."""
from __future__ import annotations

from appliance import site as site_config
from appliance.core.runtime import serve, state_dir
from appliance.drivers.gpio import pin_factory
from appliance.kiosk.unit import KioskUnit


def main(args) -> int:
    config = site_config.load(args.config)
    site_config.require(args.id in config.kiosks, f"kiosk {args.id!r} is not in {args.config}")
    printer = None
    if args.simulated:
        from appliance.drivers.printer import SimulatedPrinter
        printer = SimulatedPrinter()
    serve(KioskUnit(config, args.id, state_dir(args.state, "kiosk"), pin_factory=pin_factory(args.simulated),
                    printer=printer))
    return 0
