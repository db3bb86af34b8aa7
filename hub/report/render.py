"""The site's Informe as HTML (appliance.report.html's parts): a document that stands alone and the body the
coordinators' page shows."""
from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

from appliance.core.spanish import MONTHS, plural
from appliance.records.journal import DayStore
from appliance.report import charts
from appliance.report.html import (SERVICE_COLUMNS, capital, cards, document, duration, figure_charts, integer,
                                   month_name, people_columns, percent, period_text, ratings_chart,
                                   report_head, section, total_cards, wait_distribution)
from appliance.report.tally import mean
from appliance.site import SiteConfig
from hub.report.appointments import COLUMNS as APPOINTMENT_COLUMNS
from hub.report.figures import Report, build



def write_report(path: Path, store: DayStore, first: date, last: date, config: SiteConfig) -> Report:
    """`turnero report`: the self-contained HTML file."""
    report = build(store, first, last, config)
    Path(path).write_text(render_document(report), encoding="utf-8")
    return report


# --- HTML ---------------------------------------------------------------------------------------------------

def render_document(report: Report) -> str:
    return document(f"Informe Turnero CIS · {report.site}", render_body(report))


def render_body(report: Report) -> str:
    total = report.total
    parts = [report_head("Informe Turnero CIS", f"{report.site} · {period_text(report.first, report.last)}",
                         report.made_at)]
    if not total.turns:
        parts.append('<p class="empty">No hay turnos registrados en este periodo.</p>')
    parts.append(_cards(report))
    parts.append(_charts(report))
    if len(report.by_month) > 1:   # a long period: how it went month by month
        parts.append(section("Por mes", [(capital(month_name(month)), figures) for month, figures in report.by_month],
                              SERVICE_COLUMNS, "Mes"))
    parts.append(section("Por servicio", report.by_service, SERVICE_COLUMNS, "Servicio"))
    parts.append(section("Por tipo de turno", report.by_kind, SERVICE_COLUMNS, "Tipo"))
    if report.by_category:   # only where kiosk buttons name whom their preferential turns serve
        parts.append(section("Atención preferencial por categoría", report.by_category, SERVICE_COLUMNS,
                              "Categoría"))
    if report.appointments:
        parts.append(section("Citas", report.appointments, APPOINTMENT_COLUMNS, "Servicio"))
    people = people_columns(report.attention_limit_min)
    parts.append(section("Por módulo", report.by_desk, people, "Módulo"))
    parts.append(section("Por asesor", report.by_advisor, people, "Asesor"))
    parts.append(section("Tiempo de los módulos", report.desk_times, _TIME_COLUMNS, "Módulo"))
    parts.append(section("Tiempo de los asesores", report.advisor_times, _TIME_COLUMNS, "Asesor"))
    parts.append(_notes(report))
    return "\n".join(parts)


def _cards(report: Report) -> str:
    return cards(total_cards(report.total.totals(report.target_min * 60), f"Esperaron hasta {report.target_min} min"))


def _charts(report: Report) -> str:
    total = report.total
    hour_labels = [f"{h}:00" for h in report.hours]
    period = " (total del periodo)" if report.first != report.last else ""
    figures = [
        ("Llegadas por hora" + period, charts.bar_chart(
            hour_labels, [report.arrivals.get(h, 0) for h in report.hours], title="Llegadas por hora",
            x_title="Hora en que se tomó el turno", y_title="Turnos", integer=True)),
        ("Espera media por hora de llegada", charts.bar_chart(
            hour_labels, [report.wait_by_hour.get(h, 0) / 60 for h in report.hours],
            title="Espera media por hora de llegada", x_title="Hora en que se tomó el turno", y_title="Minutos",
            target=report.target_min, target_label=f"Meta: {report.target_min} min")),
        ("Distribución de la espera", wait_distribution(total, report.target_min)),
        ("Calificaciones", ratings_chart(total)),
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
    return figure_charts(figures)


_TIME_COLUMNS = (
    ("Abierto", lambda t: duration(t.open_s)),
    ("En pausa", lambda t: duration(t.paused_s)),
    ("Atendiendo", lambda t: duration(t.attending_s)),
    ("Del tiempo abierto", lambda t: percent(round(t.attending_s), round(t.open_s))),
)


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
    if report.appointments:
        lines.append("Citas: a tiempo, las que llegaron antes de terminar el margen del sitio y se llamaron antes "
                     "que los turnos sin cita; las que llegaron tarde se atendieron como turnos sin cita. La espera "
                     "desde su hora va de la hora de la cita al llamado, para las que llegaron a tiempo. Cada cita "
                     "que llegó es también un turno en las demás cifras.")
    if report.manual:
        lines.append(f"Registrados a mano después de una contingencia (turnero manual): "
                     f"{integer(report.manual)} {plural(report.manual, 'turno', 'turnos')}; cuentan en las cifras "
                     "de turnos, espera y atención, no en los tiempos de los módulos.")
    if outcomes.get("waiting") or outcomes.get("in_service"):
        lines.append(f"En curso al generar el informe: {integer(outcomes.get('waiting', 0))} en espera y "
                     f"{integer(outcomes.get('in_service', 0))} en atención.")
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<section class="notes"><h2>Notas</h2><ul>{items}</ul></section>'
