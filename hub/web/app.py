"""The site's coordinators' page: its component beside the hub loop (the live view's loop; live.py says what it
reads) and its routes: the live view, the desks' and contingency orders, the report and the CSV made a period at
a time. What every coordinators' page shares (sign-in, sessions, errors, the server) is appliance.web.pages.
"""
from __future__ import annotations

import logging
import queue
import time
from datetime import date, datetime
from pathlib import Path

from flask import Blueprint, Response, g, request
from markupsafe import Markup

from appliance import contract
from appliance.core.link import Link
from appliance.core.steps import arrived
from appliance.records.bookings import bookings_of
from appliance.records.contacts import Contacts
from appliance.records.journal import DayStore
from appliance.records.turns_csv import csv_chunks
from appliance.site import SiteConfig
from appliance.web.pages import (PageComponent, WebError, asked_period, attachment, component, csv_download,
                                 error, form, json_answer, make_app, query, redirect, render, routes, take_a_slot)
from appliance.web.queries import BadRequest
from hub.export import rows
from hub.report.figures import Report, build
from hub.report.render import render_body, render_document
from hub.web.appointments import agenda, find, slip, times
from hub.web.live import LiveView
from hub.web.orders import COMMAND_EXPIRY_S, OUTCOME_NAMES, command_from_form, describe

__all__ = ["CoordinatorsWeb", "WebError"]
log = logging.getLogger(__name__)
HERE = Path(__file__).parent
REFRESH_S = 2.0                     # how often the live view is recomputed
EAGER_S = 0.25                      # how soon after a message it is recomputed
ANSWER_S = 5.0                      # how long an order waits for the hub's answer before the page says it has none
ORDER_PAGES = {"/modulos": ("desks.html", "Módulos"), "/contingencia": ("contingency.html", "Contingencia"),
               "/citas": ("appointments.html", "Citas")}
SLIP_EXPIRY_S = 60   # a slip order a kiosk has not taken by then is dropped: the coordinator has moved on


class CoordinatorsWeb(PageComponent):
    """The page of one site, in the hub's process."""

    device = "hub-web"
    home = "/en-vivo"
    nav = (("/en-vivo", "En vivo"), ("/modulos", "Módulos"), ("/informe", "Informe"), ("/exportar", "Exportar CSV"),
           ("/contingencia", "Contingencia"))
    certificates = "`sudo turnero install --role hub` issues them from the site CA ([web] cert_file, key_file)"

    def __init__(self, config: SiteConfig, state_dir: Path, *, host: str | None = None, port: int | None = None,
                 http_port: int | None = None, front: bool = False, now=None):
        """`front`: behind nginx at [web] app_port, as on the hub (PageComponent says more)."""
        web = config.web
        super().__init__(
            title=config.name, state_dir=state_dir, front=front, name=config.broker.host,
            host="127.0.0.1" if front else web.host if host is None else host,
            port=web.app_port if front else web.port if port is None else port,
            http_port=0 if front else web.http_port if http_port is None else http_port,
            tls=(web.cert_file, web.key_file) if web.tls else None,
            now=now or (lambda: datetime.now(config.timezone)))
        self.config = config
        if config.appointments is not None:
            self.nav = (*self.nav[:2], ("/citas", "Citas"), *self.nav[2:])
        self.store = DayStore(Path(state_dir) / "days")
        self.contacts = Contacts(Path(state_dir) / "contacts")   # the hub writes them; staff read them here
        self.inbox: queue.Queue = queue.Queue()
        self.link = Link(self.device, config.broker, self.inbox, now=self.now, subscriptions=(
            contract.BOARD_TOPIC, contract.desk_state_topic("+"), contract.status_topic("+"),
            contract.printer_topic("+"), contract.heartbeat_topic("+")), site_file=config.version)
        self.live = LiveView(config, self.store, self.link, self.now)
        self.app = make_app(self, pages, templates=HERE / "templates")
        self.public.add("pages.script")

    def start(self) -> None:
        self.live.refresh()     # the page answers with today's picture from its first request
        super().start()

    def watch(self) -> None:
        """The only writer of the live view: takes what the link delivers; recomputes soon after a change
        (at most every EAGER_S) and every REFRESH_S anyway, for the waits that grow and the day file."""
        last, changed = 0.0, False
        while not self.stopping.is_set():
            for item in arrived(self.inbox, EAGER_S, None):
                self.live.take(item)
                changed = True
            elapsed = time.monotonic() - last
            if elapsed >= REFRESH_S or (changed and elapsed >= EAGER_S):
                try:
                    self.live.refresh()
                except Exception:   # a bad day file must not end the live view; it is tried again
                    log.exception("hub-web: the live view could not be recomputed")
                last, changed = time.monotonic(), False
            self.link.heartbeat()


pages = Blueprint("pages", __name__)
route = routes(pages)


def _web() -> CoordinatorsWeb:
    return component()


@route("/en-vivo.js")
def script():
    return Response((HERE / "static" / "live.js").read_bytes(), content_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@route("/en-vivo")
def live_page():
    return render("live.html", title="En vivo")


@route("/api/en-vivo")
def live_json():
    return json_answer(_web().live.snapshot())


# --- the coordinators' orders ------------------------------------------------------------------------------

def _order_page(path: str, status: int = 200, message: str = "", filled: dict | None = None) -> Response:
    """The Módulos or the Contingencia page: the desks as the hub last said, the forms, the result of the order
    just given (?orden=<id>, read back from the day's journal) and today's orders."""
    web = _web()
    template, title = ORDER_PAGES[path]
    result = None
    shown = (query().get("orden") or [""])[0][:64] if request.method == "GET" else ""
    if shown:
        record = web.live.answer(shown)
        result = ({"ok": False, "text": "El hub todavía no confirma esa orden. Revise la vista en vivo en un momento "
                                        "antes de repetirla."} if record is None else
                  {"ok": not record.get("refused"),
                   "text": record.get("refused") or describe(record, web.config, done=True)})
    orders = [{"at": r["at"][11:16], "coordinator": r["coordinator"], "text": describe(r, web.config, done=False),
               "refused": r.get("refused")} for r in reversed(web.live.answers())]
    now = web.now()
    return render(template, status, title=title, desks=web.live.snapshot().get("desks", []),
                  config=web.config, outcomes=OUTCOME_NAMES, result=result, message=message,
                  orders=orders, today=now.date().isoformat(), form=filled or {},
                  **(_appointments_view(web, now) if path == "/citas" else {}))


def _appointments_view(web: CoordinatorsWeb, now: datetime) -> dict:
    if web.config.appointments is None:
        return {"agenda": None}
    return {"agenda": agenda(web.store, web.contacts, web.config, now.date()), "times": times(web.config),
            "booked_services": [(letter, web.config.services[letter].name)
                                for letter, count in web.config.appointments.capacity.items() if count],
            "printed": next((k for k in web.config.kiosks if k == (query().get("comprobante") or [""])[0]), "")}


@route("/modulos")
def desks_page():
    return _order_page("/modulos")


@route("/contingencia")
def contingency_page():
    return _order_page("/contingencia")


@route("/citas")
def appointments_page():
    return _order_page("/citas")


def _appointment(web: CoordinatorsWeb, code: str) -> dict | None:
    if web.config.appointments is None:
        return None
    return find(agenda(web.store, web.contacts, web.config, web.now().date()), code)


@route("/citas/comprobante", methods=("POST",))
def print_slip():
    """Asks a kiosk to print an appointment's slip (a command to that kiosk, like the hub's to the desks)."""
    web = _web()
    sent = form()
    code, kiosk = ((sent.get(key) or [""])[0] for key in ("cita", "kiosco"))
    row = _appointment(web, code)
    if row is None or not row["booked"]:
        return _order_page("/citas", 400, "Esa cita no está agendada: no hay comprobante que imprimir.")
    if kiosk not in web.config.kiosks:
        return _order_page("/citas", 400, "Elija uno de los kioscos del sitio.")
    if not web.link.connected:
        return _order_page("/citas", 503, "La página no tiene conexión con los kioscos: el comprobante no se envió. "
                                          "Intente de nuevo en un momento, o imprímalo desde esta página.")
    booking = bookings_of(web.store.records(row["date"])).by_code[code]
    order = contract.AppointmentSlip(id=contract.new_id(), at=web.now().isoformat(timespec="milliseconds"),
                                     source=web.device, appointment=code, service=booking.service, slot=booking.slot)
    web.link.publish(contract.slip_topic(kiosk), order.to_json(), expiry_s=SLIP_EXPIRY_S)
    log.info("hub-web: %s asked %s for the slip of an appointment of %s", g.user, kiosk, row["date"])
    return redirect(f"/citas?comprobante={kiosk}")


@route("/citas/<code>")
def slip_page(code: str):
    """An appointment's slip as a page to print from the browser."""
    web = _web()
    row = _appointment(web, code)
    if row is None:
        return error(404, "Esa cita no está agendada en este sitio.")
    shown = slip(row, web.config)
    return render("slip.html", title="Comprobante de cita", slip=shown, qr=Markup(shown["qr"]))  # SVG of a code


@route("/ordenes", methods=("POST",))
def give_order():
    """Sends the order to the hub and waits a moment for its answer in the journal; then back to the page it came
    from, which reads the answer (Post/Redirect/Get: a reload never gives the order twice)."""
    web = _web()
    sent = form()
    back = (sent.get("volver") or [""])[0]
    if back not in ORDER_PAGES:
        back = "/modulos"
    try:
        command = command_from_form(sent, web.config, g.user, web.now())
    except BadRequest as exc:
        return _order_page(back, 400, str(exc), {key: values[0][:80] for key, values in sent.items()})
    if not web.link.connected:
        return _order_page(back, 503, "La página no tiene conexión con el hub: la orden no se envió. Intente de "
                                      "nuevo en un momento.")
    web.link.publish(contract.COMMAND_TOPIC, command.to_json(), expiry_s=COMMAND_EXPIRY_S)
    log.info("hub-web: %s ordered %s (%s)", g.user, command.action, command.id)
    web.live.answer(command.id, ANSWER_S)
    return redirect(f"{back}?orden={command.id}")


def _report() -> tuple[date, date, Report]:
    """The report of the requested period, or the answer that refuses it."""
    first, last = asked_period("report.html", "Informe")
    take_a_slot("report.html", "Informe", first, last)
    web = _web()
    try:
        return first, last, build(web.store, first, last, web.config, now=web.now())
    finally:
        web.periods.release()


@route("/informe")
def report_page():
    first, last, built = _report()
    download = f"/informe.html?desde={first.isoformat()}&hasta={last.isoformat()}"
    # render_body escapes every value it writes: its HTML goes in as it is.
    return render("report.html", title="Informe", first=first.isoformat(), last=last.isoformat(),
                  download=download, report=Markup(render_body(built)))


@route("/informe.html")
def report_file():
    first, last, built = _report()
    return Response(render_document(built), content_type="text/html; charset=utf-8",
                    headers=attachment(f"informe_{first.isoformat()}_{last.isoformat()}.html"))


@route("/exportar")
def export_page():
    today = _web().now().date().isoformat()
    return render("export.html", title="Exportar CSV", first=today, last=today)


@route("/exportar/turnos.csv")
def csv_file():
    """Sent day by day as the period is read: a year's CSV never sits whole in the hub's memory."""
    first, last = asked_period("export.html", "Exportar CSV")
    take_a_slot("export.html", "Exportar CSV", first, last)
    web = _web()
    names = web.config.service_names()
    return csv_download(lambda: csv_chunks(rows(web.store, first, last, names)),
                        f"turnos_{first.isoformat()}_{last.isoformat()}.csv")
