"""`turnero hub`, `export`, `report` and `web-user`: the hub's commands, built from the site file and the
command line."""
from __future__ import annotations

import logging
from datetime import date

from appliance import site as site_config
from appliance.core.runtime import serve, state_dir
from appliance.records.journal import DayStore
from appliance.records.turns_csv import write_csv
from appliance.site import SiteConfig
from appliance.web.accounts import Accounts
from appliance.web.users import account_command
from hub.export import rows
from hub.report.render import write_report
from hub.mi_turno import MiTurnoPage
from hub.service import Hub
from hub.shipper import Shipper
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
    serve(Shipper(config, args.days, state_dir(args.state, "hub-ship")))
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
    """`turnero web-user list|add|passwd|remove [NAME]`: the coordinators' accounts, kept in the hub's state."""
    return account_command(Accounts(state_dir(args.state, "hub")), "turnero web-user", args.action, args.name,
                           password_stdin=args.password_stdin)
