"""The coordinators' page: a Flask application (routes, sign-in, the live view's loop, the CSV and the report
made a period at a time, at most MAX_PERIODS at once), served over HTTPS by server.py.

A component of its own beside the hub loop (live.py says what it reads). Sessions are records of the hub
(accounts.py): the cookie holds a random token, Secure, HttpOnly and SameSite=Strict; every POST must come from
the page itself (its Origin). Templates are Jinja2's, autoescaped.
"""
from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, g, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from appliance import contract
from appliance.core.link import Link
from appliance.core.steps import arrived
from appliance.records.journal import DayStore
from appliance.records.turns_csv import csv_chunks
from appliance.site import SiteConfig
from hub.export import rows
from hub.report.figures import Report, build
from hub.report.render import STYLESHEET, render_body, render_document
from hub.web.accounts import SESSION_S, Accounts
from hub.web.auth import Throttle
from hub.web.live import LiveView
from hub.web.orders import COMMAND_EXPIRY_S, OUTCOME_NAMES, command_from_form, describe
from hub.web.queries import MAX_DAYS, BadRequest, parse_query, period
from hub.web.server import HEADERS, MAX_BODY, PageServer, redirect_app

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
COOKIE = "__Host-turnero_sesion"    # __Host-: only ever set by this host over HTTPS, for the whole site
MAX_PERIODS = 4                     # CSV downloads and reports being made at once (each holds a day in memory)
REFRESH_S = 2.0                     # how often the live view is recomputed
EAGER_S = 0.25                      # how soon after a message it is recomputed
NAV = (("/en-vivo", "En vivo"), ("/modulos", "Módulos"), ("/informe", "Informe"), ("/exportar", "Exportar CSV"),
       ("/contingencia", "Contingencia"))
ANSWER_S = 5.0                      # how long an order waits for the hub's answer before the page says it has none
ORDER_PAGES = {"/modulos": ("desks.html", "Módulos"), "/contingencia": ("contingency.html", "Contingencia")}
ERRORS = {
    400: ("Solicitud no válida", "La solicitud no se pudo interpretar."),
    401: ("Inicie sesión", "Inicie sesión para ver esta página."),
    403: ("Solicitud no permitida", "Esta solicitud no vino de esta página. Vuelva a abrirla e intente de nuevo."),
    404: ("Página no encontrada", "La página que busca no existe."),
    405: ("Método no permitido", "Esta página no acepta esa clase de solicitud."),
    413: ("Solicitud demasiado grande", "La solicitud es demasiado grande."),
    429: ("Demasiados intentos", "Hubo demasiados intentos fallidos. Espere unos minutos y vuelva a intentarlo."),
    500: ("Error interno", "Ocurrió un error interno. Intente de nuevo; si continúa, avise al técnico."),
}
EVERY_INTERFACE = ("", "0.0.0.0", "::")
_BUSY = (f"Ya se están preparando {MAX_PERIODS} informes o archivos CSV, lo más que el servidor hace a la vez. "
         "Espere a que termine alguno y vuelva a intentarlo en un momento.")


class WebError(RuntimeError):
    """The page cannot start (its port is taken, its certificate is missing); the text says why."""


# --- the component -----------------------------------------------------------------------------------------

class CoordinatorsWeb:
    """`start()` binds the ports and connects; `stop()` ends both. `url` is where the page answers."""

    device = "hub-web"

    def __init__(self, config: SiteConfig, state_dir: Path, *, host: str | None = None, port: int | None = None,
                 http_port: int | None = None, front: bool = False, now=None):
        """`front`: behind nginx (appliance/ops/front.py), as on the hub: plain HTTP on the loopback at
        [web] app_port, a client's address from nginx's header; nginx does TLS and the redirect. Otherwise the
        page serves HTTPS itself on `host`:`port` and redirects from `http_port`."""
        self.config = config
        self.front = front
        self.host = "127.0.0.1" if front else config.web.host if host is None else host
        self.port = config.web.app_port if front else config.web.port if port is None else port
        self.http_port = 0 if front else config.web.http_port if http_port is None else http_port
        self.now = now or (lambda: datetime.now(config.timezone))
        self.store = DayStore(Path(state_dir) / "days")
        self.periods = threading.BoundedSemaphore(MAX_PERIODS)   # CSVs and reports being made
        self.accounts = Accounts(Path(state_dir))
        self.throttle = Throttle()
        self.inbox: queue.Queue = queue.Queue()
        self.link = Link(self.device, config.broker, self.inbox, now=self.now, subscriptions=(
            contract.BOARD_TOPIC, contract.desk_state_topic("+"), contract.status_topic("+"),
            contract.printer_topic("+"), contract.heartbeat_topic("+")))
        self.live = LiveView(config, self.store, self.link, self.now)
        self.app = make_app(self)
        self._stop = threading.Event()
        self._servers: list[PageServer] = []
        self._watcher: threading.Thread | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.config.web.tls and not self.front else "http"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in EVERY_INTERFACE else self.host
        return f"{self.scheme}://{host}:{self.port}/"

    def start(self) -> None:
        web = self.config.web
        page = self._listener(self.app, self.port, "the coordinators' page",
                              tls=(web.cert_file, web.key_file) if self.scheme == "https" else None)
        self.port = page.port
        if self.http_port and self.scheme == "https":
            redirect = self._listener(redirect_app(self.port, self.config.broker.host), self.http_port,
                                      "the page's plain-HTTP redirect")
            self.http_port = redirect.port
        self.live.refresh()
        self.link.start()
        self._watcher = threading.Thread(target=self._watch, name="hub-web-live", daemon=True)
        self._watcher.start()
        if self.host in EVERY_INTERFACE:
            log.info("coordinators' page on every interface, port %d: %s://%s:%d/ from the site network, %s on "
                     "the hub itself", self.port, self.scheme, socket.gethostname(), self.port, self.url)
        else:
            log.info("coordinators' page on %s only", self.url)

    def _listener(self, app, port: int, what: str, tls: tuple[Path, Path] | None = None) -> PageServer:
        try:
            server = PageServer(app, self.host, port, tls=tls)
        except (OSError, ValueError) as exc:    # only TLS reads files here: missing, or not a key and its certificate
            raise WebError(f"{what} cannot use its certificate {tls[0]} and key {tls[1]} ({exc}): on the hub, "
                           "`sudo turnero install --role hub` issues them from the site CA ([web] cert_file, "
                           "key_file)") from None
        try:
            server.start()
        except OSError as exc:
            self.stop()
            raise WebError(f"{what} cannot listen on {self.host}:{port}: {exc.strerror or exc}") from None
        self._servers.append(server)
        return server

    def stop(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.stop()
        self._servers = []
        if self._watcher is not None:
            self._watcher.join(5)
        self.link.stop()

    def _watch(self) -> None:
        """The only writer of the live view: takes what the link delivers; recomputes soon after a change
        (at most every EAGER_S) and every REFRESH_S anyway, for the waits that grow and the day file."""
        last, changed = 0.0, False
        while not self._stop.is_set():
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


# --- the application -----------------------------------------------------------------------------------------

pages = Blueprint("pages", __name__)
PUBLIC = {"pages.login_form", "pages.login", "pages.logout", "pages.stylesheet", "pages.script"}


def make_app(web: CoordinatorsWeb) -> Flask:
    app = Flask(__name__, static_folder=None)
    if web.front:   # only nginx reaches the loopback port: its header names the client (the throttle counts it)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=0, x_host=0, x_port=0, x_prefix=0)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY)
    app.extensions["turnero"] = web
    app.register_blueprint(pages)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadRequest, lambda exc: _error(400, str(exc)))
    app.register_error_handler(Exception, _unexpected)
    return app


def _web() -> CoordinatorsWeb:
    return current_app.extensions["turnero"]


def route(path: str, methods=("GET",)):
    # No automatic OPTIONS answer: the page has nothing to say to a preflight.
    return pages.route(path, methods=list(methods), provide_automatic_options=False)


@pages.before_app_request
def _gatekeeper():
    g.token = request.cookies.get(COOKIE)
    g.user = _web().accounts.user(g.token)
    if request.routing_exception is not None:   # no such page, or not by this method: 404 or 405 follows
        return None
    if request.method == "POST" and not _from_this_page():
        log.warning("hub-web: a POST to %s from %s came from another site (Origin %r): refused", request.path[:100],
                    request.remote_addr, (request.headers.get("Origin") or "")[:100])
        return _error(403)
    if request.endpoint in PUBLIC or g.user is not None:
        return None
    if request.path.startswith("/api/") or request.path.endswith((".csv", ".html")):
        return _error(401)
    return _redirect("/ingresar")


@pages.after_app_request
def _headers(response: Response) -> Response:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def _from_this_page() -> bool:
    """A form of this page sent it: its Origin (every browser sends one with a POST) names the host the request
    came to. A sign-in form on another site, or a page that posts to /salir, is refused."""
    origin, host = request.headers.get("Origin"), request.headers.get("Host")
    return bool(origin and host) and urlsplit(origin).netloc == host


def _redirect(location: str) -> Response:
    return Response(b"", 303, headers={"Location": location})    # Flask's own has an English page in it


def _render(template: str, status: int = 200, **values) -> Response:
    web = _web()
    section = "/" + request.path.split("/")[1].split(".")[0]    # /exportar/turnos.csv -> /exportar
    body = render_template(template, site=web.config.name, user=g.get("user"), nav=NAV, section=section,
                           max_days=MAX_DAYS, **values)
    return Response(body, status, content_type="text/html; charset=utf-8")


def _error(code: int, text: str | None = None, headers: dict | None = None) -> Response:
    title, default = ERRORS.get(code, ERRORS[400])
    if request.path.startswith("/api/"):
        response = Response(json.dumps({"error": text or default}, ensure_ascii=False), code,
                            content_type="application/json; charset=utf-8")
    else:
        response = _render("error.html", code, title=title, text=text or default)
    response.headers.update(headers or {})
    return response


def _http_error(exc: HTTPException) -> Response:
    if exc.response is not None:                       # abort(response): the answer is made already
        return exc.response
    allowed = getattr(exc, "valid_methods", None)     # a 405 says what the route takes
    return _error(exc.code if exc.code in ERRORS else 400, headers={"Allow": ", ".join(allowed)} if allowed else None)


def _unexpected(exc: Exception) -> Response:
    log.exception("hub-web: %s %s failed", request.method, request.path[:100])
    return _error(500)


def _query() -> dict[str, list[str]]:
    return parse_query(request.query_string.decode("utf-8", "replace"))


# --- sign-in ---------------------------------------------------------------------------------------------

@route("/")
def home():
    return _redirect("/en-vivo")


@route("/ingresar")
def login_form(status: int = 200, message: str = ""):
    if g.user is not None and status == 200:
        return _redirect("/en-vivo")
    return _render("login.html", status, title="Ingresar", message=message, no_accounts=not _web().accounts.names())


@route("/ingresar", methods=("POST",))
def login():
    web, client = _web(), request.remote_addr
    form = parse_query(request.get_data(cache=False).decode("utf-8", "replace"))
    name, password = (form.get(k, [""])[0][:64] for k in ("usuario", "clave"))
    if not web.throttle.admit(client, name):
        return login_form(429, ERRORS[429][1])
    token = web.accounts.sign_in(name, password)
    if token is None:
        log.warning("hub-web: failed sign-in for %r from %s", name, client)
        return login_form(401, "El usuario o la contraseña no son correctos.")
    web.throttle.succeeded(client, name)
    log.info("hub-web: %s signed in from %s", name, client)
    response = _redirect("/en-vivo")
    response.set_cookie(COOKIE, token, max_age=SESSION_S, path="/", secure=True, httponly=True, samesite="Strict")
    return response


@route("/salir", methods=("POST",))
def logout():
    _web().accounts.sign_out(g.token)
    if g.user is not None:
        log.info("hub-web: %s signed out", g.user)
    response = _redirect("/ingresar")
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="Strict")
    return response


# --- the pages -----------------------------------------------------------------------------------------

@route("/estilo.css")
def stylesheet():
    return Response(STYLESHEET.read_bytes(), content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@route("/en-vivo.js")
def script():
    return Response((STATIC / "live.js").read_bytes(), content_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@route("/en-vivo")
def live_page():
    return _render("live.html", title="En vivo")


@route("/api/en-vivo")
def live_json():
    return Response(json.dumps(_web().live.snapshot(), ensure_ascii=False),
                    content_type="application/json; charset=utf-8")


# --- the coordinators' orders ------------------------------------------------------------------------------

def _order_page(path: str, status: int = 200, message: str = "", form: dict | None = None) -> Response:
    """The Módulos or the Contingencia page: the desks as the hub last said, the forms, the result of the order
    just given (?orden=<id>, read back from the day's journal) and today's orders."""
    web = _web()
    template, title = ORDER_PAGES[path]
    result = None
    shown = (_query().get("orden") or [""])[0][:64] if request.method == "GET" else ""
    if shown:
        record = web.live.answer(shown)
        result = ({"ok": False, "text": "El hub todavía no confirma esa orden. Revise la vista en vivo en un momento "
                                        "antes de repetirla."} if record is None else
                  {"ok": not record.get("refused"),
                   "text": record.get("refused") or describe(record, web.config, done=True)})
    orders = [{"at": r["at"][11:16], "coordinator": r["coordinator"], "text": describe(r, web.config, done=False),
               "refused": r.get("refused")} for r in reversed(web.live.answers())]
    now = web.now()
    return _render(template, status, title=title, desks=web.live.snapshot().get("desks", []),
                   config=web.config, outcomes=OUTCOME_NAMES, result=result, message=message,
                   orders=orders, today=now.date().isoformat(), form=form or {})


@route("/modulos")
def desks_page():
    return _order_page("/modulos")


@route("/contingencia")
def contingency_page():
    return _order_page("/contingencia")


@route("/ordenes", methods=("POST",))
def give_order():
    """Sends the order to the hub and waits a moment for its answer in the journal; then back to the page it came
    from, which reads the answer (Post/Redirect/Get: a reload never gives the order twice)."""
    web = _web()
    form = parse_query(request.get_data(cache=False).decode("utf-8", "replace"))
    back = (form.get("volver") or [""])[0]
    if back not in ORDER_PAGES:
        back = "/modulos"
    try:
        command = command_from_form(form, web.config, g.user, web.now())
    except BadRequest as exc:
        return _order_page(back, 400, str(exc), {key: values[0][:80] for key, values in form.items()})
    if not web.link.connected:
        return _order_page(back, 503, "La página no tiene conexión con el hub: la orden no se envió. Intente de "
                                      "nuevo en un momento.")
    web.link.publish(contract.COMMAND_TOPIC, command.to_json(), expiry_s=COMMAND_EXPIRY_S)
    log.info("hub-web: %s ordered %s (%s)", g.user, command.action, command.id)
    web.live.answer(command.id, ANSWER_S)
    return _redirect(f"{back}?orden={command.id}")


def _period(template: str, title: str) -> tuple[date, date]:
    """The requested period; otherwise the form again (400) with the reason."""
    query = _query()
    try:
        return period(query, _web().now().date())
    except BadRequest as exc:
        first, last = ((query.get(key) or [""])[0][:20] for key in ("desde", "hasta"))
        abort(_render(template, 400, title=title, first=first, last=last, message=str(exc)))


def _take_a_slot(template: str, title: str, first: date, last: date) -> None:
    """One of the MAX_PERIODS reports and CSVs made at once (each holds a day of records in memory); otherwise
    the form again (429) saying why."""
    if not _web().periods.acquire(blocking=False):
        response = _render(template, 429, title=title, first=first.isoformat(), last=last.isoformat(),
                           message=_BUSY)
        response.headers["Retry-After"] = "30"
        abort(response)


def _report() -> tuple[date, date, Report]:
    """The report of the requested period, or the answer that refuses it."""
    first, last = _period("report.html", "Informe")
    _take_a_slot("report.html", "Informe", first, last)
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
    return _render("report.html", title="Informe", first=first.isoformat(), last=last.isoformat(),
                   download=download, report=Markup(render_body(built)))


@route("/informe.html")
def report_file():
    first, last, built = _report()
    return Response(render_document(built), content_type="text/html; charset=utf-8",
                    headers=_attachment(f"informe_{first.isoformat()}_{last.isoformat()}.html"))


@route("/exportar")
def export_page():
    today = _web().now().date().isoformat()
    return _render("export.html", title="Exportar CSV", first=today, last=today)


@route("/exportar/turnos.csv")
def csv_file():
    """Sent day by day as the period is read: a year's CSV never sits whole in the hub's memory. A failure
    halfway ends the body without its last chunk, so the browser reports a failed download, never half a file."""
    first, last = _period("export.html", "Exportar CSV")
    _take_a_slot("export.html", "Exportar CSV", first, last)
    web = _web()
    names = web.config.service_names()

    def body() -> Iterator[bytes]:
        try:
            yield from csv_chunks(rows(web.store, first, last, names))
        except Exception:
            log.exception("hub-web: the CSV of %s to %s failed while being sent; the download is cut short",
                          first, last)
            raise

    response = Response(body(), content_type="text/csv; charset=utf-8",
                        headers=_attachment(f"turnos_{first.isoformat()}_{last.isoformat()}.csv"))
    response.call_on_close(web.periods.release)     # also when the browser went away before the first byte
    return response


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"}
