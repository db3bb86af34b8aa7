"""`turnero central verify`: the central's rows of a site, record by record, against that site's journals (a copy
of the hub's `days/` folder). Every line of every journal must be at the central, at its place and with the same
content, or among the site's refusals; and the central holds nothing the journals do not."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from appliance.records.journal import DayStore

SHOWN = 20     # differences listed one by one; then only how many more


@dataclass
class Verdict:
    days: int = 0
    records: int = 0
    refused: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.differences


def verify(db: psycopg.Connection, site: str, days: Path, first: str = "", last: str = "9999") -> Verdict:
    store, verdict = DayStore(days), Verdict()
    journal_days = [day for day in store.days() if first <= day <= last]
    central_days = {row[0].isoformat() for row in db.execute(
        "SELECT DISTINCT day FROM records WHERE site = %s", (site,))}
    for day in sorted(central_days - set(journal_days)):
        if first <= day <= last:
            verdict.differences.append(f"{day}: at the central, but the site has no journal of that day")
    for day in journal_days:
        verdict.days += 1
        stored = {pos: record for pos, record in db.execute(
            "SELECT pos, record FROM records WHERE site = %s AND day = %s", (site, day))}
        refused = {pos for (pos,) in db.execute(
            "SELECT pos FROM refusals WHERE site = %s AND day = %s AND pos IS NOT NULL", (site, day))}
        for start, _end, record in store.lines_from(day, 0):
            verdict.records += 1
            found = stored.pop(start, None)
            if found == record:
                continue
            if found is None and start in refused:
                verdict.refused += 1
            elif found is None:
                verdict.differences.append(f"{day} byte {start}: record {record['id']} ({record['kind']}) is not at "
                                           "the central")
            else:
                verdict.differences.append(f"{day} byte {start}: record {record['id']} differs at the central")
        verdict.differences += [f"{day} byte {pos}: record {record.get('id')} is at the central, not in the journal"
                                for pos, record in sorted(stored.items())]
    return verdict


def report(site: str, verdict: Verdict) -> str:
    lines = [f"{site}: {verdict.days} day(s), {verdict.records} record(s) in the journals: "
             + ("the central has every one, equal" if verdict.equal else
                f"{len(verdict.differences)} difference(s)")
             + (f"; {verdict.refused} refused by the central (turnero central status)" if verdict.refused else "")]
    lines += [f"  {text}" for text in verdict.differences[:SHOWN]]
    if len(verdict.differences) > SHOWN:
        lines.append(f"  … and {len(verdict.differences) - SHOWN} more")
    return "\n".join(lines)
