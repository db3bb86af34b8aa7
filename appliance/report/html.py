"""The Informe's HTML, the site's and the central's: figures as Spanish text, cards, tables that become cards on
a phone, the charts every Informe has, and the document that stands alone (its style inlined)."""
from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from datetime import date
from html import escape
from pathlib import Path

from appliance.core.spanish import MONTHS, clock, long_date, plural
from appliance.report import charts
from appliance.report.tally import WAIT_BUCKETS_MIN, Figures, Totals, mean, median, p90

# One stylesheet for the reports and the coordinators' pages (which serve this file): inlined here, a report
# saved from a page looks as it did there.
STYLESHEET = Path(__file__).with_name("style.css")
STYLE = STYLESHEET.read_text(encoding="utf-8")


def document(title: str, body: str) -> str:
    """A whole HTML file with its style inline and its charts as inline SVG: it opens anywhere, offline."""
    return (f'<!DOCTYPE html>\n<html lang="es">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>\n{STYLE}</style>\n</head>\n"
            f'<body>\n<main class="page">\n{body}\n</main>\n</body>\n</html>\n')


def period_text(first: date, last: date) -> str:
    if first == last:
        return capital(long_date(first))
    return f"Del {long_date(first)} al {long_date(last)}"


def month_name(month: date) -> str:
    """'noviembre de 2026'."""
    return f"{MONTHS[month.month - 1]} de {month.year}"


def capital(text: str) -> str:
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


def cards(items: list[tuple[str, str, str]]) -> str:
    """The figures at the top: (label, value, note) each."""
    markup = "".join(f'<div class="card"><div class="card-label">{escape(label)}</div>'
                     f'<div class="card-value">{escape(value)}</div><div class="card-note">{escape(note)}</div></div>'
                     for label, value, note in items)
    return f'<section class="cards">{markup}</section>'


def report_head(title: str, lead: str, made_at, note: str = "") -> str:
    """The Informe's title, what and when it covers, and when it was made."""
    return (f'<header class="report-head"><h1>{escape(title)}</h1><p class="lead">{escape(lead)}</p>'
            f'<p class="muted">{escape(note)}Generado el {escape(long_date(made_at.date()))} a las '
            f"{clock(made_at)}.</p></header>")


def total_cards(total: Totals, within_label: str) -> list[tuple[str, str, str]]:
    """The cards of a whole period; `within_label` names the wait target."""
    return [
        ("Turnos", integer(total.turns),
         f"{integer(total.normal)} {plural(total.normal, 'normal', 'normales')} y "
         f"{integer(total.preferential)} {plural(total.preferential, 'preferencial', 'preferenciales')}"),
        ("Atendidos", integer(total.attended), f"{percent(total.attended, total.turns)} de los turnos"),
        ("No se presentaron", integer(total.no_show), f"{percent(total.no_show, total.turns)} de los turnos"),
        ("Espera media", minutes(total.mean_wait),
         f"Mediana {minutes(total.median_wait)} · p90 {minutes(total.p90_wait)}"),
        (within_label, percent(total.within, total.called),
         f"{integer(total.within)} de {integer(total.called)} {plural(total.called, 'llamado', 'llamados')}"),
        ("Atención media", minutes(total.mean_attention),
         "" if total.median_attention is None else f"Mediana {minutes(total.median_attention)}"),
        ("Calificaciones de 4 o 5", percent(total.good, total.rated),
         f"{integer(total.good)} de {integer(total.rated)} "
         f"{plural(total.rated, 'calificación', 'calificaciones')}"),
    ]


def figure_charts(figures: list[tuple[str, str]]) -> str:
    """(caption, SVG) each, in the charts' grid."""
    items = "".join(f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>" for caption, svg in figures)
    return f'<section class="charts">{items}</section>'


def wait_distribution(total: Figures, target_min: int) -> str:
    limits = [b * 60 for b in WAIT_BUCKETS_MIN]
    counts = Counter(max(bisect_left(limits, w) - 1, 0) for w in total.waits)  # 5 min sharp counts in 0–5
    labels = [f"{a}–{b}" for a, b in zip(WAIT_BUCKETS_MIN, WAIT_BUCKETS_MIN[1:])] + [f"más de {WAIT_BUCKETS_MIN[-1]}"]
    return charts.bar_chart(
        labels, [counts.get(i, 0) for i in range(len(limits))], title="Distribución de la espera",
        x_title="Minutos de espera", y_title="Turnos llamados", integer=True,
        colours=[charts.ORANGE if low >= target_min * 60 else charts.BLUE for low in limits])


def ratings_chart(total: Figures) -> str:
    return charts.bar_chart(
        [str(v) for v in range(1, 6)], list(total.ratings), title="Calificaciones",
        x_title="1 muy insatisfecho · 5 muy satisfecho", y_title="Calificaciones", integer=True,
        colours=[charts.RED, charts.RED, charts.AMBER, charts.GREEN, charts.GREEN])


# Columns: heading and the text of one group's figures.
SERVICE_COLUMNS = (
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


def people_columns(limit_min: int) -> tuple:
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


def section(title: str, groups: list[tuple[str, object]], columns, first_heading: str) -> str:
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
