"""The coordinators' page as a server: its routes, sign-in, the live view's loop, and the CSV and the report made
a period at a time, at most MAX_PERIODS at once.

A component of its own beside the hub loop (live.py says what it reads). Served by the standard library's
ThreadingHTTPServer: a handful of coordinators on the site's network, nine routes. The session cookie
(auth.py) is HttpOnly and SameSite=Strict.
"""
from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from html import escape
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

from appliance import contract
from appliance.core.link import Link
from appliance.core.steps import arrived
from appliance.site import SiteConfig
from hub.export import csv_chunks, rows
from hub.report.figures import Report, build
from hub.report.render import STYLESHEET, render_body, render_document
from hub.store import DayStore
from hub.web.auth import COOKIE, SESSION_S, Sessions, Throttle, load_secret
from hub.web.live import LiveView
from hub.web.queries import BadRequest, parse_query, period, period_query
from hub.web.templates import ERRORS, EXPORT_INTRO, LIVE, page, period_form

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_PERIODS = 4                     # CSV downloads and reports being made at once (each holds a day in memory)
REFRESH_S = 2.0                     # how often the live view is recomputed
EAGER_S = 0.25                      # how soon after a message it is recomputed


class WebError(RuntimeError):
    """The page cannot start (its port is taken, for instance); the text says why."""


# --- the component -----------------------------------------------------------------------------------------

class CoordinatorsWeb:
    """`start()` binds the port and connects; `stop()` ends both. `url` is where the page answers."""

    device = "hub-web"

    def __init__(self, config: SiteConfig, state_dir: Path, *, host: str, port: int, now=None):
        self.config = config
        self.host, self.port = host, port
        self.now = now or (lambda: datetime.now(config.timezone))
        self.store = DayStore(Path(state_dir) / "days")
        self.periods = threading.BoundedSemaphore(MAX_PERIODS)   # CSVs and reports being made
        self.sessions = Sessions(load_secret(Path(state_dir)), {u.name: u.password_hash for u in config.web.users})
        self.throttle = Throttle()
        self.inbox: queue.Queue = queue.Queue()
        self.link = Link(self.device, config.broker, self.inbox, now=self.now, subscriptions=(
            contract.BOARD_TOPIC, contract.desk_state_topic("+"), contract.status_topic("+"),
            contract.printer_topic("+"), contract.heartbeat_topic("+")))
        self.live = LiveView(config, self.store, self.link, self.now)
        self._stop = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        try:
            self._server = _Server((self.host, self.port), self)
        except OSError as exc:
            raise WebError(f"the coordinators' page cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        self.port = self._server.server_address[1]
        self.live.refresh()
        self.link.start()
        self._threads = [threading.Thread(target=self._watch, name="hub-web-live", daemon=True),
                         threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.5},
                                          name="hub-web-http", daemon=True)]
        for thread in self._threads:
            thread.start()
        if self.host in ("", "0.0.0.0", "::"):
            log.info("coordinators' page on every interface, port %d: http://%s:%d/ from the site network, %s on "
                     "the hub itself", self.port, socket.gethostname(), self.port, self.url)
        else:
            log.info("coordinators' page on %s only", self.url)

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(5)
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


# --- HTTP -------------------------------------------------------------------------------------------------


_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" with the page's own forms.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, web: CoordinatorsWeb):
        self.web = web
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30                    # a client that stops sending frees its thread

    # routes: path -> {method: (handler name, needs a session)}
    ROUTES = {
        "/": {"GET": ("home", True)},
        "/ingresar": {"GET": ("login_form", False), "POST": ("login", False)},
        "/salir": {"POST": ("logout", False)},
        "/en-vivo": {"GET": ("live_page", True)},
        "/api/en-vivo": {"GET": ("live_json", True)},
        "/informe": {"GET": ("report_page", True)},
        "/informe.html": {"GET": ("report_file", True)},
        "/exportar": {"GET": ("export_page", True)},
        "/exportar/turnos.csv": {"GET": ("csv_file", True)},
        "/estilo.css": {"GET": ("asset", False)},
        "/en-vivo.js": {"GET": ("asset", False)},
    }
    ASSETS = {"/estilo.css": (STYLESHEET, "text/css; charset=utf-8"),
              "/en-vivo.js": (STATIC / "live.js", "text/javascript; charset=utf-8")}

    def version_string(self) -> str:
        return "turnero"           # no Python version for a stranger to look up

    @property
    def web(self) -> CoordinatorsWeb:
        return self.server.web

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        log.info("hub-web %s: %s", self.client_address[0], format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        route = self.ROUTES.get(parts.path) if self.path.startswith("/") and not self.path.startswith("//") else None
        self.user = self.web.sessions.user(self._cookie())
        if route is None:
            return self._error(404)
        if method not in route:
            return self._error(405, headers={"Allow": ", ".join(route)})
        if method == "POST" and not self._from_this_page():
            log.warning("hub-web: a POST to %s from %s came from another site (Origin %r): refused", parts.path,
                        self.client_address[0], (self.headers.get("Origin") or "")[:100])
            return self._error(403)
        name, private = route[method]
        if private and self.user is None:
            if parts.path.startswith("/api/") or parts.path.endswith((".csv", ".html")):
                return self._error(401)
            return self._redirect("/ingresar")
        self.route = parts.path
        try:
            self.query = parse_query(parts.query)
            getattr(self, name)()
        except BadRequest as exc:
            self._error(400, str(exc))
        except ConnectionError:     # the browser went away (closed tab, reload): nobody to answer
            self.close_connection = True
        except Exception:
            log.exception("hub-web: %s %s failed", method, parts.path)
            self._error(500)

    def _from_this_page(self) -> bool:
        """A form of this page sent it: its Origin (every browser sends one with a POST) names the host the
        request came to. A sign-in form on another site, or a page that posts to /salir, is refused."""
        origin, host = self.headers.get("Origin"), self.headers.get("Host")
        return bool(origin and host) and urlsplit(origin).netloc == host

    # --- responses ---------------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in {**_HEADERS, **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, chunks: Iterator[bytes], content_type: str, headers: dict) -> None:
        """A 200 whose body is sent as it is made. In HTTP/1.1 chunks, so that a body an error cuts short ends
        without its last chunk and the browser reports a failed download instead of keeping half a file (an
        HTTP/1.0 client has no chunks: the end of the connection ends the body)."""
        chunked = self.request_version != "HTTP/1.0"
        if chunked:
            self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        framing = {"Transfer-Encoding": "chunked"} if chunked else {}
        for key, value in {**_HEADERS, **headers, "Content-Type": content_type, "Connection": "close",
                           **framing}.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        except ConnectionError:
            raise
        except Exception:   # the status is sent: all that is left is to end the body short
            log.exception("hub-web: %s failed while being sent; the download is cut short", self.route)
            return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _html(self, status: int, title: str, body: str, headers: dict | None = None) -> None:
        self._send(status, page(self.web.config.name, title, body, user=getattr(self, "user", None),
                                 active=getattr(self, "route", "")).encode(), "text/html; charset=utf-8", headers)

    def _redirect(self, location: str, headers: dict | None = None) -> None:
        self._send(303, b"", "text/html; charset=utf-8", {"Location": location, **(headers or {})})

    def _error(self, code: int, text: str | None = None, headers: dict | None = None) -> None:
        title, default = ERRORS.get(code, ("Error", "No se pudo atender la solicitud."))
        if self.path.startswith("/api/"):
            body = json.dumps({"error": text or default}, ensure_ascii=False).encode()
            return self._send(code, body, "application/json; charset=utf-8", headers)
        self._html(code, title, f'<div class="panel"><h1>{escape(title)}</h1><p>{escape(text or default)}</p>'
                                f'<p><a href="/">Volver al inicio</a></p></div>', headers)

    def send_error(self, code, message=None, explain=None) -> None:
        """http.server's own refusals (a malformed request line, an unknown method) in the site's words."""
        self.close_connection = True
        self.path = self.path if isinstance(getattr(self, "path", None), str) else "/"
        self._error(405 if code == HTTPStatus.NOT_IMPLEMENTED else code if code in ERRORS else 400)

    def _cookie(self) -> str | None:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(COOKIE)
        except CookieError:
            return None
        return morsel.value if morsel else None

    def _form(self) -> dict[str, list[str]]:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest(ERRORS[411][1])
        if int(length) > 4096:
            raise BadRequest(ERRORS[413][1])
        return parse_query(self.rfile.read(int(length)).decode("utf-8", errors="replace"))

    # --- pages -------------------------------------------------------------------------------------------

    def home(self) -> None:
        self._redirect("/en-vivo")

    def asset(self) -> None:
        path, content_type = self.ASSETS[self.route]
        self._send(200, path.read_bytes(), content_type, {"Cache-Control": "no-cache"})

    def login_form(self, status: int = 200, message: str = "") -> None:
        if self.user is not None and status == 200:
            return self._redirect("/en-vivo")
        error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
        if not self.web.config.web.users:
            error = ('<p class="error">No hay usuarios configurados. El técnico debe agregar una sección '
                     "[[web.users]] al archivo del sitio.</p>")
        self._html(status, "Ingresar", f"""<div class="panel login">
<h1>Ingreso de coordinadores</h1>
<p class="muted">{escape(self.web.config.name)}</p>
{error}<form method="post" action="/ingresar">
<div class="field"><label for="usuario">Usuario</label>
<input id="usuario" name="usuario" autocomplete="username" required autofocus></div>
<div class="field"><label for="clave">Contraseña</label>
<input id="clave" name="clave" type="password" autocomplete="current-password" required></div>
<button class="button" type="submit">Ingresar</button>
</form></div>""")

    def login(self) -> None:
        client = self.client_address[0]
        try:
            form = self._form()
        except BadRequest as exc:
            return self.login_form(400, str(exc))
        name, password = (form.get(k, [""])[0][:64] for k in ("usuario", "clave"))
        if self.web.throttle.blocked(client, name):
            return self.login_form(429, ERRORS[429][1])
        value = self.web.sessions.sign_in(name, password)
        if value is None:
            self.web.throttle.failed(client, name)
            log.warning("hub-web: failed sign-in for %r from %s", name[:64], client)
            return self.login_form(401, "El usuario o la contraseña no son correctos.")
        self.web.throttle.succeeded(client, name)
        log.info("hub-web: %s signed in from %s", name, client)
        self._redirect("/en-vivo", {"Set-Cookie": f"{COOKIE}={value}; Path=/; Max-Age={SESSION_S}; HttpOnly; "
                                                  "SameSite=Strict"})

    def logout(self) -> None:
        self.user = None
        self._redirect("/ingresar", {"Set-Cookie": f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"})

    def live_page(self) -> None:
        self._html(200, "En vivo", LIVE)

    def live_json(self) -> None:
        body = json.dumps(self.web.live.snapshot(), ensure_ascii=False).encode()
        self._send(200, body, "application/json; charset=utf-8")

    def _period(self, action: str, button: str, intro: str = "") -> tuple[date, date] | None:
        """The requested period; None after answering 400 with the form and the reason."""
        try:
            return period(self.query, self.web.now().date())
        except BadRequest as exc:
            self._html(400, button, intro + period_form(action, button, self.query, str(exc)))
            return None

    @contextmanager
    def _reading(self, action: str, button: str, intro: str = "") -> Iterator[tuple[date, date] | None]:
        """The requested period while it is read, by at most MAX_PERIODS requests at once (each holds a day of
        records in memory); None after answering 400 or 429 with the form and the reason."""
        chosen = self._period(action, button, intro)
        if chosen is not None and not self.web.periods.acquire(blocking=False):
            self._html(429, button, intro + period_form(action, button, self.query, _BUSY), {"Retry-After": "30"})
            chosen = None
        if chosen is None:
            yield None
            return
        try:
            yield chosen
        finally:
            self.web.periods.release()

    def _report(self) -> tuple[date, date, Report] | None:
        """The report of the requested period; None after answering with the form and the reason."""
        with self._reading("/informe", "Ver informe") as chosen:
            if chosen is None:
                return None
            first, last = chosen
            return first, last, build(self.web.store, first, last, self.web.config, now=self.web.now())

    def report_page(self) -> None:
        if (found := self._report()) is None:
            return
        first, last, built = found
        download = f"/informe.html?desde={first.isoformat()}&hasta={last.isoformat()}"
        form = period_form("/informe", "Ver informe", period_query(first, last), extra=f'<a class="button secondary" '
                            f'href="{escape(download)}">Descargar el informe (HTML)</a>')
        self._html(200, "Informe", form + render_body(built))

    def report_file(self) -> None:
        if (found := self._report()) is None:
            return
        first, last, built = found
        self._send(200, render_document(built).encode(), "text/html; charset=utf-8",
                   _attachment(f"informe_{first.isoformat()}_{last.isoformat()}.html"))

    def export_page(self) -> None:
        today = self.web.now().date()
        self._html(200, "Exportar CSV", EXPORT_INTRO + period_form(
            "/exportar/turnos.csv", "Descargar CSV", period_query(today, today)))

    def csv_file(self) -> None:
        """Sent day by day as the period is read: a year's CSV never sits whole in the hub's memory."""
        with self._reading("/exportar/turnos.csv", "Descargar CSV", EXPORT_INTRO) as chosen:
            if chosen is None:
                return
            first, last = chosen
            names = {letter: service.name for letter, service in self.web.config.services.items()}
            self._stream(csv_chunks(rows(self.web.store, first, last, names)), "text/csv; charset=utf-8",
                         _attachment(f"turnos_{first.isoformat()}_{last.isoformat()}.csv"))


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"}


_BUSY = (f"Ya se están preparando {MAX_PERIODS} informes o archivos CSV, lo más que el servidor hace a la vez. "
         "Espere a que termine alguno y vuelva a intentarlo en un momento.")

