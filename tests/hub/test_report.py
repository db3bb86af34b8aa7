"""The Informe Turnero on a scripted day driven through the hub's loop: every figure checked by hand."""
import dataclasses
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from appliance import contract
from appliance.report import charts
from appliance.report.tally import p90
from hub.report.figures import build
from appliance.report.html import duration
from hub.report.render import render_body, render_document, write_report
from tests.harness.hub_feed import START, command, feed, request, ticket

DAY = START.date()
SVG = "{http://www.w3.org/2000/svg}"


def when(hub, hh_mm: str, *events) -> None:
    hour, minute = map(int, hh_mm.split(":"))
    hub.clock.moment = START.replace(hour=hour, minute=minute)
    feed(hub, *events)


def rating(hub, desk: int, value: int) -> contract.Rating:
    """The citizen at the desk rates the attention."""
    turn_id = hub.ledger.serving[desk]
    return contract.Rating(id=f"rating-{turn_id}", at=START.isoformat(), source=f"escritorio-{desk}", desk=desk,
                           turn_id=turn_id, value=value)


@pytest.fixture
def morning(hub):
    """9:01 R-001, 9:02 R-002, 9:03 P-001 (preferential, Registro), 9:04 S-001 and a void R-003.
    Desk 1 (Ana María Peña) serves P-001 9:10-9:20 (rated 5), R-002 9:20-9:35 (rated 3), S-001 9:35-9:40
    (rated 4); desk 2 (José Muñoz) calls R-001 at 9:12, who does not come."""
    feed(hub, ticket(hub, 1), ticket(hub, 2), ticket(hub, 1, preferential=True), ticket(hub, 1, service="S"))
    void = ticket(hub, 3)
    feed(hub, contract.TicketVoid(id="void-3", at=void.at, source="kiosco-1", turn_id=void.turn_id,
                                  number=void.number, service="R", preferential=False, reason="sin papel"))
    when(hub, "09:10", request(1, "a"))
    when(hub, "09:12", request(2, "b"))
    when(hub, "09:20", rating(hub, 1, 5), request(1, "c"))
    when(hub, "09:30", request(2, "d", "no_show"))
    when(hub, "09:35", rating(hub, 1, 3), request(1, "e"))
    when(hub, "09:40", rating(hub, 1, 4), request(1, "f"))
    return hub


def cells(row: str) -> list[str]:
    """The figures of one row of a table of the report."""
    return re.findall(r"<td[^>]*>([^<]*)</td>", row)


def report_of(hub, first=DAY, last=DAY):
    return build(hub.store, first, last, hub.config, now=hub.clock.moment)


def test_the_day_in_figures(morning):
    report = report_of(morning)
    total = report.total
    assert (total.turns, total.normal, total.preferential, report.void) == (4, 3, 1, 1)
    assert total.outcomes == {"attended": 3, "no_show": 1}
    assert total.waits == (7 * 60, 11 * 60, 18 * 60, 31 * 60)    # P-001, R-001, R-002, S-001
    assert total.attentions == (5 * 60, 10 * 60, 15 * 60)
    assert total.ratings == (0, 0, 1, 1, 1) and total.good == 2 and total.rating_mean == 4
    assert total.within(20 * 60) == 3


def test_groups_by_service_kind_desk_and_advisor(morning):
    report = report_of(morning)
    services = dict(report.by_service)
    assert list(services) == ["Registro y Aportes", "Salud"]    # the site's order
    registro = services["Registro y Aportes"]
    assert (registro.normal, registro.preferential, registro.outcomes["no_show"]) == (2, 1, 1)
    assert registro.waits == (7 * 60, 11 * 60, 18 * 60)
    kinds = dict(report.by_kind)
    assert (kinds["Normal"].turns, kinds["Preferencial"].turns, kinds["Preferencial"].ratings[4]) == (3, 1, 1)
    desks = dict(report.by_desk)
    assert desks["Módulo 1"].outcomes == {"attended": 3} and desks["Módulo 2"].outcomes == {"no_show": 1}
    advisors = dict(report.by_advisor)
    assert advisors["Ana María Peña"].attentions == (300, 600, 900)
    assert advisors["José Muñoz"].turns == 1 and advisors["José Muñoz"].rated == 0


def test_arrivals_and_waits_per_hour_cover_the_opening_hours(morning):
    report = report_of(morning)
    assert report.hours == list(range(8, 16))       # 8:00-12:00 and 14:00-16:00
    assert report.arrivals == {9: 4}
    assert report.wait_by_hour == {9: (7 + 11 + 18 + 31) * 60 / 4}


def test_median_and_nearest_rank_p90():
    assert p90((10, 20, 30, 40)) == 40 and p90(tuple(range(1, 11))) == 9 and p90(()) is None


def test_the_html_has_the_figures_in_spanish_and_four_charts(morning):
    html = render_body(report_of(morning))
    for text in ("Informe Turnero CIS", "Martes 24 de noviembre de 2026", "16,8 min", "Mediana 14,5 min",
                 "p90 31 min", "Ana María Peña", "67 %", "Números anulados", "No se presentaron"):
        assert text in html, text
    svgs = [ET.fromstring("<svg" + chunk.split("</svg>")[0] + "</svg>") for chunk in html.split("<svg")[1:]]
    assert len(svgs) == 4
    arrivals, _, histogram, ratings = svgs
    assert {r.get("data-label"): float(r.get("data-value")) for r in arrivals.iter(f"{SVG}rect")}["9:00"] == 4
    assert [float(r.get("data-value")) for r in histogram.iter(f"{SVG}rect")] == [0, 1, 1, 1, 0, 1, 0, 0]  # 7, 11, 18, 31 min
    assert [float(r.get("data-value")) for r in ratings.iter(f"{SVG}rect")] == [0, 0, 1, 1, 1]


def test_attentions_over_the_sites_limit_are_counted_per_desk_and_advisor(hub):
    """Seed 003's 15 minutes: 15 min 0 s is within it, 15 min 1 s over."""
    feed(hub, *(ticket(hub, n) for n in range(1, 5)))
    when(hub, "09:10", request(1, "a"), request(2, "b"))
    hub.clock.moment += timedelta(minutes=15, seconds=1)
    feed(hub, request(1, "c"))                     # R-001 over the limit at desk 1, R-003 called
    hub.clock.moment += timedelta(minutes=16)
    feed(hub, request(1, "d"), request(2, "e"))    # R-003 over; R-002 at desk 2 took 31 min 1 s; R-004 called
    hub.clock.moment += timedelta(minutes=15)
    feed(hub, request(1, "f"))                     # R-004 exactly 15 min: within
    report = report_of(hub)
    desks, advisors = dict(report.by_desk), dict(report.by_advisor)
    assert desks["Módulo 1"].attentions_over(15 * 60) == 2 and desks["Módulo 2"].attentions_over(15 * 60) == 1
    assert advisors["Ana María Peña"].attentions_over(15 * 60) == 2
    html = render_body(report)
    assert "<th>Más de 15 min</th>" in html and "Atenciones de más de 15 minutos, el límite del sitio: 3." in html
    row = html.split('<th scope="row">Módulo 1</th>')[1].split("</tr>")[0]
    assert cells(row)[6] == "2"


def test_each_desk_and_advisor_has_its_time_open_paused_and_attending(hub):
    feed(hub, *(ticket(hub, n) for n in range(1, 5)))
    when(hub, "09:00", request(1, "a"))               # opens desk 1, R-001 called
    when(hub, "09:10", request(1, "b"))               # R-002 called
    when(hub, "09:20", request(1, "c", "pause"))      # R-002 ends; a break
    when(hub, "09:50", request(1, "d"))               # back: R-003 called
    when(hub, "10:00", request(1, "e", "close"))      # R-003 ends; the desk closes
    when(hub, "10:05", command("m1", "manual", number="TM-001", service="R", desk=2, advisor="José Muñoz",
                               outcome="attended", issued_at="2026-11-24T08:10:00-05:00",
                               called_at="2026-11-24T08:20:00-05:00", closed_at="2026-11-24T08:30:00-05:00"))
    report = report_of(hub)
    (desk, times), = report.desk_times
    assert (desk, times.open_s, times.paused_s, times.attending_s) == ("Módulo 1", 30 * 60, 30 * 60, 30 * 60)
    assert [(name, t.open_s) for name, t in report.advisor_times] == [("Ana María Peña", 30 * 60)]
    html = render_body(report)
    row = html.split("Tiempo de los módulos")[1].split('<th scope="row">Módulo 1</th>')[1].split("</tr>")[0]
    assert cells(row) == ["30 min", "30 min", "30 min", "100 %"]
    assert "Registrados a mano después de una contingencia (turnero manual): 1 turno;" in html
    assert dict(report.by_desk)["Módulo 2"].outcomes == {"attended": 1}    # the manual attention is counted


def test_attending_never_exceeds_the_time_open_past_closing_or_across_a_change_of_advisor(hub):
    feed(hub, *(ticket(hub, n) for n in range(1, 4)))
    when(hub, "09:00", request(1, "a"))                                        # Ana calls R-001
    when(hub, "09:10", command("s1", "advisor", desk=1, advisor="Carlos Andrés Núñez"))
    when(hub, "09:20", request(1, "b"))                                        # R-001 ends; Carlos calls R-002
    when(hub, "09:30", request(1, "c", "close"))
    hub.clock.moment = START.replace(hour=15, minute=59, second=40)
    feed(hub, request(1, "d"))                                                # R-003, 20 s before closing time
    hub.clock.moment = START.replace(hour=16, minute=1)
    feed(hub, request(1, "e"))                                                # ends at 16:01; the desk stays open
    report = report_of(hub)
    times = dict(report.advisor_times)
    # Closing the desk at 9:30 signed Carlos out: the desk opened again at 15:59 is Ana's, the site file's.
    assert (times["Ana María Peña"].open_s, times["Ana María Peña"].attending_s) == (600 + 80, 600 + 80)
    assert (times["Carlos Andrés Núñez"].open_s, times["Carlos Andrés Núñez"].attending_s) == (1200, 1200)
    (_, desk), = report.desk_times
    assert desk.attending_s == desk.open_s == 30 * 60 + 80


def test_a_time_under_a_minute_is_given_in_seconds():
    assert [duration(s) for s in (0, 20, 59.6, 80, 3 * 3600 + 300)] == ["0 min", "20 s", "1 min", "1 min",
                                                                          "3 h 05 min"]


def test_counts_of_one_agree_in_number(hub):
    feed(hub, ticket(hub, 1, preferential=True), request(1, "a"), request(1, "b"))
    html = render_body(report_of(hub))
    assert "0 normales y 1 preferencial" in html
    assert "1 de 1 llamado<" in html


def test_names_are_escaped_in_the_html(hub):
    hub.config = dataclasses.replace(hub.config, desks={
        **hub.config.desks, 1: dataclasses.replace(hub.config.desks[1], advisor="<script>alert(1)</script>")})
    feed(hub, ticket(hub, 1), request(1, "a"))
    html = render_document(report_of(hub))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_period_folds_every_day_and_an_empty_one_says_so(morning, tmp_path):
    later = DAY + timedelta(days=2)
    morning.store.append([{**r, "id": f"later-{r['id']}", "day": later.isoformat(),
                           "turn_id": r["turn_id"].replace(DAY.isoformat(), later.isoformat())}
                          for r in morning.store.day(DAY.isoformat()) if r["kind"] == "ticket"])
    report = report_of(morning, DAY, later)
    assert report.total.turns == 8 and report.total.outcomes["waiting"] == 4
    assert "Del martes 24 de noviembre de 2026 al jueves 26 de noviembre de 2026" in render_body(report)
    assert "(total del periodo)" in render_body(report)
    empty = write_report(tmp_path / "informe.html", morning.store, date(2026, 1, 1), date(2026, 1, 1),
                         morning.config)
    text = (tmp_path / "informe.html").read_text(encoding="utf-8")
    assert empty.total.turns == 0 and "No hay turnos registrados en este periodo." in text
    assert text.count("Sin datos en el periodo") == 4 and "<style>" in text
    assert "src=" not in text and "href=" not in text and "url(" not in text    # nothing to fetch: it opens offline


def test_a_period_over_several_months_has_its_trend_by_month(morning):
    later = date(2027, 2, 3)
    morning.store.append([{**r, "id": f"later-{r['id']}", "day": later.isoformat(),
                           "turn_id": r["turn_id"].replace(DAY.isoformat(), later.isoformat())}
                          for r in morning.store.day(DAY.isoformat()) if r["kind"] == "ticket"])
    report = report_of(morning, DAY, later)
    assert [(month, f.turns) for month, f in report.by_month] == [(date(2026, 11, 1), 4), (date(2027, 2, 1), 4)]
    html = render_body(report)
    rows = html.split("<h2>Por mes</h2>")[1].split("</table>")[0]
    assert cells(rows.split('<th scope="row">Noviembre de 2026</th>')[1].split("</tr>")[0])[:2] == ["4", "3"]
    assert '<th scope="row">Febrero de 2027</th>' in rows
    assert "<figcaption>Turnos por mes</figcaption>" in html and "<figcaption>Espera media por mes</figcaption>" in html
    assert "Por mes" not in render_body(report_of(morning))        # one day: no months to compare


def test_a_chart_has_round_ticks_and_bars_in_proportion():
    svg = ET.fromstring(charts.bar_chart(["a", "b"], [3, 7], title="t", x_title="x", y_title="y", integer=True))
    bars = list(svg.iter(f"{SVG}rect"))
    assert float(bars[1].get("height")) / float(bars[0].get("height")) == pytest.approx(7 / 3, rel=0.01)
    assert [t.text for t in svg.iter(f"{SVG}text")][:5] == ["0", "2", "4", "6", "8"]
    assert charts.number(12.34) == "12,3"
    assert charts.number(3.0) == "3" and charts.number(1234.5) == "1.234,5" and charts.number(1234567, 0) == "1.234.567"
    assert charts.number(2.5, 0) == "3" and charts.number(0.25) == "0,3"      # half up, as a spreadsheet rounds


def test_a_long_day_a_year_and_big_numbers_keep_a_chart_readable():
    hours = [f"{h}:00" for h in range(6, 22)]                                  # sixteen hour slots
    year = [12_345 + 1_000 * h for h in range(len(hours))]                     # a year of arrivals per hour
    svg = ET.fromstring(charts.bar_chart(hours, year, title="t", x_title="x", y_title="y", integer=True))
    texts = [(float(t.get("x")), t.text) for t in svg.iter(f"{SVG}text") if t.get("x") and t.text]
    shown_hours = [text for _x, text in texts if text in hours]
    assert 2 <= len(shown_hours) < len(hours) and shown_hours[0] == "6:00"      # every other hour or so
    label_x = sorted(x for x, text in texts if text in hours)
    assert all(b - a >= 7.2 * 5 for a, b in zip(label_x, label_x[1:]))         # never run together
    ticks = [(x, text) for x, text in texts if text and text[0].isdigit() and "." in text and ":" not in text]
    assert ticks and all(x - 7.2 * len(text) > 16 + 6 for x, text in ticks)    # clear of the y title (x = 16)
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("font-size") in ("10", "12") and "." in (t.text or "")]
    assert all(len(v) <= 6 for v in values)                                      # a value shown fits its slot


def test_labels_that_have_room_are_all_shown():
    ranges = ["0–5", "5–10", "10–15", "15–20", "20–30", "30–45", "45–60", "más de 60"]
    svg = ET.fromstring(charts.bar_chart(ranges, [1, 2, 3, 4, 5, 6, 7, 8], title="t", x_title="x", y_title="y"))
    assert [t.text for t in svg.iter(f"{SVG}text") if t.text in ranges] == ranges
