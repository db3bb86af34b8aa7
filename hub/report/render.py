"""The report's HTML: cards, SVG charts and tables of the figures, in a document that stands alone (its style
inlined) and as the body the coordinators' page shows."""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from datetime import date
from html import escape
from pathlib import Path

from appliance.core.spanish import MONTHS, clock, long_date, plural
from appliance.records.journal import DayStore
from appliance.site import SiteConfig
from hub.report import charts
from hub.report.desk_times import Times
from hub.report.figures import WAIT_BUCKETS_MIN, Figures, Report, build, mean, median, p90

# One stylesheet for the report and the coordinators' page (which serves this file): inlined here, a report saved
# from the page looks as it did there.
STYLESHEET = Path(__file__).with_name("style.css")
STYLE = STYLESHEET.read_text(encoding="utf-8")
RATING_NAMES = ("muy insatisfecho", "insatisfecho", "neutral", "satisfecho", "muy satisfecho")


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


def month_name(month: date) -> str:
    """'noviembre de 2026'."""
    return f"{MONTHS[month.month - 1]} de {month.year}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{charts.number(seconds / 60)} min"


def duration(seconds: float) -> str:
    """'3 h 05 min', '45 min', '40 s': a desk's time in a day or a period (under a minute in seconds, so that a
    row never reads '0 min' beside a share of it)."""
    if round(seconds) < 60:
        return f"{round(seconds)} s" if round(seconds) else "0 min"
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{integer(hours)} h {rest:02d} min" if hours else f"{rest} min"


def percent(part: int, whole: int) -> str:
    return "—" if not whole else f"{charts.number(100 * part / whole, 0)} %"


def integer(value: int) -> str:
    return charts.number(value, 0)


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
    if len(report.by_month) > 1:   # a long period: how it went month by month
        parts.append(_section("Por mes", [(_capital(month_name(month)), figures) for month, figures in report.by_month],
                              _SERVICE_COLUMNS, "Mes"))
    parts.append(_section("Por servicio", report.by_service, _SERVICE_COLUMNS, "Servicio"))
    parts.append(_section("Por tipo de turno", report.by_kind, _SERVICE_COLUMNS, "Tipo"))
    if report.by_category:   # only where kiosk buttons name whom their preferential turns serve
        parts.append(_section("Atención preferencial por categoría", report.by_category, _SERVICE_COLUMNS,
                              "Categoría"))
    people = _people_columns(report.attention_limit_min)
    parts.append(_section("Por módulo", report.by_desk, people, "Módulo"))
    parts.append(_section("Por asesor", report.by_advisor, people, "Asesor"))
    parts.append(_section("Tiempo de los módulos", report.desk_times, _TIME_COLUMNS, "Módulo"))
    parts.append(_section("Tiempo de los asesores", report.advisor_times, _TIME_COLUMNS, "Asesor"))
    parts.append(_notes(report))
    return "\n".join(parts)


def _cards(report: Report) -> str:
    total, target_s = report.total, report.target_min * 60
    attended = total.outcomes.get("attended", 0)
    cards = [
        ("Turnos", integer(total.turns),
         f"{integer(total.normal)} {plural(total.normal, 'normal', 'normales')} y "
         f"{integer(total.preferential)} {plural(total.preferential, 'preferencial', 'preferenciales')}"),
        ("Atendidos", integer(attended), f"{percent(attended, total.turns)} de los turnos"),
        ("No se presentaron", integer(total.outcomes.get("no_show", 0)),
         f"{percent(total.outcomes.get('no_show', 0), total.turns)} de los turnos"),
        ("Espera media", minutes(mean(total.waits)),
         f"Mediana {minutes(median(total.waits))} · p90 {minutes(p90(total.waits))}"),
        (f"Esperaron hasta {report.target_min} min", percent(total.within(target_s), len(total.waits)),
         f"{integer(total.within(target_s))} de {integer(len(total.waits))} "
         f"{plural(len(total.waits), 'llamado', 'llamados')}"),
        ("Atención media", minutes(mean(total.attentions)), f"Mediana {minutes(median(total.attentions))}"),
        ("Calificaciones de 4 o 5", percent(total.good, total.rated),
         f"{integer(total.good)} de {integer(total.rated)} "
         f"{plural(total.rated, 'calificación', 'calificaciones')}"),
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
    if len(report.by_month) > 1:
        months = [f"{MONTHS[month.month - 1][:3]} {month.year}" for month, _ in report.by_month]
        figures[:0] = [
            ("Turnos por mes", charts.bar_chart(
                months, [f.turns for _, f in report.by_month], title="Turnos por mes", x_title="Mes",
                y_title="Turnos", integer=True)),
            ("Espera media por mes", charts.bar_chart(
                months, [(mean(f.waits) or 0) / 60 for _, f in report.by_month], title="Espera media por mes",
                x_title="Mes", y_title="Minutos", target=report.target_min,
                target_label=f"Meta: {report.target_min} min"))]
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
    ("Espera mediana", lambda f: minutes(median(f.waits))),
    ("Espera p90", lambda f: minutes(p90(f.waits))),
    ("Atención media", lambda f: minutes(mean(f.attentions))),
    ("Atención mediana", lambda f: minutes(median(f.attentions))),
    ("Calificados", lambda f: integer(f.rated)),
    ("Con 4 o 5", lambda f: percent(f.good, f.rated)),
)


def _people_columns(limit_min: int) -> tuple:
    """A desk's or an advisor's figures, with the attentions that lasted longer than the site's limit."""
    return (
        ("Llamados", lambda f: integer(f.turns)),
        ("Atendidos", lambda f: integer(f.outcomes.get("attended", 0))),
        ("No se presentaron", lambda f: integer(f.outcomes.get("no_show", 0))),
        ("Transferidos", lambda f: integer(f.outcomes.get("transferred", 0))),
        ("Atención media", lambda f: minutes(mean(f.attentions))),
        ("Atención mediana", lambda f: minutes(median(f.attentions))),
        (f"Más de {limit_min} min", lambda f: integer(f.attentions_over(limit_min * 60))),
        ("Calificados", lambda f: integer(f.rated)),
        ("Calificación media", lambda f: "—" if f.rating_mean is None else charts.number(f.rating_mean)),
        ("Con 4 o 5", lambda f: percent(f.good, f.rated)),
    )


_TIME_COLUMNS = (
    ("Abierto", lambda t: duration(t.open_s)),
    ("En pausa", lambda t: duration(t.paused_s)),
    ("Atendiendo", lambda t: duration(t.attending_s)),
    ("Del tiempo abierto", lambda t: percent(round(t.attending_s), round(t.open_s))),
)


def _section(title: str, groups: list[tuple[str, Figures | Times]], columns, first_heading: str) -> str:
    if not groups:
        return f'<section><h2>{escape(title)}</h2><p class="muted">Sin turnos en el periodo.</p></section>'
    head = "".join(f"<th>{escape(heading)}</th>" for heading, _ in columns)
    # Each figure carries its column's name: on a phone every row is a card of named figures (style.css).
    body = "".join(f'<tr><th scope="row">{escape(label)}</th>'
                   + "".join(f'<td data-label="{escape(heading)}">{escape(cell(figures))}</td>'
                             for heading, cell in columns) + "</tr>"
                   for label, figures in groups)
    return (f'<section><h2>{escape(title)}</h2><div class="table-wrap"><table class="figures stack">'
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
        f"Atenciones de más de {report.attention_limit_min} minutos, el límite del sitio: "
        f"{integer(report.total.attentions_over(report.attention_limit_min * 60))}.",
        f"Sin atender al cierre del día: {integer(outcomes.get('unattended', 0))}. Números anulados porque "
        f"el tiquete no se pudo imprimir: {integer(report.void)}.",
        "El tiempo abierto de un módulo va desde que se abre hasta que se pausa o se cierra (o hasta el cierre "
        "del horario, o el fin de la atención que siga en curso); atendiendo, desde cada llamado hasta el fin de "
        "esa atención, dentro del tiempo abierto.",
    ]
    if report.manual:
        lines.append(f"Registrados a mano después de una contingencia (turnero manual): "
                     f"{integer(report.manual)} {plural(report.manual, 'turno', 'turnos')}; cuentan en las cifras "
                     "de turnos, espera y atención, no en los tiempos de los módulos.")
    if outcomes.get("waiting") or outcomes.get("in_service"):
        lines.append(f"En curso al generar el informe: {integer(outcomes.get('waiting', 0))} en espera y "
                     f"{integer(outcomes.get('in_service', 0))} en atención.")
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<section class="notes"><h2>Notas</h2><ul>{items}</ul></section>'
