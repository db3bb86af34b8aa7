"""What a site file describes, as frozen dataclasses: services, kiosks and their buttons, desks, displays, opening
hours, the broker, the coordinators' page and the queue policy. Reading and checking the file is `load`'s job."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance.contract import PREFERENTIAL_CATEGORIES

WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")   # as the site file names them
DEFAULT_CREDENTIALS_DIR = Path("/etc/turnero/credentials")
CA_NAME = "ca.crt"               # the site CA's certificate, beside the device's credential
# The code pages a kiosk's printer may print in (python-escpos's names), each holding every Spanish letter, ¿ and
# ¡, with Python's codec for each; CP858 (CP850 with the euro sign) unless the site file names another.
CODE_PAGES = {"CP858": "cp858", "CP850": "cp850", "CP1252": "cp1252", "ISO_8859-15": "iso8859_15"}
DEFAULT_CODE_PAGE = "CP858"
# The desk's counter display (a CD5220 pole display): two lines of this many characters, in its factory code page.
COUNTER_CHARACTERS, COUNTER_ENCODING = 20, "cp437"


class SetupError(Exception):
    """What the person running a command can put right (the site file, the pins, a file on disk): `turnero` says it
    in one message and exits with 2, never with a traceback."""


class ConfigError(SetupError):
    def __init__(self, source: str, problems: list[str], what: str = "the site configuration"):
        self.problems = problems
        super().__init__(f"{source}: {what} has {len(problems)} problem(s):\n"
                         + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class BrokerAddress:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive: int = 15
    credentials_dir: Path | None = None   # one file per device holding its password (`turnero broker-files`)
    ca_file: Path | None = None           # the site CA's certificate: the broker is reached over TLS and trusted
                                          # only with a certificate it signed; None: plain MQTT on loopback only

    def login(self, device: str) -> Login:
        """The device's own credentials file if there is one, else [broker] username/password, else anonymous."""
        found = "no credentials directory is configured"
        if self.credentials_dir is not None:
            path = Path(self.credentials_dir) / device
            try:
                password = path.read_text(encoding="utf-8").strip()
                return Login(device, password, f"user {device!r} and the password in {path}")
            except FileNotFoundError:
                found = f"no credentials file {path} was found"
            except (OSError, UnicodeDecodeError) as exc:
                found = f"the credentials file {path} cannot be read ({exc})"
        if self.username:
            return Login(self.username, self.password, f"{found}; user {self.username!r} from [broker] username")
        return Login(None, None, f"{found} and [broker] has no username: anonymous")


@dataclass(frozen=True)
class Login:
    username: str | None
    password: str | None
    source: str     # how the device identified itself, for the log when the broker refuses it


@dataclass(frozen=True)
class Service:
    letter: str
    name: str
    short_name: str | None = None   # for the desk's counter display, when the name does not fit it

    @property
    def counter_name(self) -> str:
        return self.short_name or self.name


def fits_counter(text: str) -> bool:
    """Whether the desk's counter display shows this text whole: its length and its code page's letters."""
    try:
        text.encode(COUNTER_ENCODING)
    except UnicodeEncodeError:
        return False
    return len(text) <= COUNTER_CHARACTERS


@dataclass(frozen=True)
class KioskButton:
    pin: int
    service: str
    preferential: bool
    prefix: str
    category: str | None = None     # whom a preferential button serves (contract.PREFERENTIAL_CATEGORIES)

    @property
    def kind(self) -> str:
        """'preferencial, persona mayor', 'preferencial' or 'normal', as the wiring tables and the demo say it."""
        if self.category:
            return f"preferencial, {PREFERENTIAL_CATEGORIES[self.category].lower()}"
        return "preferencial" if self.preferential else "normal"


@dataclass(frozen=True)
class Kiosk:
    id: str
    status_led: int | None
    printer: dict
    buttons: tuple[KioskButton, ...]
    # The QR reader that checks appointments in: a USB reader that types as a keyboard, by its evdev device
    # (/dev/input/by-id/…-event-kbd), or "simulated"; None: the kiosk has none.
    reader: str | None = None


@dataclass(frozen=True)
class Desk:
    number: int
    name: str
    services: tuple[str, ...]
    advisor: str
    transfer_to: str | None = None  # the service its TRANSFER button sends a turn to


@dataclass(frozen=True)
class DeskPins:
    next: int
    status_led: int
    rating: tuple[int, ...]
    rating_leds: tuple[int, ...]
    recall: int | None = None      # without a RECALL button, a long press of NEXT recalls
    no_show: int | None = None
    transfer: int | None = None
    pause: int | None = None       # a break: pressed it pauses the desk, held it closes it


@dataclass(frozen=True)
class DeskSettings:
    recall_hold_s: float           # how long NEXT is held to mean RECALL
    attention_limit_min: int       # past this the desk's light warns (seed 003: 15 minutes)
    attention_warning_min: int     # the counter display says the time left this long before the limit (0: not)
    transfer_front: bool           # a transferred turn goes to the front of its new queue (else the back)
    counter_display: dict          # [desk] counter in the site file: {"kind": "serial", "device": ..., "baudrate": ...}
    # [desk] advisor_codes: the code each advisor types on the rating pad of a closed desk to sign in there
    advisor_codes: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Display:
    id: str
    size: tuple[int, int]
    portrait: bool
    voice: bool
    volume: int
    footer: tuple[str, ...]


@dataclass(frozen=True)
class Hours:
    days: tuple[int, ...]                      # weekday numbers, Monday = 0
    periods: tuple[tuple[time, time], ...]
    last_ticket: time | None = None            # no ticket after this time of day (None: until closing)
    # The site's own closed days, "2026-12-24" (once) or "12-24" (every year), with the words a slip gives for them.
    closed: tuple[tuple[str, str], ...] = ()

    def text(self) -> str:
        """'Lunes a viernes de 8:00 a 12:00 y de 14:00 a 16:00', for tickets and screens."""
        names = [WEEKDAYS[d] for d in self.days]
        consecutive = list(self.days) == list(range(self.days[0], self.days[-1] + 1))
        if len(names) > 2 and consecutive:
            days = f"{names[0]} a {names[-1]}"
        else:
            days = ", ".join(names[:-1]) + (" y " if len(names) > 1 else "") + names[-1]
        spans = [f"de {_hm(a)} a {_hm(b)}" for a, b in self.periods]
        joined = ", ".join(spans[:-1]) + (" y " if len(spans) > 1 else "") + spans[-1]
        return f"{days[0].upper()}{days[1:]} {joined}"

    def line(self) -> str:
        """'Horario: lunes a viernes de 8:00 a 12:00 y de 14:00 a 16:00.', a line of its own on a ticket or screen."""
        text = self.text()
        return f"Horario: {text[0].lower()}{text[1:]}."

    def last_ticket_text(self) -> str | None:
        """'15:45', when the site stops issuing before it closes."""
        return None if self.last_ticket is None else _hm(self.last_ticket)


def _hm(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


WEB_CERT, WEB_KEY = "web.crt", "web.key"   # the page's certificate and key, beside the hub's credentials


@dataclass(frozen=True)
class WebSettings:
    """The coordinators' page served by the hub (hub/web/). Its accounts are the hub's (appliance/web/accounts.py)."""

    port: int = 8443                # HTTPS (or plain HTTP with tls = false, behind a proxy on the hub itself)
    http_port: int = 8080           # plain HTTP that only redirects to the HTTPS address; 0: none
    app_port: int = 8081            # on the hub, the page itself on the loopback; nginx serves port and http_port
    host: str = "0.0.0.0"           # every interface; one address to listen on it alone (a proxy in front, say)
    tls: bool = True
    cert_file: Path = DEFAULT_CREDENTIALS_DIR / WEB_CERT
    key_file: Path = DEFAULT_CREDENTIALS_DIR / WEB_KEY
    wait_target_min: int = 20       # a turn waiting longer raises an alarm


PUBLIC_CERT, PUBLIC_KEY, PUBLIC_SECRET = "public.crt", "public.key", "public-secret"   # beside the credentials


@dataclass(frozen=True)
class PublicSettings:
    """[public]: the "Mi turno" page a citizen opens from the QR code on the ticket (docs/mi-turno.md). `address`
    is what the tickets print; the hub serves the page itself on the guest Wi-Fi only when `listen` is true
    (otherwise the central does, at the same address)."""

    address: str                    # https://turno.example.org: the tickets' QR codes point below it
    secret_file: Path               # the site secret the codes derive from: the same on the hub and every kiosk
    listen: bool = False            # the hub serves the page, through nginx, on host:port
    host: str = "0.0.0.0"
    port: int = 443
    http_port: int = 80             # plain HTTP only sends the phone to the HTTPS address; 0: none
    app_port: int = 8082            # the page itself, on the hub's loopback: nginx serves the two above
    cert_file: Path = DEFAULT_CREDENTIALS_DIR / PUBLIC_CERT    # a certificate phones trust, for the address's name
    key_file: Path = DEFAULT_CREDENTIALS_DIR / PUBLIC_KEY


POLICIES = ("strict", "ratio")
DEFAULT_BRING = "Traiga su documento de identidad y este comprobante. Llegue unos minutos antes de su hora."


def appointment_prefix(service: str) -> str:
    """The number prefix of the appointments of a service: 'RC' (Registro y Aportes, cita), 'RC-003'."""
    return f"{service}C"


@dataclass(frozen=True)
class AppointmentSettings:
    """[appointments]: appointments booked by staff on the coordinators' page (docs/appointments.md)."""

    capacity: dict[str, int]       # appointments per slot and service; a service not named takes none
    address: str                   # where the site is, as the slip prints it
    slot_min: int = 15             # slots start at each opening period's start, this long each
    grace_min: int = 10            # this late a citizen still checks in as an appointment; later, as a walk-in
    retention_days: int = 30       # the citizen's name and phone are deleted this long after the appointment's day
    days_ahead: int = 14           # how far ahead an appointment may be booked
    bring: str = DEFAULT_BRING     # what the slip asks the citizen to bring



CENTRAL_CA, CENTRAL_PASSWORD = "central-ca.crt", "central"   # beside the hub's credentials


@dataclass(frozen=True)
class CentralLink:
    """[central]: the organisation's central, to which this site's hub ships its record (docs/central.md)."""

    site: str                      # this site's id there: its bridge user and the prefix of its topics
    host: str                      # the central's broker, over TLS
    port: int
    ca_file: Path                  # the central CA's certificate, which the bridge trusts the central by
    password_file: Path            # the site's password at the central (`turnero central add-site`)
    # The bridge carries the hub's positions too: the central serves the site's "Mi turno" page ([public] without
    # listen).
    positions: bool = False
    # The bridge carries the central page's appointment orders in: the site books appointments ([appointments]).
    orders: bool = False


@dataclass(frozen=True)
class QueuePolicy:
    """How the hub picks the next turn; hub/policy.py says what each setting does."""

    kind: str = "strict"
    ratio: int = 3                 # with kind "ratio": preferential calls in a row before a normal one
    max_wait_min: int = 0          # 0: no aging


@dataclass(frozen=True)
class SiteConfig:
    name: str
    timezone: ZoneInfo
    holidays: str | None
    broker: BrokerAddress
    hours: Hours
    paper_mm: int
    notice: str
    ticket_footer: str
    closed_slip: bool               # outside hours a press prints a slip with the hours
    services: dict[str, Service]
    kiosks: dict[str, Kiosk]
    desks: dict[int, Desk]
    desk_pins: DeskPins
    desk_settings: DeskSettings
    rating_grace_s: float
    displays: dict[str, Display]
    queue: QueuePolicy
    web: WebSettings = WebSettings()
    central: CentralLink | None = None
    appointments: AppointmentSettings | None = None   # None: the site books none
    public: PublicSettings | None = None    # None: the tickets carry no QR code
    press_limit: int = 10           # tickets one kiosk button gives within press_window_s (0: no limit)
    press_window_s: int = 60
    kiosk_limit: int = 20           # tickets one kiosk gives within press_window_s, all its buttons together
    # A turn just called can be rated only once its attention has lasted this long: a citizen who is leaving and
    # presses again must not rate the next one.
    rating_min_attention_s: float = 60.0
    # The start of the file's SHA-256: every Pi reading the same file, and the central, show the same version.
    # Not part of what the site is: the same site written otherwise is equal.
    version: str = dataclasses.field(default="", compare=False)

    def today(self) -> date:
        """The site's service day now: its own time zone's date, not the machine's (a Pi set to UTC is a day
        ahead of Bogotá from 19:00)."""
        return datetime.now(self.timezone).date()

    def attended_services(self) -> list[str]:
        """The letters of the services some desk attends, in the site's order: where a turn can be sent."""
        attended = {letter for desk in self.desks.values() for letter in desk.services}
        return [letter for letter in self.services if letter in attended]

    def service_names(self) -> dict[str, str]:
        """Each service's letter and the name the CSV and the report print for it."""
        return {letter: service.name for letter, service in self.services.items()}

    def with_broker(self, host: str, port: int, ca_file: Path | None) -> "SiteConfig":
        """The same site against another broker: a test's or the demo's own (LocalBroker gives all three)."""
        return dataclasses.replace(self, broker=dataclasses.replace(self.broker, host=host, port=port,
                                                                    ca_file=ca_file))
