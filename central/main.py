"""`turnero central`: serve (the ingest), status, export and verify, built from central.toml."""
from __future__ import annotations

from datetime import datetime

from appliance.core.runtime import serve
from appliance.records.turns_csv import write_csv
from central import export, verify
from central.config import load
from central.database import connect, migrate
from central.ingest import Central


def main(args) -> int:
    config = load(args.config)
    if args.action == "serve":
        serve(Central(config))
        return 0
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


def status(db, now: datetime) -> str:
    """One line per site: its bridge, what it has sent, what it still has to send, and its versions."""
    rows = db.execute("SELECT site, coalesce(name, ''), bridge_up, bridge_since, last_record_at, "
                      "pending, oldest_pending_at, records, gaps, duplicates, refused, coalesce(software, '?'), "
                      "coalesce(site_file, '?') FROM sites ORDER BY site").fetchall()
    if not rows:
        return "no site has sent anything yet (turnero central add-site ID)"
    lines = []
    for (site, name, up, since, last_record, pending, oldest, records, gaps, duplicates, refused,
         software, site_file) in rows:
        bridge = "unknown" if up is None else ("up" if up else "DOWN") + (f" since {since:%Y-%m-%d %H:%M}"
                                                                          if since else "")
        lag = (f"{pending} record(s) to send, oldest {(now - oldest).total_seconds() / 60:.0f} min old"
               if pending else "nothing to send")
        lines.append(f"{site} ({name}): bridge {bridge}; {records} record(s), the newest of "
                     f"{last_record:%Y-%m-%d %H:%M:%S}" if last_record else f"{site} ({name}): bridge {bridge}; "
                     "no record yet")
        lines[-1] += (f"; {lag}; {gaps} gap(s) resent, {duplicates} copy(ies), {refused} refused; "
                      f"turnero {software}, site file {site_file}")
    return "\n".join(lines)
