"""The "Informe Turnero CIS" (seed 002, step 5): the figures of a day or a period, and the HTML that shows them.

It is built from hub.export.rows(), the rows of the CSV: one fold of the records and one interpretation of
them, so whatever a coordinator checks in the report can be found in the CSV of the same dates. The rows are
tallied as they come, day by day: a year's report keeps a few numbers per turn (its wait and attention, shared
by every group the turn counts in), never the rows themselves.

Definitions (the same as the CSV's columns): the wait runs from the ticket to the first call
(`wait_seconds`, for every turn called, present or not); the attention from the call to the close
(`service_seconds`, attended turns only). p90 is the nearest rank: the wait that nine citizens out of ten did
not exceed, a wait that really happened.
"""
from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from html import escape
from pathlib import Path

from appliance.site import SiteConfig
from appliance.core.spanish import clock, long_date

from hub import charts
from hub.export import rows
from hub.store import DayStore

STYLE = (Path(__file__).parent / "web_assets" / "style.css").read_text(encoding="utf-8")
WAIT_BUCKETS_MIN = (0, 5, 10, 15, 20, 30, 45, 60)   # the histogram's lower bounds, in minutes
RATING_NAMES = ("muy insatisfecho", "insatisfecho", "neutral", "satisfecho", "muy satisfecho")


@dataclass(frozen=True)
class Figures:
    """One group of turns (the period, a service, a kind, a desk, an advisor), void numbers excluded."""

    turns: int
    preferential: int
    outcomes: dict[str, int]       # attended, no_show, transferred, unattended, in_service, waiting
    waits: tuple[int, ...]         # seconds, sorted: every turn called
    attentions: tuple[int, ...]    # seconds, sorted: every attended turn
    ratings: tuple[int, ...]       # how many of each value, 1 to 5

    @property
    def normal(self) -> int:
        return self.turns - self.preferential

    @property
    def rated(self) -> int:
        return sum(self.ratings)

    @property
    def good(self) -> int:
        """Ratings of 4 or 5."""
        return self.ratings[3] + self.ratings[4]

    @property
    def rating_mean(self) -> float | None:
        return sum(v * n for v, n in zip(range(1, 6), self.ratings)) / self.rated if self.rated else None

    def within(self, seconds: int) -> int:
        """How many waits were at most this long."""
        return sum(w <= seconds for w in self.waits)


def mean(values) -> float | None:
    return statistics.fmean(values) if values else None


def median(values) -> float | None:
    return statistics.median(values) if values else None


def p90(values) -> float | None:
    """Nearest rank on sorted values."""
    return values[math.ceil(0.9 * len(values)) - 1] if values else None


class _Tally:
    """The figures of one group, gathered one row at a time."""

    def __init__(self):
        self.turns = self.preferential = 0
        self.outcomes: Counter = Counter()
        self.ratings: Counter = Counter()
        self.waits: list[int] = []
        self.attentions: list[int] = []

    def add(self, row: dict) -> None:
        self.turns += 1
        self.preferential += row["preferential"] == "sí"
        self.outcomes[row["outcome"]] += 1
        if row["wait_seconds"] != "":
            self.waits.append(row["wait_seconds"])
        if row["service_seconds"] != "":
            self.attentions.append(row["service_seconds"])
        if row["rating"] != "":
            self.ratings[row["rating"]] += 1

    def figures(self) -> Figures:
        return Figures(turns=self.turns, preferential=self.preferential, outcomes=dict(self.outcomes),
                       waits=tuple(sorted(self.waits)), attentions=tuple(sorted(self.attentions)),
                       ratings=tuple(self.ratings.get(value, 0) for value in range(1, 6)))


@dataclass(frozen=True)
class Report:
    site: str
    first: date
    last: date
    made_at: datetime
    target_min: int
    total: Figures
    void: int
    by_kind: list[tuple[str, Figures]]
    by_service: list[tuple[str, Figures]]
    by_desk: list[tuple[str, Figures]]
    by_advisor: list[tuple[str, Figures]]
    hours: list[int]                    # the hours of the day shown on the charts
    arrivals: dict[int, int]            # hour of the ticket -> turns
    wait_by_hour: dict[int, float]      # hour of the ticket -> mean wait in seconds of the turns called


def build(store: DayStore, first: date, last: date, config: SiteConfig, *, now: datetime | None = None) -> Report:
    names = {letter: service.name for letter, service in config.services.items()}
    total, kinds = _Tally(), {"no": _Tally(), "sí": _Tally()}
    services: dict[str, _Tally] = {}
    desks: dict[int, _Tally] = {}
    advisors: dict[str, _Tally] = {}
    arrivals: Counter = Counter()
    waited: dict[int, list[int]] = {}       # hour of the ticket -> [seconds waited, turns called]
    void = 0
    for row in rows(store, first, last, names):
        if row["outcome"] == "void":
            void += 1
            continue
        hour = datetime.fromisoformat(row["issued_at"]).astimezone(config.timezone).hour
        arrivals[hour] += 1
        groups = [total, kinds[row["preferential"]], services.setdefault(row["service"], _Tally())]
        if row["desk"] != "":   # desks and advisors count the turns they called
            groups += [desks.setdefault(row["desk"], _Tally()), advisors.setdefault(row["advisor"], _Tally())]
        for tally in groups:
            tally.add(row)
        if row["wait_seconds"] != "":
            sums = waited.setdefault(hour, [0, 0])
            sums[0] += row["wait_seconds"]
            sums[1] += 1
    opening = [h for start, end in config.hours.periods for h in range(start.hour, _last_hour(end) + 1)]
    letters = list(config.services)
    return Report(
        site=config.name, first=first, last=last, made_at=now or datetime.now(config.timezone),
        target_min=config.web.wait_target_min, total=total.figures(), void=void,
        by_kind=[(label, kinds[flag].figures()) for label, flag in (("Normal", "no"), ("Preferencial", "sí"))],
        by_service=_grouped(services, lambda k: names.get(k, k),
                            lambda k: (letters.index(k) if k in letters else len(letters), k)),
        by_desk=_grouped(desks, lambda k: config.desks[k].name if k in config.desks else f"Módulo {k}"),
        by_advisor=_grouped(advisors, lambda k: k or "Sin asesor registrado"),
        hours=list(range(min(opening + list(arrivals)), max(opening + list(arrivals)) + 1)), arrivals=arrivals,
        wait_by_hour={h: seconds / called for h, (seconds, called) in waited.items()})


def _grouped(tallies: dict, label, order=None) -> list[tuple[str, Figures]]:
    return [(label(key), tallies[key].figures()) for key in sorted(tallies, key=order)]


def _last_hour(end: time) -> int:
    """A period ending at 16:00 has its last arrivals in the 15 h slot."""
    return end.hour - 1 if end.minute == 0 else end.hour


def write_report(path: Path, store: DayStore, first: date, last: date, config: SiteConfig) -> Report:
    """`turnero report`: the self-contained HTML file."""
    report = build(store, first, last, config)
    Path(path).write_text(render_document(report), encoding="utf-8")
    return report


# --- HTML ---------------------------------------------------------------------------------------------------

def period_text(first: date, last: date) -> str:
    if first == last:
        return _capital(long_date(first))
    return f"Del {long_date(first)} al {long_date(last)}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{charts.number(seconds / 60)} min"


def percent(part: int, whole: int) -> str:
    return "—" if not whole else f"{round(100 * part / whole)} %"


def integer(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def render_document(report: Report) -> str:
    """A whole HTML file with its style inline and its charts as inline SVG: it opens anywhere, offline."""
    return (f'<!DOCTYPE html>\n<html lang="es">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Informe Turnero CIS · {escape(report.site)}</title>\n<style>\n{STYLE}</style>\n</head>\n"
            f'<body>\n<main class="page">\n{render_body(report)}\n</main>\n</body>\n</html>\n')


def render_body(report: Report) -> str:
    total = report.total
    parts = [f'<header class="report-head"><h1>Informe Turnero CIS</h1>'
             f'<p class="lead">{escape(report.site)} · {escape(period_text(report.first, report.last))}</p>'
             f'<p class="muted">Generado el {escape(long_date(report.made_at.date()))} a las '
             f"{clock(report.made_at)}.</p></header>"]
    if not total.turns:
        parts.append('<p class="empty">No hay turnos registrados en este periodo.</p>')
    parts.append(_cards(report))
    parts.append(_charts(report))
    parts.append(_section("Por servicio", report.by_service, _SERVICE_COLUMNS, "Servicio"))
    parts.append(_section("Por tipo de turno", report.by_kind, _SERVICE_COLUMNS, "Tipo"))
    parts.append(_section("Por módulo", report.by_desk, _PEOPLE_COLUMNS, "Módulo"))
    parts.append(_section("Por asesor", report.by_advisor, _PEOPLE_COLUMNS, "Asesor"))
    parts.append(_notes(report))
    return "\n".join(parts)


def _cards(report: Report) -> str:
    total, target_s = report.total, report.target_min * 60
    attended = total.outcomes.get("attended", 0)
    cards = [
        ("Turnos", integer(total.turns),
         f"{integer(total.normal)} normales y {integer(total.preferential)} preferenciales"),
        ("Atendidos", integer(attended), f"{percent(attended, total.turns)} de los turnos"),
        ("No se presentaron", integer(total.outcomes.get("no_show", 0)),
         f"{percent(total.outcomes.get('no_show', 0), total.turns)} de los turnos"),
        ("Espera media", minutes(mean(total.waits)),
         f"Mediana {minutes(median(total.waits))} · p90 {minutes(p90(total.waits))}"),
        (f"Esperaron hasta {report.target_min} min", percent(total.within(target_s), len(total.waits)),
         f"{integer(total.within(target_s))} de {integer(len(total.waits))} llamados"),
        ("Atención media", minutes(mean(total.attentions)), f"Mediana {minutes(median(total.attentions))}"),
        ("Calificaciones de 4 o 5", percent(total.good, total.rated),
         f"{integer(total.good)} de {integer(total.rated)} calificaciones"),
    ]
    items = "".join(f'<div class="card"><div class="card-label">{escape(label)}</div>'
                    f'<div class="card-value">{escape(value)}</div><div class="card-note">{escape(note)}</div></div>'
                    for label, value, note in cards)
    return f'<section class="cards">{items}</section>'


def _charts(report: Report) -> str:
    total, target_s = report.total, report.target_min * 60
    hour_labels = [f"{h}:00" for h in report.hours]
    period = " (total del periodo)" if report.first != report.last else ""
    limits = [b * 60 for b in WAIT_BUCKETS_MIN]
    counts = Counter(max(bisect_left(limits, w) - 1, 0) for w in total.waits)  # 5 min sharp counts in 0–5
    buckets = [counts.get(i, 0) for i in range(len(limits))]
    bucket_labels = [f"{a}–{b}" for a, b in zip(WAIT_BUCKETS_MIN, WAIT_BUCKETS_MIN[1:])]
    bucket_labels.append(f"más de {WAIT_BUCKETS_MIN[-1]}")
    figures = [
        ("Llegadas por hora" + period, charts.bar_chart(
            hour_labels, [report.arrivals.get(h, 0) for h in report.hours], title="Llegadas por hora",
            x_title="Hora en que se tomó el turno", y_title="Turnos", integer=True)),
        ("Espera media por hora de llegada", charts.bar_chart(
            hour_labels, [report.wait_by_hour.get(h, 0) / 60 for h in report.hours],
            title="Espera media por hora de llegada", x_title="Hora en que se tomó el turno", y_title="Minutos",
            target=report.target_min, target_label=f"Meta: {report.target_min} min")),
        ("Distribución de la espera", charts.bar_chart(
            bucket_labels, buckets, title="Distribución de la espera", x_title="Minutos de espera",
            y_title="Turnos llamados", integer=True,
            colours=[charts.ORANGE if low >= target_s else charts.BLUE for low in limits])),
        ("Calificaciones", charts.bar_chart(
            [str(v) for v in range(1, 6)], list(total.ratings), title="Calificaciones",
            x_title="1 muy insatisfecho · 5 muy satisfecho", y_title="Calificaciones", integer=True,
            colours=[charts.RED, charts.RED, charts.AMBER, charts.GREEN, charts.GREEN])),
    ]
    items = "".join(f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"
                    for caption, svg in figures)
    return f'<section class="charts">{items}</section>'


# Columns: heading and the text of one group's figures.
_SERVICE_COLUMNS = (
    ("Turnos", lambda f: integer(f.turns)),
    ("Normales", lambda f: integer(f.normal)),
    ("Preferenciales", lambda f: integer(f.preferential)),
    ("Atendidos", lambda f: integer(f.outcomes.get("attended", 0))),
    ("No se presentaron", lambda f: integer(f.outcomes.get("no_show", 0))),
    ("Espera media", lambda f: minutes(mean(f.waits))),
    ("Mediana", lambda f: minutes(median(f.waits))),
    ("p90", lambda f: minutes(p90(f.waits))),
    ("Atención media", lambda f: minutes(mean(f.attentions))),
    ("Mediana", lambda f: minutes(median(f.attentions))),
    ("Calificados", lambda f: integer(f.rated)),
    ("4 o 5", lambda f: percent(f.good, f.rated)),
)
_PEOPLE_COLUMNS = (
    ("Llamados", lambda f: integer(f.turns)),
    ("Atendidos", lambda f: integer(f.outcomes.get("attended", 0))),
    ("No se presentaron", lambda f: integer(f.outcomes.get("no_show", 0))),
    ("Transferidos", lambda f: integer(f.outcomes.get("transferred", 0))),
    ("Atención media", lambda f: minutes(mean(f.attentions))),
    ("Mediana", lambda f: minutes(median(f.attentions))),
    ("Calificados", lambda f: integer(f.rated)),
    ("Promedio", lambda f: "—" if f.rating_mean is None else charts.number(f.rating_mean)),
    ("4 o 5", lambda f: percent(f.good, f.rated)),
)


def _section(title: str, groups: list[tuple[str, Figures]], columns, first_heading: str) -> str:
    if not groups:
        return f'<section><h2>{escape(title)}</h2><p class="muted">Sin turnos en el periodo.</p></section>'
    head = "".join(f"<th>{escape(heading)}</th>" for heading, _ in columns)
    body = "".join(f'<tr><th scope="row">{escape(label)}</th>'
                   + "".join(f"<td>{escape(cell(figures))}</td>" for _, cell in columns) + "</tr>"
                   for label, figures in groups)
    return (f'<section><h2>{escape(title)}</h2><div class="table-wrap"><table class="figures">'
            f'<thead><tr><th scope="col">{escape(first_heading)}</th>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div></section>")


def _notes(report: Report) -> str:
    outcomes = report.total.outcomes
    lines = [
        "La espera va desde la impresión del tiquete hasta el primer llamado; la atención, desde el llamado "
        "hasta que el asesor cierra el turno.",
        "La mediana es la espera del ciudadano del medio; el p90, la espera que nueve de cada diez ciudadanos "
        "no superaron.",
        f"Transferidos a otro servicio: {integer(outcomes.get('transferred', 0))}. Cada transferencia cuenta "
        "también como un turno del servicio al que pasó.",
        f"Sin atender al cierre del día: {integer(outcomes.get('unattended', 0))}. Números anulados porque "
        f"el tiquete no se pudo imprimir: {integer(report.void)}.",
    ]
    if outcomes.get("waiting") or outcomes.get("in_service"):
        lines.append(f"En curso al generar el informe: {integer(outcomes.get('waiting', 0))} en espera y "
                     f"{integer(outcomes.get('in_service', 0))} en atención.")
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<section class="notes"><h2>Notas</h2><ul>{items}</ul></section>'
