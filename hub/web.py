"""The coordinators' page: live queues, desks, devices and alarms; the CSV and the Informe Turnero.

A component of its own beside the hub loop. It keeps the live view with its own MQTT connection (device
"hub-web") to the retained board, desk states, device statuses and printer states, and reads the hub's journals:
today's followed as the hub appends to it, for the waits; a period's one day at a time, for the CSV and the
report. It never touches the hub loop's objects, so the two share no state and no lock.

Served by the standard library's ThreadingHTTPServer: a handful of coordinators on the site's network, nine
routes, no templates beyond f-strings with html.escape.

Sign-in: users and their scrypt hashes come from the site file ([[web.users]]); the session is a cookie signed
with HMAC-SHA256 under a per-install secret kept in the hub's state directory, HttpOnly and SameSite=Strict.
"""
from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import json
import logging
import os
import queue
import re
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from html import escape
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.site import SiteConfig
from appliance.core.durable import fsync_dir
from appliance.core.steps import arrived, refusing
from appliance.core.link import Connected, Disconnected, Link
from appliance.core.spanish import clock, short_date

from hub import report
from hub.export import csv_chunks, rows
from hub.ledger import Ledger, fold
from hub.store import DayStore, Follower

log = logging.getLogger(__name__)

ASSETS = Path(__file__).parent / "web_assets"
SECRET_FILE = "web-secret"
COOKIE = "turnero_sesion"
SESSION_S = 12 * 3600               # a working day; then sign in again
MAX_DAYS = 366                      # the longest period for the CSV and the report
MAX_PERIODS = 4                     # CSV downloads and reports being made at once (each holds a day in memory)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1   # 16 MiB and a fraction of a second on a Pi 4
REFRESH_S = 2.0                     # how often the live view is recomputed
EAGER_S = 0.25                      # how soon after a message it is recomputed
SETTLE_S = 3.0                      # after connecting, retained statuses have arrived by then
MAX_SKEW_S = 60                     # a device's clock further than this from the hub's is flagged
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class WebError(RuntimeError):
    """The page cannot start (its port is taken, for instance); the text says why."""


# --- passwords and sessions -------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(plain: str) -> str:
    """The `password_hash` of a [[web.users]] entry: scrypt with a random salt, parameters stored with it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(plain.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(plain: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(plain.encode(), salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected), maxmem=64 * 1024 * 1024)
    except (ValueError, binascii.Error):
        log.error("a password_hash in [[web.users]] cannot be used; make it again with turnero web-password")
        return False
    return hmac.compare_digest(actual, expected)


def password_prompt() -> int:
    """`turnero web-password`: asks for a password twice and prints the line for a [[web.users]] entry."""
    first = getpass.getpass("Password for the coordinators' page: ")
    if len(first) < 10:
        print("turnero web-password: use at least 10 characters", file=sys.stderr)
        return 2
    if getpass.getpass("The same password again: ") != first:
        print("turnero web-password: the two passwords differ", file=sys.stderr)
        return 2
    print(f'password_hash = "{hash_password(first)}"')
    return 0


def load_secret(state_dir: Path) -> bytes:
    """The per-install key that signs session cookies: made once, readable by the hub's user only."""
    path = Path(state_dir) / SECRET_FILE
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return secret


class Sessions:
    """Stateless signed cookies: "<name>.<expiry>.<mac>", the MAC also covering the user's current password
    hash, so a changed password or a removed user ends that user's sessions at once."""

    def __init__(self, secret: bytes, users: dict[str, str], *, now=time.time):
        self._secret, self._users, self._now = secret, users, now
        self._decoy = hash_password(secrets.token_hex(8))   # an unknown name costs as much as a wrong password

    def _mac(self, name: str, expiry: int) -> str:
        text = json.dumps([name, expiry, self._users[name]])
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def sign_in(self, name: str, password: str) -> str | None:
        """A new cookie value, or None when the name or the password is wrong."""
        correct = verify_password(password, self._users.get(name, self._decoy))
        if not correct or name not in self._users:
            return None
        expiry = int(self._now()) + SESSION_S
        return f"{base64.urlsafe_b64encode(name.encode()).decode()}.{expiry}.{self._mac(name, expiry)}"

    def user(self, value: str | None) -> str | None:
        """The signed-in user of a cookie value; None if absent, altered, expired or of a removed user."""
        try:
            name_b64, expiry_text, mac = (value or "").split(".")
            name, expiry = base64.urlsafe_b64decode(name_b64).decode(), int(expiry_text)
        except (ValueError, binascii.Error):
            return None
        if name not in self._users or expiry < self._now():
            return None
        return name if hmac.compare_digest(self._mac(name, expiry), mac) else None


class Throttle:
    """At most `limit` failed sign-ins per client address in `window` seconds."""

    def __init__(self, limit: int = 5, window: float = 300.0, *, now=time.monotonic):
        self._limit, self._window, self._now = limit, window, now
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        with self._lock:
            failures = self._failures.get(client, deque())
            while failures and self._now() - failures[0] > self._window:
                failures.popleft()
            return len(failures) >= self._limit

    def failed(self, client: str) -> None:
        with self._lock:
            self._failures.setdefault(client, deque()).append(self._now())


# --- the live view ------------------------------------------------------------------------------------------

_PRINTER = {"ok": ("Con papel", "ok"), "low": ("Poco papel", "warn"), "out": ("Sin papel", "bad"),
            "offline": ("Desconectada", "bad"), "unknown": ("Estado desconocido", "warn")}


def _named(device: str, role: str) -> str:
    """'kiosco-1 (dispensador de turnos)'."""
    return f"{device} ({role[0].lower()}{role[1:]})"


def _duration(seconds: float) -> str:
    """'5 min', '3 h 20 min', '12 días': how far off a clock is, read at a glance."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{round(minutes / (24 * 60))} días"


class LiveView:
    """The coordinators' picture of the site, recomputed by the web's own thread from the retained state it
    receives and today's day file; HTTP threads only read the finished snapshot."""

    def __init__(self, config: SiteConfig, store: DayStore, link: Link, now):
        self.config, self.store, self.link, self.now = config, store, link, now
        self.board: contract.Board | None = None
        self.desks: dict[int, contract.DeskState] = {}
        self.status: dict[str, str] = {}
        self.printers: dict[str, contract.PrinterStatus] = {}
        self.connected_at: float | None = None
        self._follower: Follower | None = None
        self._ledger = Ledger()
        self._published: list | None = None
        self._lock = threading.Lock()
        self._snapshot: dict = {}
        self.skews: dict[str, float] = {}   # device -> seconds its clock is ahead of this one (negative: behind)
        self.problems: dict[str, str] = {}  # device -> what it says keeps it from working (its heartbeat)
        self.rejected = contract.Refusals()

    def snapshot(self) -> dict:
        with self._lock:
            return self._snapshot

    def take(self, item) -> None:
        if isinstance(item, Connected):
            self.connected_at, self._published = time.monotonic(), None
        elif isinstance(item, Disconnected):
            self.connected_at = None
        elif isinstance(item, mqtt.MQTTMessage):   # one message must not freeze the page
            refusing(self.rejected, self.link.device, self._message, item)

    def _message(self, message: mqtt.MQTTMessage) -> None:
        if message.topic.startswith(contract.heartbeat_topic("")):
            self._heartbeat(message)
            return
        topic, payload = message.topic, message.payload
        parts = topic.split("/")
        if topic == contract.BOARD_TOPIC:
            self.board = contract.expect(payload, contract.Board)
        elif parts[2] == "desk" and parts[-1] == "state" and parts[3].isdigit():
            self.desks[int(parts[3])] = contract.expect(payload, contract.DeskState)
        elif parts[2] == "kiosk" and parts[-1] == "printer":
            self.printers[parts[3]] = contract.expect(payload, contract.PrinterStatus)
        elif parts[2] == "status":
            if payload:
                self.status[parts[3]] = payload.decode(errors="replace")
            else:   # a cleared retained status: the device is gone
                self.status.pop(parts[3], None)

    def _heartbeat(self, message: mqtt.MQTTMessage) -> None:
        """Compares a device's clock with this one's at the moment paho received the heartbeat (the inbox may
        have held it a while)."""
        device = message.topic.removeprefix(contract.heartbeat_topic(""))
        beat = contract.expect(message.payload, contract.Heartbeat)
        if beat.source != device:
            raise contract.ContractError(f"heartbeat from {beat.source!r} on the topic of {device!r}")
        if message.retain:   # kept by the broker since some earlier moment: says nothing about the clock now
            return
        if beat.problem:
            self.problems[device] = beat.problem
        else:
            self.problems.pop(device, None)
        received = self.now() - timedelta(seconds=time.monotonic() - message.timestamp)
        skew = (datetime.fromisoformat(beat.at) - received).total_seconds()
        off, was_off = abs(skew) > MAX_SKEW_S, abs(self.skews.get(device, 0.0)) > MAX_SKEW_S
        self.skews[device] = skew
        if off and not was_off:
            log.warning("hub-web: the clock of %s is %.0f s %s the hub's; check its time sync (chronyc sources on "
                        "it, chronyc clients on the hub)", device, abs(skew), "ahead of" if skew > 0 else "behind")
        elif was_off and not off:
            log.info("hub-web: the clock of %s is back within %d s of the hub's", device, MAX_SKEW_S)

    def refresh(self) -> None:
        now = self.now()
        # The hub never goes back a day (hub/service.py): with its clock set back, today is the newest day file.
        day = date.fromisoformat(max([now.date().isoformat(), *self.store.days()]))
        ledger = self._today(day)
        alarms = self._wait_alarms(ledger, now) + self._device_alarms() + self._clock_alarms(now, day)
        view = {
            "connected": self.link.connected, "updated": now.strftime("%H:%M:%S"),
            "target_min": self.config.web.wait_target_min, "alarms": alarms, "queues": self._queues(ledger, now),
            "desks": self._desks(ledger, now), "devices": self._devices(), "calls": self._calls()}
        with self._lock:
            self._snapshot = view
        if self.link.connected and alarms != self._published:
            message = contract.Alarms(id=contract.new_id(), at=now.isoformat(timespec="milliseconds"),
                                      source=self.link.device, alarms=alarms)
            self.link.publish(contract.ALARMS_TOPIC, message.to_json(), retain=True)
            self._published = alarms

    def _today(self, day: date) -> Ledger:
        """Today's fold, kept up to date with only the records appended since the last refresh; started again
        from the day's beginning for a new day."""
        if self._follower is None or self._follower.day != day.isoformat():
            self._follower = Follower(self.store, day.isoformat())
        again, records = self._follower.poll()
        self._ledger = fold(records, None if again else self._ledger)
        return self._ledger

    def _waits(self, ledger: Ledger, now: datetime) -> dict[str, list[float]]:
        """Minutes waited so far by every waiting turn, per service."""
        waits: dict[str, list[float]] = {}
        for turn in ledger.waiting():
            minutes = (now - datetime.fromisoformat(turn.issued_at)).total_seconds() / 60
            waits.setdefault(turn.service, []).append(minutes)
        return waits

    def _wait_alarms(self, ledger: Ledger, now: datetime) -> list[dict]:
        target, alarms = self.config.web.wait_target_min, []
        for letter, waits in self._waits(ledger, now).items():
            late = sum(w > target for w in waits)
            if late:
                name = self.config.services[letter].name if letter in self.config.services else letter
                verb = "turno espera" if late == 1 else "turnos esperan"
                alarms.append({"kind": "wait", "subject": letter,
                               "text": f"{name}: {late} {verb} más de {target} min."})
        return alarms

    def _device_list(self) -> list[tuple[str, str]]:
        """(device, what it is): the configured ones in order, then any other that reports its status."""
        config = self.config
        known = [("hub", "Servidor central"), *((k, "Dispensador de turnos") for k in config.kiosks),
                 *((contract.desk_device(n), f"Unidad del {d.name}") for n, d in sorted(config.desks.items())),
                 *((d, "Pantalla de turnos") for d in config.displays)]
        names = {device for device, _ in known} | {self.link.device}
        return known + [(device, "Otro equipo") for device in sorted(self.status) if device not in names]

    def _state(self, device: str) -> str:
        state = self.status.get(device)
        return state if state in (contract.ONLINE, contract.OFFLINE) else "unknown"

    def _device_alarms(self) -> list[dict]:
        # Retained statuses arrive just after connecting: a device without one is judged only after that.
        settled = self.connected_at is not None and time.monotonic() - self.connected_at > SETTLE_S
        alarms = []
        for device, role in self._device_list():
            state, what = self._state(device), _named(device, role)
            if state == contract.OFFLINE:
                alarms.append({"kind": "device", "subject": device, "text": f"Sin conexión: {what}."})
            elif state == "unknown" and settled:
                alarms.append({"kind": "device", "subject": device, "text": f"Sin reporte de estado: {what}."})
            if device in self.problems and state == contract.ONLINE:
                alarms.append({"kind": "device", "subject": device, "text": (
                    f"El equipo {_named(device, role)} no logra enviar su estado a los demás equipos; revise su "
                    "registro (journalctl).")})
            printer = self.printers.get(device)
            if printer is not None and printer.state in ("out", "offline"):
                alarms.append({"kind": "device", "subject": device,
                               "text": f"Impresora {_PRINTER[printer.state][0].lower()}: {what}."})
        return alarms

    def _clock_alarms(self, now: datetime, day: date) -> list[dict]:
        alarms = []
        if day > now.date():
            alarms.append({"kind": "clock", "subject": "hub", "text": (
                f"El reloj del servidor central marca el {short_date(now.date())}, pero ya hay registros del "
                f"{short_date(day)}: el sistema sigue en ese día. Revise la hora del servidor.")})
        for device, role in self._device_list():
            skew = self.skews.get(device)   # a device that is not online is judged again by its next heartbeat
            if skew is not None and abs(skew) > MAX_SKEW_S and self._state(device) == contract.ONLINE:
                alarms.append({"kind": "clock", "subject": device, "text": (
                    f"El reloj de {_named(device, role)} está {'adelantado' if skew > 0 else 'atrasado'} "
                    f"{_duration(abs(skew))}; revise la sincronización de hora.")})
        return alarms

    def _queues(self, ledger: Ledger, now: datetime) -> list[dict]:
        if self.board is None:
            return []
        waits, target = self._waits(ledger, now), self.config.web.wait_target_min
        result = []
        for line in self.board.waiting:
            longest = max(waits.get(line.service, []), default=None)
            result.append({"service": line.service, "name": line.service_name, "normal": line.normal,
                           "preferential": line.preferential, "pace": line.minutes_per_turn,
                           "longest_min": None if longest is None else int(longest),
                           "over": longest is not None and longest > target})
        return result

    def _desks(self, ledger: Ledger, now: datetime) -> list[dict]:
        result = []
        for number, desk in sorted(self.config.desks.items()):
            state = self.desks.get(number)
            serving = state.serving if state else None
            entry = {"desk": number, "name": desk.name, "advisor": ledger.advisors.get(number, desk.advisor),
                     "number": None, "service": None, "preferential": False, "minutes": None, "overdue": False}
            if serving:
                since = now - datetime.fromisoformat(serving["called_at"])
                entry.update(number=serving["number"], service=serving["service_name"],
                             preferential=serving["preferential"], overdue=state.overdue,
                             minutes=int(since.total_seconds() // 60))
            result.append(entry)
        return result

    def _devices(self) -> list[dict]:
        result = []
        for device, role in self._device_list():
            text, tone = _PRINTER[self.printers[device].state] if device in self.printers else (None, None)
            result.append({"id": device, "role": role, "state": self._state(device), "printer": text,
                           "printer_tone": tone})
        return result

    def _calls(self) -> list[dict]:
        if self.board is None:
            return []
        zone = self.config.timezone
        return [{"id": call.id, "number": call.number, "desk": call.desk_name, "service": call.service_name,
                 "recall": call.recall, "at": clock(datetime.fromisoformat(call.at).astimezone(zone))}
                for call in self.board.calls]


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
        log.info("coordinators' page on %s", self.url)

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

class BadRequest(Exception):
    """Input the page refuses, with the Spanish sentence that says why."""


def period(query: dict[str, list[str]], today: date) -> tuple[date, date]:
    """The `desde`/`hasta` of a request: YYYY-MM-DD, in order, at most MAX_DAYS days; today by default."""
    def day(key: str, label: str, default: date) -> date:
        text = (query.get(key) or [""])[0].strip()
        if not text:
            return default
        try:
            if not _DAY.fullmatch(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise BadRequest(f"La fecha {label} «{text[:20]}» no es válida. Escríbala como AAAA-MM-DD, por "
                             "ejemplo 2026-11-24.") from None
    first = day("desde", "inicial", today)
    last = day("hasta", "final", first)
    if first > last:
        raise BadRequest("La fecha inicial es posterior a la final.")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise BadRequest(f"El periodo pedido tiene {days} días; el máximo es {MAX_DAYS}. Pida un periodo más corto.")
    return first, last


_ERRORS = {
    400: ("Solicitud no válida", "La solicitud no se pudo interpretar."),
    401: ("Inicie sesión", "Inicie sesión para ver esta página."),
    404: ("Página no encontrada", "La página que busca no existe."),
    405: ("Método no permitido", "Esta página no acepta esa clase de solicitud."),
    411: ("Falta la longitud", "La solicitud debe indicar su longitud."),
    413: ("Solicitud demasiado grande", "La solicitud es demasiado grande."),
    414: ("Dirección demasiado larga", "La dirección de la página es demasiado larga."),
    429: ("Demasiados intentos", "Hubo demasiados intentos fallidos. Espere unos minutos y vuelva a intentarlo."),
    431: ("Encabezados demasiado grandes", "La solicitud trae encabezados demasiado grandes."),
    500: ("Error interno", "Ocurrió un error interno. Intente de nuevo; si continúa, avise al técnico."),
}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_NAV = (("/en-vivo", "En vivo"), ("/informe", "Informe"), ("/exportar", "Exportar CSV"))


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
    ASSETS = {"/estilo.css": ("style.css", "text/css; charset=utf-8"),
              "/en-vivo.js": ("live.js", "text/javascript; charset=utf-8")}

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
        name, private = route[method]
        if private and self.user is None:
            if parts.path.startswith("/api/") or parts.path.endswith((".csv", ".html")):
                return self._error(401)
            return self._redirect("/ingresar")
        self.route = parts.path
        try:
            self.query = _parse(parts.query)
            getattr(self, name)()
        except BadRequest as exc:
            self._error(400, str(exc))
        except ConnectionError:     # the browser went away (closed tab, reload): nobody to answer
            self.close_connection = True
        except Exception:
            log.exception("hub-web: %s %s failed", method, parts.path)
            self._error(500)

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
        self._send(status, _page(self.web.config.name, title, body, user=getattr(self, "user", None),
                                 active=getattr(self, "route", "")).encode(), "text/html; charset=utf-8", headers)

    def _redirect(self, location: str, headers: dict | None = None) -> None:
        self._send(303, b"", "text/html; charset=utf-8", {"Location": location, **(headers or {})})

    def _error(self, code: int, text: str | None = None, headers: dict | None = None) -> None:
        title, default = _ERRORS.get(code, ("Error", "No se pudo atender la solicitud."))
        if self.path.startswith("/api/"):
            body = json.dumps({"error": text or default}, ensure_ascii=False).encode()
            return self._send(code, body, "application/json; charset=utf-8", headers)
        self._html(code, title, f'<div class="panel"><h1>{escape(title)}</h1><p>{escape(text or default)}</p>'
                                f'<p><a href="/">Volver al inicio</a></p></div>', headers)

    def send_error(self, code, message=None, explain=None) -> None:
        """http.server's own refusals (a malformed request line, an unknown method) in the site's words."""
        self.close_connection = True
        self.path = self.path if isinstance(getattr(self, "path", None), str) else "/"
        self._error(405 if code == HTTPStatus.NOT_IMPLEMENTED else code if code in _ERRORS else 400)

    def _cookie(self) -> str | None:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(COOKIE)
        except CookieError:
            return None
        return morsel.value if morsel else None

    def _form(self) -> dict[str, list[str]]:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise BadRequest(_ERRORS[411][1])
        if int(length) > 4096:
            raise BadRequest(_ERRORS[413][1])
        return _parse(self.rfile.read(int(length)).decode("utf-8", errors="replace"))

    # --- pages -------------------------------------------------------------------------------------------

    def home(self) -> None:
        self._redirect("/en-vivo")

    def asset(self) -> None:
        file, content_type = self.ASSETS[self.route]
        self._send(200, (ASSETS / file).read_bytes(), content_type, {"Cache-Control": "no-cache"})

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
        if self.web.throttle.blocked(client):
            return self.login_form(429, _ERRORS[429][1])
        try:
            form = self._form()
        except BadRequest as exc:
            return self.login_form(400, str(exc))
        name, password = (form.get(k, [""])[0] for k in ("usuario", "clave"))
        value = self.web.sessions.sign_in(name, password)
        if value is None:
            self.web.throttle.failed(client)
            log.warning("hub-web: failed sign-in for %r from %s", name[:64], client)
            return self.login_form(401, "El usuario o la contraseña no son correctos.")
        log.info("hub-web: %s signed in from %s", name, client)
        self._redirect("/en-vivo", {"Set-Cookie": f"{COOKIE}={value}; Path=/; Max-Age={SESSION_S}; HttpOnly; "
                                                  "SameSite=Strict"})

    def logout(self) -> None:
        self.user = None
        self._redirect("/ingresar", {"Set-Cookie": f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"})

    def live_page(self) -> None:
        self._html(200, "En vivo", _LIVE)

    def live_json(self) -> None:
        body = json.dumps(self.web.live.snapshot(), ensure_ascii=False).encode()
        self._send(200, body, "application/json; charset=utf-8")

    def _period(self, action: str, button: str, intro: str = "") -> tuple[date, date] | None:
        """The requested period; None after answering 400 with the form and the reason."""
        try:
            return period(self.query, self.web.now().date())
        except BadRequest as exc:
            self._html(400, button, intro + _period_form(action, button, self.query, str(exc)))
            return None

    @contextmanager
    def _reading(self, action: str, button: str, intro: str = "") -> Iterator[tuple[date, date] | None]:
        """The requested period while it is read, by at most MAX_PERIODS requests at once (each holds a day of
        records in memory); None after answering 400 or 429 with the form and the reason."""
        chosen = self._period(action, button, intro)
        if chosen is not None and not self.web.periods.acquire(blocking=False):
            self._html(429, button, intro + _period_form(action, button, self.query, _BUSY), {"Retry-After": "30"})
            chosen = None
        if chosen is None:
            yield None
            return
        try:
            yield chosen
        finally:
            self.web.periods.release()

    def _report(self) -> tuple[date, date, report.Report] | None:
        """The report of the requested period; None after answering with the form and the reason."""
        with self._reading("/informe", "Ver informe") as chosen:
            if chosen is None:
                return None
            first, last = chosen
            return first, last, report.build(self.web.store, first, last, self.web.config, now=self.web.now())

    def report_page(self) -> None:
        if (found := self._report()) is None:
            return
        first, last, built = found
        download = f"/informe.html?desde={first.isoformat()}&hasta={last.isoformat()}"
        form = _period_form("/informe", "Ver informe", _dates(first, last), extra=f'<a class="button secondary" '
                            f'href="{escape(download)}">Descargar el informe (HTML)</a>')
        self._html(200, "Informe", form + report.render_body(built))

    def report_file(self) -> None:
        if (found := self._report()) is None:
            return
        first, last, built = found
        self._send(200, report.render_document(built).encode(), "text/html; charset=utf-8",
                   _attachment(f"informe_{first.isoformat()}_{last.isoformat()}.html"))

    def export_page(self) -> None:
        today = self.web.now().date()
        self._html(200, "Exportar CSV", _EXPORT_INTRO + _period_form(
            "/exportar/turnos.csv", "Descargar CSV", _dates(today, today)))

    def csv_file(self) -> None:
        """Sent day by day as the period is read: a year's CSV never sits whole in the hub's memory."""
        with self._reading("/exportar/turnos.csv", "Descargar CSV", _EXPORT_INTRO) as chosen:
            if chosen is None:
                return
            first, last = chosen
            names = {letter: service.name for letter, service in self.web.config.services.items()}
            self._stream(csv_chunks(rows(self.web.store, first, last, names)), "text/csv; charset=utf-8",
                         _attachment(f"turnos_{first.isoformat()}_{last.isoformat()}.csv"))


def _parse(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(text, max_num_fields=20)
    except ValueError:
        raise BadRequest("La solicitud trae demasiados campos.") from None


def _dates(first: date, last: date) -> dict[str, list[str]]:
    return {"desde": [first.isoformat()], "hasta": [last.isoformat()]}


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"}


def _page(site: str, title: str, body: str, *, user: str | None, active: str) -> str:
    script = '<script src="/en-vivo.js" defer></script>' if active == "/en-vivo" else ""
    section = "/" + active.split("/")[1].split(".")[0] if active else ""   # /exportar/turnos.csv -> /exportar
    bar = ""
    if user is not None:
        links = "".join(f'<a href="{href}"{" aria-current=page" if href == section else ""}>{text}</a>'
                        for href, text in _NAV)
        bar = (f'<header class="topbar"><div class="inner"><span class="site">{escape(site)}</span>'
               f"<nav>{links}</nav>"
               f'<form method="post" action="/salir"><span>{escape(user)}</span> '
               f'<button type="submit">Cerrar sesión</button></form></div></header>')
    return (f'<!DOCTYPE html>\n<html lang="es">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)} · Turnero</title>\n"
            f'<link rel="stylesheet" href="/estilo.css">\n{script}\n</head>\n<body>\n{bar}\n'
            f'<main class="page">\n{body}\n</main>\n</body>\n</html>\n')


def _period_form(action: str, button: str, query: dict, message: str = "", extra: str = "") -> str:
    values = {key: escape((query.get(key) or [""])[0][:20]) for key in ("desde", "hasta")}
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return f"""<section class="panel">{error}<form class="period" method="get" action="{action}">
<div><label for="desde">Desde</label><input id="desde" name="desde" type="date" value="{values['desde']}"></div>
<div><label for="hasta">Hasta</label><input id="hasta" name="hasta" type="date" value="{values['hasta']}"></div>
<button class="button" type="submit">{escape(button)}</button>{extra}
</form><p class="muted">Sin fechas se toma el día de hoy. Máximo {MAX_DAYS} días.</p></section>"""


_BUSY = (f"Ya se están preparando {MAX_PERIODS} informes o archivos CSV, lo más que el servidor hace a la vez. "
         "Espere a que termine alguno y vuelva a intentarlo en un momento.")
_EXPORT_INTRO = """<h1>Exportar turnos</h1>
<p>Un archivo CSV con una fila por turno: servicio, tipo, horas de llegada, llamado y cierre, módulo, asesor,
espera, duración de la atención, resultado y calificación. Abre directamente en Excel en español (UTF-8,
separado por punto y coma) y sirve para cargar las atenciones como tickets en SAP C4C.</p>
"""

_LIVE = """<h1>En vivo</h1>
<p class="notice" id="sin-conexion" hidden>La página perdió la conexión con el broker MQTT: los datos pueden estar
desactualizados.</p>
<p class="notice" id="sin-respuesta" hidden>No se pudo consultar el hub. Se intentará de nuevo en unos segundos.</p>
<noscript><p class="notice">Esta vista necesita JavaScript para actualizarse.</p></noscript>
<div id="alarmas" class="alarms none"><strong>Cargando…</strong></div>
<p class="updated">Actualizado a las <span id="actualizado">—</span>. Se actualiza cada 3 segundos.</p>
<div class="grid">
<section class="panel"><h2>Filas de espera</h2><div class="table-wrap"><table>
<thead><tr><th>Servicio</th><th>Normal</th><th>Preferencial</th><th>Mayor espera</th><th>Ritmo</th></tr></thead>
<tbody id="filas"></tbody></table></div></section>
<section class="panel"><h2>Módulos</h2><div class="table-wrap"><table>
<thead><tr><th>Módulo</th><th>Asesor</th><th>Turno</th><th>Servicio</th><th>Tiempo</th><th>Estado</th></tr>
</thead><tbody id="modulos"></tbody></table></div></section>
<section class="panel"><h2>Equipos</h2><div class="table-wrap"><table>
<thead><tr><th>Equipo</th><th>Tipo</th><th>Estado</th><th>Impresora</th></tr></thead>
<tbody id="equipos"></tbody></table></div></section>
<section class="panel"><h2>Últimos llamados</h2><div class="table-wrap"><table>
<thead><tr><th>Turno</th><th>Módulo</th><th>Servicio</th><th>Hora</th></tr></thead>
<tbody id="llamados"></tbody></table></div></section>
</div>"""
