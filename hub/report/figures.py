"""The figures of the "Informe Turnero CIS" (seed 002, step 5) for a day or a period.

It is built from the rows of the CSV (hub.export.day_rows): one fold of the records and one interpretation of
them, so whatever a coordinator checks in the report can be found in the CSV of the same dates; the same fold
gives each day's desk times (desk_times.py). The rows are tallied as they come, day by day
(appliance.report.tally, which also says what each figure means): a year's report keeps a few numbers per turn
(its wait and attention, shared by every group the turn counts in), never the rows themselves.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

from appliance.contract import PREFERENTIAL_CATEGORIES
from appliance.records.journal import DayStore
from appliance.records.turns_csv import day_rows
from appliance.report.tally import Figures, Tally
from appliance.site import SiteConfig
from hub.export import day_ledgers
from hub.report.appointments import AppointmentTally, tally_day
from hub.report.desk_times import Times, day_times


@dataclass(frozen=True)
class Report:
    site: str
    first: date
    last: date
    made_at: datetime
    target_min: int
    attention_limit_min: int
    total: Figures
    void: int
    by_kind: list[tuple[str, Figures]]
    by_category: list[tuple[str, Figures]]   # the preferential turns whose button named whom they serve
    by_service: list[tuple[str, Figures]]
    by_desk: list[tuple[str, Figures]]
    by_advisor: list[tuple[str, Figures]]
    by_month: list[tuple[date, Figures]]     # the first day of each month with turns: a long period's trend
    desk_times: list[tuple[str, Times]]      # open, paused and attending, per desk
    advisor_times: list[tuple[str, Times]]
    manual: int                              # turns entered after a manual contingency
    hours: list[int]                    # the hours of the day shown on the charts
    arrivals: dict[int, int]            # hour of the ticket -> turns
    wait_by_hour: dict[int, float]      # hour of the ticket -> mean wait in seconds of the turns called
    appointments: list[tuple[str, AppointmentTally]] = ()   # per service, then all of them; none booked: empty


def build(store: DayStore, first: date, last: date, config: SiteConfig, *, now: datetime | None = None) -> Report:
    names = config.service_names()
    total, kinds = Tally(), {"no": Tally(), "sí": Tally()}
    categories: dict[str, Tally] = {}      # whom the preferential turns served, where the button said
    services: dict[str, Tally] = {}
    desks: dict[int, Tally] = {}
    advisors: dict[str, Tally] = {}
    months: dict[date, Tally] = {}
    arrivals: Counter = Counter()
    waited: dict[int, list[int]] = {}       # hour of the ticket -> [seconds waited, turns called]
    desk_times: dict[int, Times] = {}
    advisor_times: dict[str, Times] = {}
    made_at = now or datetime.now(config.timezone)
    closing = config.hours.periods[-1][1]
    void = manual = 0
    appointments: dict[str, AppointmentTally] = {}
    grace = config.appointments.grace_min if config.appointments else 0
    for day, ledger in day_ledgers(store, first, last):   # one fold a day gives its rows and its desk times
        tally_day(ledger, made_at, grace, appointments)
        day_end = min(made_at, datetime.combine(date.fromisoformat(day), closing, config.timezone))
        for totals, times in zip((desk_times, advisor_times), day_times(ledger, day_end)):
            for key, value in times.items():
                totals.setdefault(key, Times()).add(value)
        for row in day_rows(ledger, names):
            if row["outcome"] == "void":
                void += 1
                continue
            manual += row["manual"] == "sí"
            hour = datetime.fromisoformat(row["issued_at"]).astimezone(config.timezone).hour
            arrivals[hour] += 1
            groups = [total, kinds[row["preferential"]], services.setdefault(row["service"], Tally()),
                      months.setdefault(date.fromisoformat(day).replace(day=1), Tally())]
            if row["preferential_category"]:
                groups.append(categories.setdefault(row["preferential_category"], Tally()))
            if row["desk"] != "":   # desks and advisors count the turns they called
                groups += [desks.setdefault(row["desk"], Tally()), advisors.setdefault(row["advisor"], Tally())]
            for tally in groups:
                tally.add(row)
            if row["wait_seconds"] != "":
                sums = waited.setdefault(hour, [0, 0])
                sums[0] += row["wait_seconds"]
                sums[1] += 1

    def desk_label(number: int) -> str:
        return config.desks[number].name if number in config.desks else f"Módulo {number}"

    opening = [h for start, end in config.hours.periods for h in range(start.hour, _last_hour(end) + 1)]
    letters = list(config.services)
    return Report(
        site=config.name, first=first, last=last, made_at=made_at,
        target_min=config.web.wait_target_min, attention_limit_min=config.desk_settings.attention_limit_min,
        total=total.figures(), void=void,
        by_kind=[(label, kinds[flag].figures()) for label, flag in (("Normal", "no"), ("Preferencial", "sí"))],
        by_category=_grouped(categories, lambda k: PREFERENTIAL_CATEGORIES.get(k, k),
                             lambda k: (list(PREFERENTIAL_CATEGORIES).index(k) if k in PREFERENTIAL_CATEGORIES
                                        else len(PREFERENTIAL_CATEGORIES), k)),
        by_service=_grouped(services, lambda k: names.get(k, k),
                            lambda k: (letters.index(k) if k in letters else len(letters), k)),
        by_desk=_grouped(desks, desk_label),
        by_advisor=_grouped(advisors, _advisor_label),
        by_month=_grouped(months, lambda month: month),
        desk_times=[(desk_label(k), desk_times[k]) for k in sorted(desk_times)],
        advisor_times=[(_advisor_label(k), advisor_times[k]) for k in sorted(advisor_times)], manual=manual,
        hours=list(range(min(opening + list(arrivals)), max(opening + list(arrivals)) + 1)), arrivals=arrivals,
        wait_by_hour={h: seconds / called for h, (seconds, called) in waited.items()},
        appointments=[(names.get(k, k), appointments[k]) for k in letters if k in appointments]
                     + ([("Todas", appointments[""])] if appointments else []))


def _advisor_label(name: str) -> str:
    return name or "Sin asesor registrado"


def _grouped(tallies: dict, label, order=None) -> list[tuple[str, Figures]]:
    return [(label(key), tallies[key].figures()) for key in sorted(tallies, key=order)]


def _last_hour(end: time) -> int:
    """A period ending at 16:00 has its last arrivals in the 15 h slot."""
    return end.hour - 1 if end.minute == 0 else end.hour
