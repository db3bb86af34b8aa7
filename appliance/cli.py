"""`turnero`: one command for every role, the demo, the export and the configuration check.

This module only reads the command line; each command is handed to its package's main (HANDLERS)."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from datetime import date
from pathlib import Path

from appliance import site as site_config


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
    role("mi-turno", "run the citizens' \"Mi turno\" page on the hub, for the guest Wi-Fi ([public] listen)")
    kiosk = role("kiosk", "run a kiosk: buttons, numbering, printed tickets")
    kiosk.add_argument("--id", required=True, help="kiosk id from the site configuration")
    kiosk.add_argument("--simulated", action="store_true",
                       help="mock pins pressed by this terminal's keys, a simulated printer that keeps each ticket "
                            "in the state folder (tickets/*.bin and *.png)")
    desk = role("desk", "run a desk unit: NEXT button, counter display, rating pad")
    desk.add_argument("--number", type=int, required=True, help="desk number from the site configuration")
    desk.add_argument("--simulated", action="store_true", help="mock pins pressed by this terminal's keys")
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
    web_user = role("web-user", "the coordinators' accounts of the page, on the hub (read at once, no restart)")
    web_user.add_argument("action", choices=("list", "add", "passwd", "remove"))
    web_user.add_argument("name", nargs="?", help="the account's user name")
    web_user.add_argument("--password-stdin", action="store_true",
                          help="read the password from standard input's first line instead of asking twice")

    ship = role("ship", "ship the hub's record to the organisation's central ([central] in the site file)")
    ship.add_argument("--days", type=Path, default=Path("/var/lib/turnero/hub/days"),
                      help="the hub's journals (default /var/lib/turnero/hub/days)")

    central = commands.add_parser("central", help="the organisation's central: every site's record in PostgreSQL",
                                  description="The central (docs/central.md).")
    central_actions = central.add_subparsers(dest="action", required=True, metavar="ACTION")

    def central_action(name: str, text: str) -> argparse.ArgumentParser:
        sub = central_actions.add_parser(name, help=text, description=text)
        sub.add_argument("--config", type=Path, default=Path("/etc/turnero/central.toml"),
                         help="the central's file (default /etc/turnero/central.toml)")
        return sub

    central_action("serve", "store every site's record as it arrives, and serve the coordinators' page (the service)")
    central_action("mi-turno", "serve the \"Mi turno\" page of the sites whose hub does not ([public] in "
                               "central.toml)")
    central_user = central_action("user", "the accounts of the central's page and the sites each may see")
    central_user.add_argument("action_of_user", metavar="ACTION", choices=("list", "add", "passwd", "remove"),
                              help="list, add, passwd or remove")
    central_user.add_argument("name", nargs="?", help="the account's user name")
    seen = central_user.add_mutually_exclusive_group()
    seen.add_argument("--sites", help="with add: the only sites this user sees, by id (cali,palmira)")
    seen.add_argument("--all", action="store_true", help="with add: every site, today's and future ones")
    central_user.add_argument("--password-stdin", action="store_true",
                              help="read the password from standard input's first line")
    central_action("status", "each site: its bridge, what it has sent and still has to send, its versions")
    central_export = central_action("export", "the CSV of every site's turns for a date range")
    central_export.add_argument("--from", dest="first", type=_day, required=True, help="first day (YYYY-MM-DD)")
    central_export.add_argument("--to", dest="last", type=_day, default=None, help="last day (default: --from)")
    central_export.add_argument("--site", action="append", help="only this site (again for more); default: all")
    central_export.add_argument("--out", type=Path, required=True, help="CSV file to write")
    central_export.add_argument("--delimiter", default=";", help="cell delimiter (default ';')")
    central_verify = central_action("verify", "compare a site's rows with a copy of its hub's journals")
    central_verify.add_argument("--site", action="append", required=True, help="the site's id")
    central_verify.add_argument("--days", type=Path, required=True, help="a copy of the site hub's days/ folder")
    central_action("broker-files", "make the central broker's CA, users and ACL")
    add_site = central_action("add-site", "make a site's bridge credential and print what to copy to its hub")
    add_site.add_argument("site", help="the site's id, as its [central] site will say (like cali)")

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
        sub.add_argument("--role", required=True, choices=("hub", "kiosk", "desk", "display", "central"))
        sub.add_argument("--id", help="kiosk or display id from the site configuration")
        sub.add_argument("--number", type=int, help="desk number from the site configuration")
        sub.add_argument("--dry-run", action="store_true", help="print every step, change nothing")
        sub.add_argument("--root", type=Path, help="write the files under this folder and run no system command "
                                                   "(tests, preparing an image)")
    install.add_argument("--config", type=Path, required=True,
                         help="the site configuration to install (for --role central, the central's central.toml)")
    install.add_argument("--credential", type=Path, help="this device's MQTT credential file, made on the hub")
    uninstall.add_argument("--purge", action="store_true", help="also delete the role's state (records, counters)")

    demo = commands.add_parser("demo", help="the whole system on this machine with simulated hardware")
    demo.add_argument("--headless", action="store_true", help="no window: run a scripted morning and exit")
    demo.add_argument("--seconds", type=float, default=30, help="length of the headless morning (default 30)")
    demo.add_argument("--out", type=Path, default=Path("demo-out"), help="where tickets, screenshots and the CSV go")
    demo.add_argument("--sites", type=int, choices=range(1, 6), metavar="N",
                      help="N sites (1 to 5) of one organisation and their central (PostgreSQL), headless; "
                           "each site's morning lasts --seconds")
    return parser


# Each command's handler, imported only when that command runs: a kiosk never loads the hub, nor `check` pygame.
HANDLERS = {
    "hub": "hub.main:serve_hub", "export": "hub.main:export_turns", "report": "hub.main:make_report",
    "web-user": "hub.main:web_user", "ship": "hub.main:ship", "mi-turno": "hub.main:serve_mi_turno",
    "central": "central.main:main", "central broker-files": "appliance.ops.central_broker:main",
    "central add-site": "appliance.ops.central_broker:main",
    "kiosk": "appliance.kiosk.main:main", "desk": "appliance.desk.main:main", "display": "appliance.display.main:main",
    "check": "appliance.site.check:main", "broker-files": "appliance.ops.broker_files:main",
    "install": "appliance.ops.install:main", "uninstall": "appliance.ops.install:main",
    "demo": "appliance.dev.demo:main",
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    action = f"{args.command} {getattr(args, 'action', '')}"
    module, function = HANDLERS.get(action, HANDLERS[args.command]).split(":")
    try:
        return getattr(importlib.import_module(module), function)(args)
    except site_config.SetupError as exc:
        print(f"turnero {args.command}: {exc}", file=sys.stderr)
        return 2
