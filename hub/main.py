"""`turnero hub`, `export`, `report` and `web-user`: the hub's commands, built from the site file and the
command line."""
from __future__ import annotations

import getpass
import logging
import sys
from datetime import date

from appliance import site as site_config
from appliance.core.runtime import serve, state_dir
from appliance.records.journal import DayStore
from appliance.records.turns_csv import write_csv
from appliance.site import SiteConfig
from hub.export import rows
from hub.report.render import write_report
from hub.mi_turno import MiTurnoPage
from hub.service import Hub
from hub.shipper import Shipper
from appliance.web.accounts import AccountError, Accounts
from hub.web.app import CoordinatorsWeb, WebError

log = logging.getLogger(__name__)


def serve_hub(args) -> int:
    """The hub's loop as a service, with the coordinators' page beside it."""
    config = site_config.load(args.config)
    state = state_dir(args.state, "hub")
    unit = Hub(config, state, config_path=args.config)
    web = CoordinatorsWeb(config, state, front=True)   # behind nginx (install --role hub sets it up)
    try:
        web.start()
    except WebError as exc:  # e.g. the port is taken: the hub keeps deciding without its page
        log.error("%s", exc)
    try:
        serve(unit)
    finally:
        web.stop()
    return 0


def serve_mi_turno(args) -> int:
    """`turnero mi-turno`: the citizens' page, a process beside the hub, behind nginx on the guest Wi-Fi."""
    config = site_config.load(args.config)
    if config.public is None or not config.public.listen:
        raise site_config.SetupError("the site file does not have the hub serve the \"Mi turno\" page: [public] "
                                     "address and listen = true (docs/mi-turno.md)")
    serve(MiTurnoPage(config))
    return 0


def ship(args) -> int:
    """`turnero ship`: the hub's journals to the central, as a service beside the hub."""
    config = site_config.load(args.config)
    serve(Shipper(config, args.days, state_dir(args.state, "hub-ship"), config_path=args.config))
    return 0


def export_turns(args) -> int:
    """`turnero export`: the CSV of a period."""
    config, store, first, last = _period(args)
    count = write_csv(args.out, rows(store, first, last, config.service_names()), args.delimiter)
    print(f"{args.out}: {count} turn(s)")
    return 0


def make_report(args) -> int:
    """`turnero report`: the Informe Turnero of a period."""
    config, store, first, last = _period(args)
    built = write_report(args.out, store, first, last, config)
    print(f"{args.out}: {built.total.turns} turn(s)")
    return 0


def _period(args) -> tuple[SiteConfig, DayStore, date, date]:
    """The site, the hub's record and the days asked for: --from (the site's today by default) to --to."""
    config = site_config.load(args.config)
    first = args.first or config.today()
    return config, DayStore(state_dir(args.state, "hub") / "days"), first, args.last or first


def web_user(args) -> int:
    """`turnero web-user list|add|passwd|remove [NAME]`: the coordinators' accounts, kept in the hub's state. The
    page reads them at once (no restart); a new password or a removed account ends that user's sessions."""
    accounts = Accounts(state_dir(args.state, "hub"))
    try:
        if args.action == "list":
            print("\n".join(accounts.names()) or "no accounts yet: turnero web-user add NAME")
            return 0
        if args.name is None:
            raise AccountError(f"name the account: turnero web-user {args.action} NAME")
        if args.action == "remove":
            ended = accounts.remove(args.name)
            print(f"{args.name}: removed; {ended} session(s) ended")
        elif args.action == "add":
            accounts.add(args.name, _new_password(args.password_stdin))
            print(f"{args.name}: added; sign in at the coordinators' page")
        else:
            ended = accounts.set_password(args.name, _new_password(args.password_stdin))
            print(f"{args.name}: new password; {ended} session(s) ended")
    except AccountError as exc:
        print(f"turnero web-user: {exc}", file=sys.stderr)
        return 2
    return 0


def _new_password(from_stdin: bool) -> str:
    """The password from standard input's first line (scripts), or asked twice at the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("The same password again: ") != first:
        raise AccountError("the two passwords differ")
    return first
