"""`turnero desk`: this Pi's desk unit, built from the site file and the command line, run as a service."""
from __future__ import annotations

from appliance import site as site_config
from appliance.core.runtime import serve, state_dir
from appliance.desk.unit import DeskUnit
from appliance.drivers.counter_display import LogCounterDisplay, SerialCounterDisplay
from appliance.drivers.gpio import pin_factory


def main(args) -> int:
    config = site_config.load(args.config)
    site_config.require(args.number in config.desks, f"desk {args.number} is not in {args.config}")
    counter = config.desk_settings.counter_display
    display = (SerialCounterDisplay(counter["device"], counter["baudrate"])
               if counter["kind"] == "serial" and not args.simulated else LogCounterDisplay(f"desk {args.number}"))
    serve(DeskUnit(config, args.number, state_dir(args.state, "desk"), pin_factory=pin_factory(args.simulated),
                   counter_display=display))
    return 0
