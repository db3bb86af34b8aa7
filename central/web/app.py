"""The central's coordinators' page: every site live, one site, the consolidated Informe, the CSV and the devices,
each showing only the sites the signed-in user may see (`turnero central user add NAME --sites …`). What every
coordinators' page shares (sign-in, sessions, errors, the server) is appliance.web.pages; the figures come from
PostgreSQL (one connection per request, local) and the live pictures from the page's own MQTT connection."""
from __future__ import annotations

import logging
import queue
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from flask import Blueprint, Response, abort, g
from markupsafe import Markup

from appliance.core.steps import arrived
from appliance.records.turns_csv import csv_chunks
from appliance.web.pages import (PageComponent, asked_period, attachment, component, csv_download, error, form,
                                 json_answer, make_app, query, redirect, render, routes, take_a_slot)
from appliance.web.queries import BadRequest
from central import export
from central.web import appointments
from central.config import CentralConfig
from central.database import DatabaseError, connect
from central.report.figures import build
from central.report.render import render_body, render_document
from central.web.live import Pictures
from central.web.sites import cards, devices, site_view

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
MAX_SITES_ASKED = 200           # `sede` values one request may name


class CentralWeb(PageComponent):
    """The page in `turnero central serve`'s process; its own thread takes the sites' pictures."""

    device = "central-web"
    home = "/sedes"
    nav = (("/sedes", "Sedes en vivo"), ("/informe", "Informe"), ("/exportar", "Exportar CSV"),
           ("/equipos", "Equipos"), ("/citas", "Citas"))
    first_account = "turnero central user add NOMBRE --all"
    certificates = "`turnero central broker-files` issues them from the central's CA ([broker] files)"

    def __init__(self, config: CentralConfig, *, front: bool = False, now=None):
        """`front`: behind nginx at [web] app_port, as installed (PageComponent says more)."""
        web = config.web
        super().__init__(title=config.name, state_dir=web.state, host="127.0.0.1" if front else web.host,
                         port=web.app_port if front else web.port, http_port=0 if front else web.http_port,
                         tls=(web.cert_file, web.key_file), name=config.broker.host, front=front,
                         now=now or (lambda: datetime.now(config.timezone)))
        self.config = config
        self.inbox: queue.Queue = queue.Queue()
        self.pictures = Pictures(config.broker, self.inbox, self.now)
        self.link = self.pictures.link
        self.app = make_app(self, pages, templates=HERE / "templates")
        self.app.register_error_handler(DatabaseError, _database_away)
        self.app.register_error_handler(psycopg.OperationalError, _database_away)

    def watch(self) -> None:
        while not self.stopping.is_set():
            for item in arrived(self.inbox, 0.5, None):
                self.pictures.take(item)
            self.link.heartbeat()

    @contextmanager
    def database(self):
        with connect(self.config.dsn) as db:
            yield db


pages = Blueprint("central_pages", __name__)
route = routes(pages)


def _web() -> CentralWeb:
    return component()


def _database_away(exc: Exception) -> Response:
    log.error("central-web: the database does not answer (%s)", str(exc).strip()[:200])
    return error(503, "La base de datos de la central no responde en este momento: las cifras no se pueden "
                      "consultar. Intente de nuevo en un momento; si continúa, avise al técnico.")


def _visible(db) -> list[tuple[str, str]]:
    """(id, name) of every site the signed-in user may see, in order of name."""
    allowed = _web().accounts.sites(g.user)
    return [(site, name or site) for site, name in db.execute(
        "SELECT site, name FROM sites WHERE %s::text[] IS NULL OR site = ANY(%s) ORDER BY coalesce(name, site), site",
        (None if allowed is None else list(allowed),) * 2).fetchall()]


def _asked_sites(visible: list[tuple[str, str]], template: str, title: str, **values) -> list[str]:
    """The `sede` values of the request, each one the user may see; every visible site when none is named."""
    asked = (query().get("sede") or [])[:MAX_SITES_ASKED]
    ids = [site for site, _ in visible]
    for site in asked:
        if site not in ids:
            abort(render(template, 403, title=title, message=f"No tiene acceso a la sede «{site[:40]}», o no existe. "
                                                             "Elija entre las sedes de la lista.", **values))
    return asked or ids


# --- live ---------------------------------------------------------------------------------------------------

@route("/sedes")
def sites_page():
    web = _web()
    with web.database() as db:
        found = cards(db, web.pictures, _visible(db), web.now())
    return render("sites.html", title="Sedes en vivo", cards=found, now=web.now())


@route("/api/sedes")
def sites_json():
    web = _web()
    with web.database() as db:
        return json_answer(cards(db, web.pictures, _visible(db), web.now()))


@route("/sedes/<site>")
def site_page(site: str):
    web = _web()
    with web.database() as db:
        visible = dict(_visible(db))
        view = site_view(db, web.pictures, _asked_site(visible, site), visible[site], web.now())
    return render("site.html", title=visible[site], view=view)


@route("/equipos")
def devices_page():
    web = _web()
    with web.database() as db:
        found = devices(db, web.pictures, _visible(db), web.now())
    return render("devices.html", title="Equipos", devices=found)


# --- appointments --------------------------------------------------------------------------------------------

def _appointments_page(site: str, visible: dict[str, str], status: int = 200, message: str = "",
                       shown: str = "") -> Response:
    web = _web()
    with web.database() as db:
        services = (db.execute("SELECT services FROM sites WHERE site = %s", (site,)).fetchone() or [{}])[0] or {}
        result = None
        if shown:
            record = appointments.answer(db, site, shown)
            result = ({"ok": False, "text": "La orden se envió a la sede; su respuesta llega en unos segundos. "
                                            "Recargue esta página antes de repetirla."} if record is None else
                      {"ok": not record.get("refused"), "text": record.get("refused") or _done(record)})
        listed = appointments.upcoming(db, site, web.now().date())
    return render("appointments.html", status, title="Citas", sites=list(visible.items()), chosen=site,
                  site_name=visible[site], services=services, listed=listed, result=result, message=message,
                  today=web.now().date().isoformat())


def _done(record: dict) -> str:
    if record.get("action") == "cancel_booking":
        return "La sede canceló la cita."
    slot = datetime.fromisoformat(record["slot"]) if record.get("slot") else None
    return (f"La sede agendó la cita {record.get('appointment', '')}"
            + (f" para el {slot:%Y-%m-%d} a las {slot:%H:%M}." if slot else "."))


def _asked_site(visible: dict[str, str], chosen: str) -> str:
    if chosen not in visible:     # unknown and forbidden answer alike: a user cannot probe for sites
        abort(error(404))
    return chosen


@route("/citas")
def appointments_page():
    web = _web()
    with web.database() as db:
        visible = dict(_visible(db))
    if not visible:
        return render("appointments.html", title="Citas", sites=[], chosen=None, listed=[])
    chosen = (query().get("sede") or [next(iter(visible))])[0]
    return _appointments_page(_asked_site(visible, chosen), visible, shown=(query().get("orden") or [""])[0])


@route("/citas", methods=("POST",))
def give_appointment_order():
    """Sent to the site's hub over its bridge; then back to the page, which reads the hub's answer from the
    records (Post/Redirect/Get: a reload never gives the order twice)."""
    web = _web()
    sent = form()
    with web.database() as db:
        visible = dict(_visible(db))
    site = _asked_site(visible, (sent.get("sede") or [""])[0])
    try:
        command = appointments.order_from_form(sent, g.user, web.now())
    except BadRequest as exc:
        return _appointments_page(site, visible, 400, str(exc))
    if not web.link.connected:
        return _appointments_page(site, visible, 503, "La página no tiene conexión con el broker de la central: la "
                                                      "orden no se envió. Intente de nuevo en un momento.")
    appointments.send(web.link, site, command)
    log.info("central-web: %s ordered %s at %s (%s)", g.user, command.action, site, command.id)
    return redirect(f"/citas?{urlencode({'sede': site, 'orden': command.id})}")


# --- the Informe and the CSV ------------------------------------------------------------------------------

def _period_and_sites(template: str, title: str) -> tuple[date, date, list[str], list[tuple[str, str]]]:
    web = _web()
    with web.database() as db:
        visible = _visible(db)
    first, last = asked_period(template, title, sites=visible, chosen=[])
    chosen = _asked_sites(visible, template, title, sites=visible, chosen=[], first=first.isoformat(),
                          last=last.isoformat())
    return first, last, chosen, visible


def _report():
    first, last, chosen, visible = _period_and_sites("report.html", "Informe")
    take_a_slot("report.html", "Informe", first, last, sites=visible, chosen=chosen)
    web = _web()
    try:
        with web.database() as db:
            return first, last, chosen, visible, build(db, first, last, chosen, now=web.now())
    finally:
        web.periods.release()


@route("/informe")
def report_page():
    asked = query()
    if not asked.get("desde") and not asked.get("sede"):    # the form first: a network's month is a choice
        web = _web()
        with web.database() as db:
            visible = _visible(db)
        today = web.now().date().isoformat()
        return render("report.html", title="Informe", first=today, last=today, sites=visible, chosen=[],
                      report=None, download=None)
    first, last, chosen, visible, built = _report()
    download = "/informe.html?" + _period_query(first, last, chosen)
    return render("report.html", title="Informe", first=first.isoformat(), last=last.isoformat(), sites=visible,
                  chosen=chosen, download=download, report=Markup(render_body(built)))


@route("/informe.html")
def report_file():
    first, last, _, _, built = _report()
    return Response(render_document(built), content_type="text/html; charset=utf-8",
                    headers=attachment(f"informe_consolidado_{first.isoformat()}_{last.isoformat()}.html"))


@route("/exportar")
def export_page():
    web = _web()
    with web.database() as db:
        visible = _visible(db)
    today = web.now().date().isoformat()
    return render("export.html", title="Exportar CSV", first=today, last=today, sites=visible, chosen=[])


@route("/exportar/turnos.csv")
def csv_file():
    """Streamed a site-day at a time from PostgreSQL (central/export.py): a network's year never sits whole in
    memory."""
    first, last, chosen, visible = _period_and_sites("export.html", "Exportar CSV")
    take_a_slot("export.html", "Exportar CSV", first, last, sites=visible, chosen=chosen)
    web = _web()

    def chunks() -> Iterator[bytes]:
        with web.database() as db:
            yield from csv_chunks(export.rows(db, first, last, chosen), columns=export.COLUMNS)
    return csv_download(chunks, f"turnos_sedes_{first.isoformat()}_{last.isoformat()}.csv")


def _period_query(first: date, last: date, sites: list[str]) -> str:
    return urlencode([("desde", first.isoformat()), ("hasta", last.isoformat()), *(("sede", s) for s in sites)])
