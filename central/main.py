"""`turnero central`: serve (the ingest and the page), mi-turno (the citizens' page), user, status, export and
verify, built from central.toml."""
from __future__ import annotations

import logging
import sys
from datetime import datetime

from appliance.core.runtime import serve
from appliance.records.turns_csv import write_csv
from appliance.web.accounts import Accounts
from appliance.web.pages import WebError
from appliance.web.users import account_command
from central import export, verify
from central.config import load
from central.database import connect, migrate
from central.ingest import Central
from central.mi_turno import CentralMiTurno
from central.web.app import CentralWeb

log = logging.getLogger(__name__)


def main(args) -> int:
    config = load(args.config)
    if args.action == "serve":
        return _serve(config)
    if args.action == "mi-turno":   # its own process: phones cost the ingest nothing
        serve(CentralMiTurno(config))
        return 0
    if args.action == "user":
        sites = None if args.all else [s.strip() for s in (args.sites or "").split(",") if s.strip()]
        if args.action_of_user == "add" and not args.all and not sites:
            print("turnero central user: say which sites the user may see: --sites cali,palmira, or --all",
                  file=sys.stderr)
            return 2
        return account_command(Accounts(config.web.state), "turnero central user", args.action_of_user, args.name,
                               password_stdin=args.password_stdin, sites=sites)
    migrate(config.dsn)
    with connect(config.dsn) as db:
        if args.action == "status":
            print(status(db, datetime.now(config.timezone)))
            return 0
        if args.action == "export":
            sites = args.site or None
            count = write_csv(args.out, export.rows(db, args.first, args.last or args.first, sites),
                              args.delimiter, export.COLUMNS)
            print(f"{args.out}: {count} turn(s)")
            return 0
        verdict = verify.verify(db, args.site[0], args.days)
        print(verify.report(args.site[0], verdict))
        return 0 if verdict.equal else 1


def _serve(config) -> int:
    """The ingest's loop as a service, with the coordinators' page beside it (as the hub's)."""
    central = Central(config)
    web = CentralWeb(config, front=True)    # behind nginx (install --role central sets it up)
    try:
        web.start()
    except WebError as exc:     # the ingest goes on without its page
        log.error("%s", exc)
    try:
        serve(central)
    finally:
        web.stop()
    return 0


def status(db, now: datetime) -> str:
    """One line per site: its bridge, what it has sent, what it still has to send, and its versions; times on the
    central's clock (`now`'s zone)."""
    rows = db.execute("SELECT site, coalesce(name, ''), bridge_up, bridge_since, last_record_at, pending, "
                      "oldest_pending_at, status_at, records, gaps, duplicates, refused, coalesce(software, '?'), "
                      "coalesce(site_file, '?') FROM sites ORDER BY site").fetchall()
    if not rows:
        return "no site has sent anything yet (turnero central add-site ID)"

    def local(moment: datetime) -> str:
        return f"{moment.astimezone(now.tzinfo):%Y-%m-%d %H:%M:%S}"

    lines = []
    for (site, name, up, since, newest, pending, oldest, said, records, gaps, duplicates, refused, software,
         site_file) in rows:
        bridge = "unknown" if up is None else ("up" if up else "DOWN") + (f" since {local(since)}" if since else "")
        sent = f"{records} record(s), the newest of {local(newest)}" if newest else "no record yet"
        lag = "nothing to send" if not pending else f"{pending} record(s) to send" + (
            f", the oldest {(now - oldest).total_seconds() / 60:.0f} min old" if oldest else "")
        if said:    # the site's own count travels over the bridge: as old as its last word
            lag += f" (the site's word at {local(said)})"
        lines.append(f"{site} ({name}): bridge {bridge}; {sent}; {lag}; {gaps} gap(s) resent, {duplicates} "
                     f"copy(ies), {refused} refused; turnero {software}, site file {site_file}")
    return "\n".join(lines)
