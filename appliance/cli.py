"""`turnero`: one command for every role, the demo, the export and the configuration check."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from appliance import site as site_config


def _state_dir(value: str | None, role: str) -> Path:
    """--state, else systemd's StateDirectory, else ./state/ROLE."""
    if value:
        return Path(value)
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return Path("state") / role


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="turnero", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def role(name: str, text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--config", type=Path, default=Path("/etc/turnero/site.toml"),
                         help="site configuration (TOML; default /etc/turnero/site.toml)")
        sub.add_argument("--state", help="state directory (default: $STATE_DIRECTORY or ./state/ROLE)")
        return sub

    role("hub", "run the hub: queue decisions, the record, retained state")
    kiosk = role("kiosk", "run a kiosk: buttons, numbering, printed tickets")
    kiosk.add_argument("--id", required=True, help="kiosk id from the site configuration")
    kiosk.add_argument("--simulated", action="store_true", help="mock pins and a simulated printer")
    desk = role("desk", "run a desk unit: NEXT button, counter display, rating pad")
    desk.add_argument("--number", type=int, required=True, help="desk number from the site configuration")
    desk.add_argument("--simulated", action="store_true", help="mock pins")
    display = role("display", "run a waiting-room display")
    display.add_argument("--id", required=True, help="display id from the site configuration")
    display.add_argument("--windowed", action="store_true", help="a window instead of full screen")

    export = role("export", "write the CSV of turns for a date range")
    export.add_argument("--from", dest="first", type=_day, help="first day (YYYY-MM-DD; default: the site's today)")
    export.add_argument("--to", dest="last", type=_day, default=None, help="last day (default: --from)")
    export.add_argument("--out", type=Path, required=True, help="CSV file to write")
    export.add_argument("--delimiter", default=";", help="cell delimiter (default ';' for Spanish Excel)")

    report = role("report", "write the Informe Turnero (HTML with charts) for a date range")
    report.add_argument("--from", dest="first", type=_day, help="first day (YYYY-MM-DD; default: the site's today)")
    report.add_argument("--to", dest="last", type=_day, default=None, help="last day (default: --from)")
    report.add_argument("--out", type=Path, required=True, help="HTML file to write")
    commands.add_parser("web-password", help="make a password_hash for [[web.users]]")

    check = commands.add_parser("check", help="validate a site configuration")
    check.add_argument("--config", type=Path, required=True)
    broker_files = commands.add_parser("broker-files", help="make the hub's Mosquitto users, passwords and ACL")
    broker_files.add_argument("--config", type=Path, required=True)
    broker_files.add_argument("--out", type=Path, default=Path("/etc/turnero/broker"),
                              help="where to write them (default /etc/turnero/broker)")

    install = commands.add_parser("install", help="set this Pi up for a role: user, files, systemd unit, time",
                                  description="Installs a role on this Pi (see docs/install.md); safe to run again.")
    uninstall = commands.add_parser("uninstall", help="stop a role and remove what install put on this Pi")
    for sub in (install, uninstall):
        sub.add_argument("--role", required=True, choices=("hub", "kiosk", "desk", "display"))
        sub.add_argument("--id", help="kiosk or display id from the site configuration")
        sub.add_argument("--number", type=int, help="desk number from the site configuration")
        sub.add_argument("--dry-run", action="store_true", help="print every step, change nothing")
        sub.add_argument("--root", type=Path, help="write the files under this folder and run no system command "
                                                   "(tests, preparing an image)")
    install.add_argument("--config", type=Path, required=True, help="the site configuration to install")
    install.add_argument("--credential", type=Path, help="this device's MQTT credential file, made on the hub")
    uninstall.add_argument("--purge", action="store_true", help="also delete the role's state (records, counters)")

    demo = commands.add_parser("demo", help="the whole system on this machine with simulated hardware")
    demo.add_argument("--headless", action="store_true", help="no window: run a scripted morning and exit")
    demo.add_argument("--seconds", type=float, default=30, help="length of the headless morning (default 30)")
    demo.add_argument("--out", type=Path, default=Path("demo-out"), help="where tickets, screenshots and the CSV go")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from appliance.ops.broker_files import BrokerFilesError
    from appliance.drivers.gpio import NoPinsError
    from appliance.kiosk.numbering import CounterError
    try:
        return _run(args)
    except (site_config.ConfigError, NoPinsError, CounterError, BrokerFilesError) as exc:
        print(f"turnero {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    if args.command == "demo":
        from appliance.dev.demo import run_demo
        return run_demo(headless=args.headless, seconds=args.seconds, out=args.out)
    if args.command == "web-password":
        from hub.web import password_prompt
        return password_prompt()
    if args.command in ("install", "uninstall"):
        from appliance.ops.install import main as install_main
        return install_main(args)
    config = site_config.load(args.config)
    if args.command in ("export", "report"):
        args.first = args.first or config.today()
    if args.command == "report":
        from hub.report import write_report
        from hub.store import DayStore
        built = write_report(args.out, DayStore(_state_dir(args.state, "hub") / "days"), args.first,
                             args.last or args.first, config)
        print(f"{args.out}: {built.total.turns} turn(s)")
        return 0
    if args.command == "broker-files":
        from appliance.ops.broker_files import write_broker_files
        print(write_broker_files(config, args.out).report(config.broker.credentials_dir))
        return 0
    if args.command == "check":
        print(f"{args.config}: valid ({len(config.services)} services, {len(config.kiosks)} kiosk(s), "
              f"{len(config.desks)} desks, {len(config.displays)} display(s))")
        return 0
    if args.command == "export":
        from hub.export import rows, write_csv
        from hub.store import DayStore
        store = DayStore(_state_dir(args.state, "hub") / "days")
        names = {letter: service.name for letter, service in config.services.items()}
        count = write_csv(args.out, rows(store, args.first, args.last or args.first, names), args.delimiter)
        print(f"{args.out}: {count} turn(s)")
        return 0
    return _serve_role(args, config)


def _serve_role(args, config) -> int:
    from appliance.drivers.gpio import pin_factory
    from appliance.core.runtime import serve
    state = _state_dir(args.state, args.command)
    if args.command == "hub":
        from hub.service import Hub
        from hub.web import CoordinatorsWeb, WebError
        unit = Hub(config, state, config_path=args.config)
        web = CoordinatorsWeb(config, state, host="0.0.0.0", port=config.web.port)
        try:
            web.start()
        except WebError as exc:  # e.g. the port is taken: the hub keeps deciding without its page
            logging.getLogger(__name__).error("%s", exc)
        try:
            serve(unit)
        finally:
            web.stop()
        return 0
    elif args.command == "kiosk":
        from appliance.kiosk.unit import KioskUnit
        _require(args.id in config.kiosks, f"kiosk {args.id!r} is not in {args.config}")
        printer = None
        if args.simulated:
            from appliance.drivers.printer import SimulatedPrinter
            printer = SimulatedPrinter()
        unit = KioskUnit(config, args.id, state, pin_factory=pin_factory(args.simulated), printer=printer)
    elif args.command == "desk":
        from appliance.desk.unit import DeskUnit
        _require(args.number in config.desks, f"desk {args.number} is not in {args.config}")
        from appliance.drivers.counter_display import LogCounterDisplay, SerialCounterDisplay
        counter = config.desk_settings.counter_display
        display = (SerialCounterDisplay(counter["device"], counter["baudrate"])
                   if counter["kind"] == "serial" and not args.simulated else LogCounterDisplay(f"desk {args.number}"))
        unit = DeskUnit(config, args.number, state, pin_factory=pin_factory(args.simulated),
                        counter_display=display)
    else:
        from appliance.display.unit import DisplayUnit
        from appliance.drivers.sound import Announcer, EspeakSpeaker, SilentSpeaker
        from appliance.screens.window import Screen
        _require(args.id in config.displays, f"display {args.id!r} is not in {args.config}")
        settings = config.displays[args.id]
        speaker = EspeakSpeaker(volume=settings.volume) if settings.voice else SilentSpeaker()
        unit = DisplayUnit(config, args.id, state_dir=state,
                           screen=Screen(settings.size, fullscreen=not args.windowed),
                           announcer=Announcer(speaker))
    serve(unit)
    return 0


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise site_config.ConfigError("command line", [message])
