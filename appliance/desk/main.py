"""`turnero desk`: this Pi's desk unit, built from the site file and the command line, run as a service.

With --simulated it runs on mock pins, the counter display's lines go to the log, and the terminal's keys press
the buttons."""
from __future__ import annotations

from contextlib import nullcontext

from appliance import site as site_config
from appliance.core.runtime import serve, state_dir
from appliance.desk.unit import DeskUnit
from appliance.drivers.counter_display import LogCounterDisplay, SerialCounterDisplay
from appliance.drivers.gpio import pin_factory
from appliance.drivers.keys import Key, TerminalKeys, key_help
from appliance.site import SiteConfig


def button_keys(config: SiteConfig) -> list[Key]:
    """n SIGUIENTE, r LLAMAR DE NUEVO, a AUSENTE, t TRASLADAR, p PAUSA, c CERRAR (PAUSA held), 1-5 the pad:
    the buttons this site's desks have."""
    pins, hold = config.desk_pins, config.desk_settings.recall_hold_s + 0.2
    keys = [Key("n", pins.next, "siguiente")]
    keys.append(Key("r", pins.recall, "llamar de nuevo") if pins.recall is not None else
                Key("r", pins.next, "llamar de nuevo (siguiente sostenido)", hold))
    if pins.no_show is not None:
        keys.append(Key("a", pins.no_show, "ausente"))
    if pins.transfer is not None:
        keys.append(Key("t", pins.transfer, "trasladar"))
    if pins.pause is not None:
        keys += [Key("p", pins.pause, "pausa"), Key("c", pins.pause, "cerrar (pausa sostenida)", hold)]
    return keys + [Key(str(value), pin, f"calificar {value}") for value, pin in enumerate(pins.rating, start=1)]


def main(args) -> int:
    config = site_config.load(args.config)
    site_config.require(args.number in config.desks, f"desk {args.number} is not in {args.config}")
    counter = config.desk_settings.counter_display
    display = (SerialCounterDisplay(counter["device"], counter["baudrate"])
               if counter["kind"] == "serial" and not args.simulated else LogCounterDisplay(f"desk {args.number}"))
    pins = pin_factory(args.simulated)
    keys = button_keys(config) if args.simulated else None
    if keys:
        print(key_help(keys), flush=True)
    unit = DeskUnit(config, args.number, state_dir(args.state, "desk"), pin_factory=pins, counter_display=display)
    with TerminalKeys(keys, pins) if keys else nullcontext():
        serve(unit)
    return 0
