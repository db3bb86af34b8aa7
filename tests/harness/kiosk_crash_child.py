"""Run by test_kiosk.py in a child process: issue one ticket and SIGKILL itself at the step it is told.

    python kiosk_crash_child.py STATE_DIR STEP MOMENT

The steps are the moments of issuing where a power cut could land: right after the number is on disk, in
the middle of printing, after printing but before the event is in the outbox, and after the outbox but before
the number is settled.
"""
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.dev.always_open import AlwaysOpen
from appliance.drivers.printer import SimulatedPrinter
from appliance.kiosk import unit as kiosk_module


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def main(state_dir: str, step: str, moment: str) -> None:
    config = site_config.load(site_config.EXAMPLE)
    at = datetime.fromisoformat(moment)  # the parent's clock: both sides number the same service day
    unit = kiosk_module.KioskUnit(config, "kiosco-1", Path(state_dir), pin_factory=MockFactory(),
                                  printer=SimulatedPrinter(), opening=AlwaysOpen(), now=lambda: at)
    unit._settle_pending()
    if step == "after_take":
        take = unit.numbering.take
        unit.numbering.take = lambda *a: (take(*a), die())
    elif step == "while_printing":
        kiosk_module.print_ticket = lambda printer, *_: (printer._raw(b"\x1b@half a ticket"), die())
    elif step == "after_print":
        unit.link.send = lambda *a: die()
    elif step == "after_outbox":
        unit.numbering.settle = die
    unit.issue(config.kiosks["kiosco-1"].buttons[0])
    print("issued without dying", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
