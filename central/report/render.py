"""The consolidated Informe as HTML: the site's Informe's cards, charts and tables (appliance/report/html.py) for
many sites, with a table that compares them, the services across sites, the advisors of each site and the trend
by day (and by month for a long period)."""
from __future__ import annotations

from html import escape

from appliance.core.spanish import MONTHS, clock, long_date, plural
from appliance.report import charts
from appliance.report.html import (capital, cards, document, figure_charts, integer, minutes, month_name, percent,
                                   period_text, ratings_chart, report_head, section, total_cards)
from central.report.figures import Consolidated, Group

TITLE = "Informe Turnero consolidado"

# Columns: heading and the text of one group's figures.
COMPARISON = (
    ("Turnos", lambda g: integer(g.turns)),
    ("Atendidos", lambda g: integer(g.attended)),
    ("No se presentaron", lambda g: integer(g.no_show)),
    ("Espera media", lambda g: minutes(g.mean_wait)),
    ("Espera p90", lambda g: minutes(g.p90_wait)),
    ("Dentro de la meta", lambda g: percent(g.within, g.waits_n)),
    ("Atención media", lambda g: minutes(g.mean_attention)),
    ("Calificados", lambda g: integer(g.rated)),
    ("Con 4 o 5", lambda g: percent(g.good, g.rated)),
)
PEOPLE = (
    ("Llamados", lambda g: integer(g.turns)),
    ("Atendidos", lambda g: integer(g.attended)),
    ("No se presentaron", lambda g: integer(g.no_show)),
    ("Transferidos", lambda g: integer(g.transferred)),
    ("Atención media", lambda g: minutes(g.mean_attention)),
    ("Calificados", lambda g: integer(g.rated)),
    ("Calificación media", lambda g: "—" if g.rating_mean is None else charts.number(g.rating_mean)),
    ("Con 4 o 5", lambda g: percent(g.good, g.rated)),
)
TREND = (
    ("Turnos", lambda g: integer(g.turns)),
    ("Atendidos", lambda g: integer(g.attended)),
    ("Espera media", lambda g: minutes(g.mean_wait)),
    ("Dentro de la meta", lambda g: percent(g.within, g.waits_n)),
    ("Con 4 o 5", lambda g: percent(g.good, g.rated)),
)


def sites_text(report: Consolidated) -> str:
    names = [name for _, name in report.sites]
    if len(names) <= 3:
        return ", ".join(names) or "ninguna sede"
    return f"{len(names)} sedes"


def render_document(report: Consolidated) -> str:
    return document(f"{TITLE} · {sites_text(report)}", render_body(report))


def render_body(report: Consolidated) -> str:
    total = report.total
    count = len(report.sites)
    parts = [report_head(TITLE, f"{sites_text(report)} · {period_text(report.first, report.last)}",
                         report.made_at, f"{integer(count)} {plural(count, 'sede', 'sedes')}. ")]
    if not total.turns:
        parts.append('<p class="empty">No hay turnos registrados en este periodo para estas sedes.</p>')
    targets = sorted(set(report.targets.values()))
    label = (f"Esperaron hasta {targets[0]} min" if len(targets) == 1 else "Esperaron hasta la meta de su sede")
    parts.append(cards(total_cards(total.totals(), label)))
    parts.append(_charts(report))
    parts.append(section("Comparación de sedes", report.by_site, COMPARISON, "Sede"))
    parts.append(section("Por servicio, en todas las sedes", report.by_service, COMPARISON, "Servicio"))
    if report.by_month:
        parts.append(section("Por mes", [(capital(month_name(m)), g) for m, g in report.by_month], TREND, "Mes"))
    parts.append(section("Por día", [(capital(long_date(d)), g) for d, g in report.by_day], TREND, "Día"))
    parts.append(section("Por asesor, en cada sede", [(f"{site} · {advisor}", g) for site, advisor, g in
                                                      report.by_advisor], PEOPLE, "Sede y asesor"))
    parts.append(_notes(report))
    return "\n".join(parts)


def _charts(report: Consolidated) -> str:
    trend = report.by_month or report.by_day
    labels = ([f"{MONTHS[m.month - 1][:3]} {m.year}" for m, _ in trend] if report.by_month
              else [f"{d.day}/{d.month}" for d, _ in trend])
    unit = "mes" if report.by_month else "día"
    sites = [name for name, _ in report.by_site]
    figures = [
        (f"Turnos por {unit}", charts.bar_chart(labels, [g.turns for _, g in trend], title=f"Turnos por {unit}",
                                               x_title=capital(unit), y_title="Turnos", integer=True)),
        (f"Espera media por {unit}", charts.bar_chart(
            labels, [(g.mean_wait or 0) / 60 for _, g in trend], title=f"Espera media por {unit}",
            x_title=capital(unit), y_title="Minutos")),
        ("Dentro de la meta, por sede", charts.bar_chart(
            sites, [100 * g.within / g.waits_n if g.waits_n else 0 for _, g in report.by_site],
            title="Dentro de la meta, por sede", x_title="Sede", y_title="% de los llamados",
            colours=[_tone(g) for _, g in report.by_site])),
        ("Calificaciones", ratings_chart(report.total)),
    ]
    return figure_charts(figures)


def _tone(group: Group) -> str:
    share = group.within / group.waits_n if group.waits_n else 1
    return charts.GREEN if share >= 0.8 else charts.AMBER if share >= 0.6 else charts.RED


def _notes(report: Consolidated) -> str:
    lines = [
        "Cada cifra significa lo mismo que en el informe de cada sede: la fila de una sede es su propio informe "
        "de los mismos días, y los totales son la suma de las sedes.",
        "La espera va desde la impresión del tiquete hasta el primer llamado; la atención, desde el llamado "
        "hasta que el asesor cierra el turno. El p90 es la espera que nueve de cada diez ciudadanos no superaron.",
        "Dentro de la meta: los llamados que esperaron hasta la meta de espera de su propia sede ("
        + ", ".join(f"{name}: {report.targets[site]} min" for site, name in report.sites if site in report.targets)
        + ").",
        f"Números anulados porque el tiquete no se pudo imprimir: {integer(report.total.void)}. Registrados a mano "
        f"después de una contingencia: {integer(report.total.manual)}.",
    ]
    if report.rolled_at is not None:
        lines.append(f"Las cifras del día en curso llegan de las sedes y se suman cada minuto; las de este informe "
                     f"son de las {clock(report.rolled_at.astimezone(report.made_at.tzinfo))} o posteriores.")
    if report.total.open_turns:
        lines.append(f"En curso al sumar el día: {integer(report.total.open_turns)} "
                     f"{plural(report.total.open_turns, 'turno', 'turnos')} en espera o en atención.")
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<section class="notes"><h2>Notas</h2><ul>{items}</ul></section>'
