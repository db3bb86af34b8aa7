"""The "Mi turno" page: what a citizen's phone shows after scanning the QR code on the ticket. Public, in Spanish,
readable without JavaScript and by a screen reader; it refreshes by itself. It sets no cookie, links nowhere
else, and answers a code that is malformed, never issued or of another day exactly alike (404).

It depends on no role: `public_app(book)` serves whatever a `PositionsBook` holds, fed with the retained
Positions messages of a site (the hub's guest listener, hub/mi_turno.py) or of every site (the central, through
the bridge). Rate limits are the front's (nginx, appliance/ops/front.py): this process sees only what it lets
through.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from appliance import contract
from appliance.core.public_code import PATH
from appliance.core.spanish import plural, to_the
from appliance.web.server import HEADERS

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
# Seconds between two refreshes: often while the turn waits or is called, seldom once it has ended (a no-show
# may be reinstated, and the day ends), and for a code not found (a ticket printed while the hub was away).
REFRESH_S = {"waiting": 5, "called": 5, "attended": 20, "no_show": 20, "closed": 20, None: 20}
ASSETS = {"mi-turno.css": "text/css; charset=utf-8", "mi-turno.js": "text/javascript; charset=utf-8"}
ERRORS = {404: "Página no encontrada", 405: "Solicitud no permitida", 500: "Error interno"}


class PositionsBook:
    """The latest Positions of each shard of each site, as the broker retains them. `take()` runs in the MQTT
    thread and `find()` in the page's: a shard's table is replaced whole, never changed in place."""

    def __init__(self, today: Callable[[], str]):
        """`today()`: the day now ("2026-12-06"): a shard of another day holds only expired codes."""
        self._today = today
        # shard -> site -> (day, the site's name, code -> position)
        self._shards: dict[str, dict[str, tuple[str, str, dict[str, contract.Position]]]] = {}
        self._lock = threading.Lock()

    def take(self, message: contract.Positions, site: str = "") -> None:
        """`site`: whose shard it is, where one book holds several sites' (the central's)."""
        table = {position.public_code: position for position in message.positions}
        with self._lock:
            self._shards.setdefault(message.shard, {})[site] = (message.day, message.name, table)

    def find(self, code: str) -> tuple[str, contract.Position] | None:
        """(the site's name, the turn's position) for a well-formed code of today; None for anything else."""
        if not contract.PUBLIC_CODE.fullmatch(code):
            return None
        with self._lock:
            held = list(self._shards.get(contract.shard_of(code), {}).values())
        today = self._today()
        return next(((name, table[code]) for day, name, table in held if day == today and code in table), None)


def public_app(book: PositionsBook, *, behind_front: bool = True) -> Flask:
    """The page's whole application: a turn's page, its stylesheet and script, and Spanish errors."""
    app = Flask("mi-turno", static_folder=None, template_folder=str(HERE / "templates"))
    if behind_front:   # only nginx reaches the loopback port: its header names the client, for the log
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=0, x_host=0, x_port=0, x_prefix=0)

    @app.get(f"{PATH}<path:code>", provide_automatic_options=False)
    def turn(code: str):
        found = book.find(code.lower())    # typed by hand in capitals, the code still reads
        if found is None:
            return _page("mi_turno_unknown.html", 404, state=None)
        name, position = found
        return _page("mi_turno.html", 200, state=position.state, site=name, turn=position, words=words(position))

    @app.get("/<any(\"mi-turno.css\", \"mi-turno.js\"):asset>", provide_automatic_options=False)
    def asset(asset: str):
        return Response((HERE / "static" / asset).read_bytes(), content_type=ASSETS[asset],
                        headers={"Cache-Control": "max-age=3600"})

    app.register_error_handler(HTTPException, lambda exc: _error(exc.code if exc.code in ERRORS else 404))
    app.register_error_handler(Exception, _unexpected)
    app.after_request(_headers)
    return app


@dataclass(frozen=True)
class Words:
    headline: str              # what the page says first, large: a screen reader reads it as the page's status
    lines: tuple[str, ...]


def words(position: contract.Position) -> Words:
    """What the page says of a turn, by its state."""
    if position.state == "waiting":
        ahead = position.ahead
        headline = ("No hay personas antes que usted" if ahead == 0 else
                    f"{ahead} {plural(ahead, 'persona', 'personas')} antes que usted")
        minutes = position.minutes
        estimate = ("Todavía no hay un tiempo estimado de espera." if minutes is None else
                    f"Tiempo estimado de espera: {minutes} {plural(minutes, 'minuto', 'minutos')}.")
        return Words(headline, (estimate, "Cuando lo llamen, esta página se lo dirá."))
    if position.state == "called":
        desk = position.desk_name
        return Words(f"Es su turno: diríjase {to_the(desk)} {desk}", ("Acérquese ahora con su tiquete.",))
    if position.state == "attended":
        return Words("Gracias por su visita", ("Su atención terminó.",))
    if position.state == "no_show":
        return Words("Su turno fue llamado y usted no se presentó",
                     ("Si todavía está en la sede, acérquese a un asesor.",))
    return Words("Su turno se cerró sin atención",
                 ("Si todavía necesita el servicio, acérquese a un asesor o tome un turno nuevo.",))


def _page(template: str, status: int, *, state: str | None, **values) -> Response:
    body = render_template(template, refresh=REFRESH_S[state], state=state or "unknown", **values)
    return Response(body, status, content_type="text/html; charset=utf-8")


def _error(status: int) -> Response:
    if status == 404:
        return _page("mi_turno_unknown.html", 404, state=None)
    return Response(render_template("mi_turno_error.html", title=ERRORS[status], refresh=None, state="unknown"), status,
                    content_type="text/html; charset=utf-8")


def _unexpected(exc: Exception) -> Response:
    log.exception("mi-turno: %s %s failed", request.method, contract.loggable(request.path))
    return _error(500)


def _headers(response: Response) -> Response:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    return response
