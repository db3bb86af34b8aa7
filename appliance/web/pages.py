"""What every coordinators' page shares, the site's (hub.web) and the central's (central.web): the component that
serves a Flask application over HTTPS (server.py), and the application's common part: sign-in and sessions
(accounts.py, auth.py), the Origin check on every POST, the security headers, the errors in Spanish, the
templates' base, the stylesheet, and the periods a report or a CSV may ask for, a bounded number at once.

A role's page is a blueprint of routes (`pages(name)`) and a component that subclasses `PageComponent` with its
`nav`, `home`, the name its top bar shows and what starts beside the listeners. The cookie holds a random token,
Secure, HttpOnly and SameSite=Strict; templates are Jinja2's, autoescaped.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, g, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from appliance.report.html import STYLESHEET
from appliance.web.accounts import SESSION_S, Accounts
from appliance.web.auth import Throttle
from appliance.web.queries import MAX_DAYS, BadRequest, parse_query, period
from appliance.web.server import HEADERS, MAX_BODY, PageServer, redirect_app

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).with_name("templates")
COOKIE = "__Host-turnero_sesion"    # __Host-: only ever set by this host over HTTPS, for the whole site
MAX_PERIODS = 4                     # CSV downloads and reports being made at once (each holds a day in memory)
EVERY_INTERFACE = ("", "0.0.0.0", "::")
ERRORS = {
    400: ("Solicitud no válida", "La solicitud no se pudo interpretar."),
    401: ("Inicie sesión", "Inicie sesión para ver esta página."),
    403: ("Solicitud no permitida", "Esta solicitud no vino de esta página. Vuelva a abrirla e intente de nuevo."),
    404: ("Página no encontrada", "La página que busca no existe."),
    405: ("Método no permitido", "Esta página no acepta esa clase de solicitud."),
    413: ("Solicitud demasiado grande", "La solicitud es demasiado grande."),
    429: ("Demasiados intentos", "Hubo demasiados intentos fallidos. Espere unos minutos y vuelva a intentarlo."),
    500: ("Error interno", "Ocurrió un error interno. Intente de nuevo; si continúa, avise al técnico."),
    503: ("Servicio no disponible", "El servidor no puede atender esta solicitud en este momento. Intente de nuevo "
                                    "en un momento; si continúa, avise al técnico."),
}
_BUSY = (f"Ya se están preparando {MAX_PERIODS} informes o archivos CSV, lo más que el servidor hace a la vez. "
         "Espere a que termine alguno y vuelva a intentarlo en un momento.")


class WebError(RuntimeError):
    """The page cannot start (its port is taken, its certificate is missing); the text says why."""


# --- the component -----------------------------------------------------------------------------------------

class PageComponent:
    """`start()` binds the ports, connects the page's own MQTT link and runs `watch()` (what the page reads, in a
    thread of its own, until `stopping` is set); `stop()` ends all three. `url` is where it answers.

    `front`: behind nginx (appliance/ops/front.py): plain HTTP on the loopback, a client's address from nginx's
    header; nginx does TLS and the redirect. Otherwise the page serves HTTPS itself on `host`:`port` (with
    `tls`, the certificate and key) and redirects from `http_port` to the name in its certificate."""

    device = "web"
    home = "/"
    nav: tuple[tuple[str, str], ...] = ()
    first_account = "turnero web-user add"     # the command that makes the first account, for the sign-in page
    certificates = "`sudo turnero install` issues them"     # where the certificate and key come from

    def __init__(self, *, title: str, state_dir: Path, host: str, port: int, http_port: int,
                 tls: tuple[Path, Path] | None, name: str, front: bool, now):
        self.title, self.front, self.now, self.name = title, front, now, name
        self.host, self.port, self.http_port, self.tls = host, port, http_port, tls
        self.accounts = Accounts(Path(state_dir))
        self.throttle = Throttle()
        self.periods = threading.BoundedSemaphore(MAX_PERIODS)   # CSVs and reports being made
        self.public: set[str] = set()                            # endpoints open without a session
        self.stopping = threading.Event()
        self._servers: list[PageServer] = []
        self._watcher: threading.Thread | None = None
        self.app: Flask | None = None       # the subclass makes it (make_app) with its routes
        self.link = None                    # the subclass's own connection (appliance.core.link.Link)

    def start(self) -> None:
        self.listen(self.app)
        self.link.start()
        self._watcher = threading.Thread(target=self.watch, name=f"{self.device}-live", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self.stopping.set()
        self.close()
        if self._watcher is not None:
            self._watcher.join(5)
        self.link.stop()

    def watch(self) -> None:
        """What the page reads from its link, until `stopping` is set."""
        raise NotImplementedError

    @property
    def scheme(self) -> str:
        return "https" if self.tls and not self.front else "http"

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in EVERY_INTERFACE else self.host
        return f"{self.scheme}://{host}:{self.port}/"

    def listen(self, app: Flask) -> None:
        """Binds the page's port (and the redirect's): WebError when it cannot."""
        page = self._listener(app, self.port, "the coordinators' page",
                              tls=self.tls if self.scheme == "https" else None)
        self.port = page.port
        if self.http_port and self.scheme == "https":
            redirect = self._listener(redirect_app(self.port, self.name), self.http_port,
                                      "the page's plain-HTTP redirect")
            self.http_port = redirect.port
        if self.host in EVERY_INTERFACE:
            log.info("coordinators' page on every interface, port %d: %s://%s:%d/ from the network, %s here",
                     self.port, self.scheme, socket.gethostname(), self.port, self.url)
        else:
            log.info("coordinators' page on %s only", self.url)

    def _listener(self, app, port: int, what: str, tls: tuple[Path, Path] | None = None) -> PageServer:
        try:
            server = PageServer(app, self.host, port, tls=tls)
        except (OSError, ValueError) as exc:    # only TLS reads files here: missing, or not a key and its certificate
            raise WebError(f"{what} cannot use its certificate {tls[0]} and key {tls[1]} ({exc}): "
                           f"{self.certificates}") from None
        try:
            server.start()
        except OSError as exc:
            self.close()
            raise WebError(f"{what} cannot listen on {self.host}:{port}: {exc.strerror or exc}") from None
        self._servers.append(server)
        return server

    def close(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers = []


def make_app(component: PageComponent, *blueprints: Blueprint, templates: Path) -> Flask:
    """The application: the common routes and the role's, the role's templates before the common ones."""
    app = Flask(component.device, static_folder=None)
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(templates)), FileSystemLoader(str(TEMPLATES))])
    if component.front:   # only nginx reaches the loopback port: its header names the client (the throttle counts it)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=0, x_host=0, x_port=0, x_prefix=0)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY)
    app.extensions["turnero"] = component
    app.register_blueprint(_common)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    component.public |= {f"common.{name}" for name in ("home", "login_form", "login", "logout", "stylesheet")}
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadRequest, lambda exc: error(400, str(exc)))
    app.register_error_handler(Exception, _unexpected)
    return app


def component() -> PageComponent:
    return current_app.extensions["turnero"]


def routes(blueprint: Blueprint):
    """`@route(path, methods)` for a blueprint. No automatic OPTIONS answer: the page has nothing to say to a
    preflight."""
    def route(path: str, methods=("GET",)):
        return blueprint.route(path, methods=list(methods), provide_automatic_options=False)
    return route


_common = Blueprint("common", __name__)
route = routes(_common)


@_common.before_app_request
def _gatekeeper():
    web = component()
    g.token = request.cookies.get(COOKIE)
    g.user = web.accounts.user(g.token)
    if request.routing_exception is not None:   # no such page, or not by this method: 404 or 405 follows
        return None
    if request.method == "POST" and not _from_this_page():
        log.warning("web: a POST to %s from %s came from another site (Origin %r): refused", request.path[:100],
                    request.remote_addr, (request.headers.get("Origin") or "")[:100])
        return error(403)
    if request.endpoint in web.public or g.user is not None:
        return None
    if request.path.startswith("/api/") or request.path.endswith((".csv", ".html")):
        return error(401)
    return redirect("/ingresar")


@_common.after_app_request
def _headers(response: Response) -> Response:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def _from_this_page() -> bool:
    """A form of this page sent it: its Origin (every browser sends one with a POST) names the host the request
    came to. A sign-in form on another site, or a page that posts to /salir, is refused."""
    origin, host = request.headers.get("Origin"), request.headers.get("Host")
    return bool(origin and host) and urlsplit(origin).netloc == host


def redirect(location: str) -> Response:
    return Response(b"", 303, headers={"Location": location})    # Flask's own has an English page in it


def render(template: str, status: int = 200, **values) -> Response:
    web = component()
    section = "/" + request.path.split("/")[1].split(".")[0]    # /exportar/turnos.csv -> /exportar
    body = render_template(template, site=web.title, user=g.get("user"), nav=web.nav, section=section,
                           max_days=MAX_DAYS, **values)
    return Response(body, status, content_type="text/html; charset=utf-8")


def json_answer(value, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def error(code: int, text: str | None = None, headers: dict | None = None) -> Response:
    title, default = ERRORS.get(code, ERRORS[400])
    if request.path.startswith("/api/"):
        response = json_answer({"error": text or default}, code)
    else:
        response = render("error.html", code, title=title, text=text or default)
    response.headers.update(headers or {})
    return response


def _http_error(exc: HTTPException) -> Response:
    if exc.response is not None:                       # abort(response): the answer is made already
        return exc.response
    allowed = getattr(exc, "valid_methods", None)     # a 405 says what the route takes
    return error(exc.code if exc.code in ERRORS else 400, headers={"Allow": ", ".join(allowed)} if allowed else None)


def _unexpected(exc: Exception) -> Response:
    log.exception("web: %s %s failed", request.method, request.path[:100])
    return error(500)


def query() -> dict[str, list[str]]:
    return parse_query(request.query_string.decode("utf-8", "replace"))


def form() -> dict[str, list[str]]:
    return parse_query(request.get_data(cache=False).decode("utf-8", "replace"))


def attachment(filename: str) -> dict:
    return {"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"}


def csv_download(chunks: Callable[[], Iterator[bytes]], filename: str) -> Response:
    """A CSV sent as it is made, in a slot `take_a_slot` took (given back when the answer ends, also when the
    browser went away before the first byte). A failure halfway ends the body without its last chunk, so the
    browser reports a failed download, never half a file."""
    def body() -> Iterator[bytes]:
        try:
            yield from chunks()
        except Exception:
            log.exception("web: %s failed while being sent; the download is cut short", filename)
            raise

    response = Response(body(), content_type="text/csv; charset=utf-8", headers=attachment(filename))
    response.call_on_close(component().periods.release)
    return response


def asked_period(template: str, title: str, **values) -> tuple[date, date]:
    """The requested period; otherwise the form again (400) with the reason."""
    asked = query()
    try:
        return period(asked, component().now().date())
    except BadRequest as exc:
        first, last = ((asked.get(key) or [""])[0][:20] for key in ("desde", "hasta"))
        abort(render(template, 400, title=title, first=first, last=last, message=str(exc), **values))


def take_a_slot(template: str, title: str, first: date, last: date, **values) -> None:
    """One of the MAX_PERIODS reports and CSVs made at once (each holds a day of records in memory); otherwise
    the form again (429) saying why. The caller releases `component().periods`."""
    if not component().periods.acquire(blocking=False):
        response = render(template, 429, title=title, first=first.isoformat(), last=last.isoformat(),
                          message=_BUSY, **values)
        response.headers["Retry-After"] = "30"
        abort(response)


# --- sign-in ---------------------------------------------------------------------------------------------

@route("/")
def home():
    return redirect(component().home if g.user is not None else "/ingresar")


@route("/ingresar")
def login_form(status: int = 200, message: str = ""):
    web = component()
    if g.user is not None and status == 200:
        return redirect(web.home)
    return render("login.html", status, title="Ingresar", message=message, no_accounts=not web.accounts.names(),
                  first_account=web.first_account)


@route("/ingresar", methods=("POST",))
def login():
    web, client = component(), request.remote_addr
    sent = form()
    name, password = (sent.get(k, [""])[0][:64] for k in ("usuario", "clave"))
    if not web.throttle.admit(client, name):
        return login_form(429, ERRORS[429][1])
    token = web.accounts.sign_in(name, password)
    if token is None:
        log.warning("web: failed sign-in for %r from %s", name, client)
        return login_form(401, "El usuario o la contraseña no son correctos.")
    web.throttle.succeeded(client, name)
    log.info("web: %s signed in from %s", name, client)
    response = redirect(web.home)
    response.set_cookie(COOKIE, token, max_age=SESSION_S, path="/", secure=True, httponly=True, samesite="Strict")
    return response


@route("/salir", methods=("POST",))
def logout():
    component().accounts.sign_out(g.token)
    if g.user is not None:
        log.info("web: %s signed out", g.user)
    response = redirect("/ingresar")
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="Strict")
    return response


@route("/estilo.css")
def stylesheet():
    return Response(STYLESHEET.read_bytes(), content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})
