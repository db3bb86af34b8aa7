"""Reading a site file: TOML into the model, validated completely at start. Every problem is reported at once,
each naming its key (``desks[2].services``) and what is wrong, and a role never starts half-configured."""
from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import re
import tomllib
from datetime import date, time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance import contract
from appliance.site.model import (CA_NAME, CENTRAL_CA, CENTRAL_PASSWORD, CODE_PAGES, COUNTER_CHARACTERS,
                                  DEFAULT_BRING, DEFAULT_CODE_PAGE, DEFAULT_CREDENTIALS_DIR, POLICIES, PUBLIC_CERT,
                                  PUBLIC_KEY, PUBLIC_SECRET, WEB_CERT, WEB_KEY, WEEKDAYS, AppointmentSettings,
                                  BrokerAddress, CentralLink, ConfigError, Desk, DeskPins, DeskSettings, Display, Hours,
                                  Kiosk, KioskButton, PublicSettings, QueuePolicy, Service, SiteConfig, WebSettings,
                                  appointment_prefix, fits_counter)


def load(path: Path) -> SiteConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8"]) from None
    return parse(text, str(path))


_HOST_NAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                        r"[A-Za-z0-9])?)*")


def _host_name_or_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST_NAME.fullmatch(host))


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def public_address_problem(address: str) -> str | None:
    """What is wrong with an address the tickets print, if anything: it must be HTTPS (a phone on a café's Wi-Fi
    must not be shown a forged turn), a host name or address, no query, short enough for a ticket's line."""
    parts = urlsplit(address)
    if parts.scheme != "https":
        return f"must start with https:// (the page is served over HTTPS only), not {address!r}"
    try:
        parts.port
    except ValueError:      # a port that is not a number
        parts = None
    if parts is None or not parts.hostname or not _host_name_or_address(parts.hostname) or parts.username \
            or parts.query or parts.fragment or len(address) > PUBLIC_ADDRESS_CHARS:
        return (f"must be an address like https://turno.example.org, with no user, query or fragment, of at most "
                f"{PUBLIC_ADDRESS_CHARS} characters, not {address!r}")
    return None


def _page_at_the_central(data: dict) -> bool:
    """[public] without listen: the central serves the tickets' address, from the positions the bridge carries."""
    public = data.get("public")
    return isinstance(public, dict) and public.get("listen") is not True


def require(condition: bool, message: str) -> None:
    """A problem of the command line against the site file (a kiosk id it does not have), said as one."""
    if not condition:
        raise ConfigError("command line", [message])


def parse(text: str, source: str = "site.toml") -> SiteConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    reader = _Reader()
    config = reader.site(data)
    if reader.problems:
        raise ConfigError(source, reader.problems)
    return dataclasses.replace(config, version=hashlib.sha256(text.encode()).hexdigest()[:12])


_MISSING = object()
PUBLIC_ADDRESS_CHARS = 40     # with "/t/" and the code the typed address still fits a 58 mm ticket's two lines
DEFAULT_FOOTER = "Al terminar, califique la atención recibida."
_LETTER = re.compile(r"[A-Z]")
_PREFIX = re.compile(r"[A-Z]{1,2}")
_DEVICE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_PERIOD = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_CLOSED_DAY = re.compile(r"(\d{4}-)?\d{2}-\d{2}")
_PRINTER_KINDS = ("usb", "serial", "network", "file", "simulated")
# The fields of drivers.printer.PrinterConfig, named here so that reading a configuration does not import
# python-escpos (slow to import on a Pi, and the hub never prints); a test keeps the two in step.
PRINTER_KEYS = {"kind": str, "profile": str, "paper_mm": int, "encoding": str, "path": str, "vendor_id": int,
                "product_id": int, "timeout_ms": int, "device": str, "baudrate": int, "host": str, "port": int}
_GPIO_PINS = range(2, 28)
# The serial ports on the GPIO header's UART (GPIO14 TX, GPIO15 RX), as opposed to a USB adapter's: a printer
# there owns those two pins.
HEADER_UARTS = ("/dev/serial0", "/dev/ttyAMA0", "/dev/ttyS0")
UART_PINS = (14, 15)


class _Reader:
    """Reads the TOML tree into the dataclasses, collecting every problem with its key path."""

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, key: str, text: str) -> None:
        self.problems.append(f"{key}: {text}")

    def get(self, table: dict, key: str, path: str, kind, default=_MISSING):
        where = f"{path}.{key}" if path else key
        if not isinstance(table, dict):
            return None
        if key not in table:
            if default is _MISSING:
                self.problem(where, "is missing")
                return None
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            self.problem(where, f"must be {_describe(kinds)}, not {value!r}")
            return None if default is _MISSING else default
        return value

    def unknown_keys(self, table: dict, path: str, known: set[str]) -> None:
        if isinstance(table, dict):
            for key in sorted(set(table) - known):
                self.problem(f"{path}.{key}" if path else key, f"is not a known setting (known: {', '.join(sorted(known))})")

    def table(self, data: dict, key: str, path: str = "") -> dict:
        return self.get(data, key, path, dict) or {}

    def tables(self, data: dict, key: str) -> list[tuple[str, dict]]:
        items = self.get(data, key, "", list) or []
        result = []
        for i, item in enumerate(items):
            if isinstance(item, dict):
                result.append((f"{key}[{i + 1}]", item))
            else:
                self.problem(f"{key}[{i + 1}]", "must be a table ([[" + key + "]])")
        return result

    def pin(self, table: dict, key: str, path: str, default=_MISSING) -> int | None:
        value = self.get(table, key, path, int, default)
        if value is not None and value not in _GPIO_PINS:
            self.problem(f"{path}.{key}", f"must be a BCM GPIO number from 2 to 27, not {value}")
        return value

    # --- sections -----------------------------------------------------------------------------------

    def site(self, data: dict) -> SiteConfig:
        self.unknown_keys(data, "", {"site", "broker", "hours", "ticket", "services", "kiosks", "desks",
                                     "desk_pins", "desk", "rating", "displays", "queue", "web", "central",
                                     "public", "appointments"})
        site = self.table(data, "site")
        self.unknown_keys(site, "site", {"name", "timezone", "holidays"})
        name = self.get(site, "name", "site", str)
        zone = self.timezone(self.get(site, "timezone", "site", str, "America/Bogota"))
        holidays_code = self.holidays(self.get(site, "holidays", "site", str, "CO"))
        services = self.services(data)
        kiosks = self.kiosks(data, services)
        desks = self.desks(data, services)
        ticket = self.table(data, "ticket")
        self.unknown_keys(ticket, "ticket", {"paper_mm", "notice", "footer", "closed_slip", "press_limit",
                                             "kiosk_limit", "press_window_seconds"})
        press_limit = self.get(ticket, "press_limit", "ticket", int, SiteConfig.press_limit)
        if press_limit is not None and not 0 <= press_limit <= 100:
            self.problem("ticket.press_limit", f"must be from 0 (no limit) to 100 tickets, not {press_limit}")
        kiosk_limit = self.get(ticket, "kiosk_limit", "ticket", int, SiteConfig.kiosk_limit)
        if kiosk_limit is not None and not 0 <= kiosk_limit <= 1000:
            self.problem("ticket.kiosk_limit", f"must be from 0 (no limit) to 1000 tickets, not {kiosk_limit}")
        press_window = self.get(ticket, "press_window_seconds", "ticket", int, SiteConfig.press_window_s)
        if press_window is not None and not 1 <= press_window <= 3600:
            self.problem("ticket.press_window_seconds", f"must be from 1 to 3600 seconds, not {press_window}")
        paper = self.get(ticket, "paper_mm", "ticket", int, 80)
        if paper not in (58, 80):
            self.problem("ticket.paper_mm", f"must be 58 or 80, not {paper}")
        rating = self.table(data, "rating") if "rating" in data else {}
        self.unknown_keys(rating, "rating", {"grace_seconds", "min_attention_seconds"})
        grace = self.get(rating, "grace_seconds", "rating", (int, float), 60)
        if grace is not None and not 0 <= grace <= 600:
            self.problem("rating.grace_seconds", f"must be between 0 and 600 seconds, not {grace}")
        min_attention = self.get(rating, "min_attention_seconds", "rating", (int, float),
                                 SiteConfig.rating_min_attention_s)
        if min_attention is not None and not 0 <= min_attention <= 600:
            self.problem("rating.min_attention_seconds", f"must be between 0 and 600 seconds, not {min_attention}")
        # Ley 1581: no ticket without the data-treatment notice (example.toml has the seed's wording).
        notice = self.get(ticket, "notice", "ticket", str, "") or ""
        if kiosks and not notice.strip():
            self.problem("ticket.notice", "is missing: every ticket tells the citizen how their data are treated "
                                          "(Ley 1581 de 2012); example.toml has the wording")
        hours = self.hours(data)
        service_tables = data.get("services") if isinstance(data.get("services"), list) else []
        self.printable(kiosks, [("site.name", name), ("ticket.notice", notice),
                                ("ticket.footer", ticket.get("footer", DEFAULT_FOOTER)),
                                *((f"hours.closed.{day}", words) for day, words in hours.closed),
                                *((f"services[{i}].name", table.get("name"))
                                  for i, table in enumerate(service_tables, 1) if isinstance(table, dict))])
        broker = self.broker(data)
        if _page_at_the_central(data) and "central" not in data:
            self.problem("public.listen", "a site without [central] serves the \"Mi turno\" page itself: set "
                                          "listen = true (and host, on the guest Wi-Fi), or add [central] so that "
                                          "the central serves [public] address (docs/mi-turno.md)")
        return SiteConfig(
            name=name, timezone=zone, holidays=holidays_code, broker=broker, hours=hours,
            paper_mm=paper, notice=notice,
            ticket_footer=self.get(ticket, "footer", "ticket", str, DEFAULT_FOOTER),
            closed_slip=self.get(ticket, "closed_slip", "ticket", bool, False), services=services, kiosks=kiosks,
            desks=desks, desk_pins=self.desk_pins(data), desk_settings=self.desk_settings(data),
            rating_grace_s=float(grace or 0), displays=self.displays(data), queue=self.queue(data),
            web=self.web(data, broker.credentials_dir or DEFAULT_CREDENTIALS_DIR),
            central=self.central(data, broker.credentials_dir or DEFAULT_CREDENTIALS_DIR),
            appointments=self.appointments(data, services, kiosks),
            public=self.public(data, broker.credentials_dir or DEFAULT_CREDENTIALS_DIR),
            press_limit=press_limit, kiosk_limit=kiosk_limit, press_window_s=press_window,
            rating_min_attention_s=float(min_attention or 0))

    def web(self, data: dict, credentials_dir: Path) -> WebSettings:
        table = self.table(data, "web") if "web" in data else {}
        if "users" in table:
            self.problem("web.users", "the coordinators' accounts are no longer kept in the site file: remove "
                                      "[[web.users]] and add each one on the hub with `turnero web-user add NAME` "
                                      "(docs/install.md)")
        self.unknown_keys(table, "web", {"port", "http_port", "app_port", "host", "tls", "cert_file", "key_file",
                                         "wait_target_minutes", "users"})
        host = self.get(table, "host", "web", str, WebSettings.host)
        if host is not None and not _host_name_or_address(host):
            self.problem("web.host", f"must be an address of the hub (0.0.0.0 for every interface, 127.0.0.1 behind "
                                     f"a proxy) or its host name, not {host!r}")
        tls = self.get(table, "tls", "web", bool, True)
        if tls is False and host is not None and not _loopback(host):
            self.problem("web.tls", f"false is only for a page behind a proxy on the hub itself (host = "
                                    f"\"127.0.0.1\"), not on {host!r}: passwords would cross the network in clear")
        ports = {}
        for key, default, least in (("port", WebSettings.port, 1), ("http_port", WebSettings.http_port, 0),
                                    ("app_port", WebSettings.app_port, 1)):
            ports[key] = self.get(table, key, "web", int, default)
            if ports[key] is not None and not least <= ports[key] <= 65535:
                self.problem(f"web.{key}", f"must be a TCP port from {least} to 65535, not {ports[key]}")
        if ports["port"] is not None and ports["port"] == ports["http_port"]:
            self.problem("web.http_port", f"must differ from web.port ({ports['port']}): that one speaks HTTPS")
        if ports["app_port"] is not None and ports["app_port"] in (ports["port"], ports["http_port"]):
            self.problem("web.app_port", f"must differ from web.port and web.http_port, not {ports['app_port']}: "
                                         "nginx listens there and passes the requests to the page on this one")
        files = self.files(table, "web", {"cert_file": WEB_CERT, "key_file": WEB_KEY}, credentials_dir)
        target = self.get(table, "wait_target_minutes", "web", int, 20)
        if target is not None and not 1 <= target <= 480:
            self.problem("web.wait_target_minutes", f"must be from 1 to 480, not {target}")
        return WebSettings(port=ports["port"] or WebSettings.port,
                           http_port=WebSettings.http_port if ports["http_port"] is None else ports["http_port"],
                           app_port=ports["app_port"] or WebSettings.app_port,
                           host=host or WebSettings.host, tls=tls is not False,
                           cert_file=Path(files["cert_file"] or credentials_dir / WEB_CERT),
                           key_file=Path(files["key_file"] or credentials_dir / WEB_KEY), wait_target_min=target or 20)

    def files(self, table: dict, path: str, names: dict[str, str], credentials_dir: Path) -> dict[str, str | None]:
        """Files beside the device's credentials unless the table names others, each an absolute path."""
        found = {}
        for key, name in names.items():
            found[key] = self.get(table, key, path, str, str(credentials_dir / name))
            if found[key] is not None and not Path(found[key]).is_absolute():
                self.problem(f"{path}.{key}", f"must be an absolute path like {credentials_dir / name}, "
                                              f"not {found[key]!r}")
        return found

    def central(self, data: dict, credentials_dir: Path) -> CentralLink | None:
        if "central" not in data:
            return None
        table = self.table(data, "central")
        self.unknown_keys(table, "central", {"site", "host", "port", "ca_file", "password_file"})
        site = self.get(table, "site", "central", str)
        if site is not None and not contract.DEVICE.fullmatch(site):
            self.problem("central.site", f"must be a short id of lower-case letters, digits and '-' (like \"cali\"), "
                                         f"not {site!r}")
        host = self.get(table, "host", "central", str)
        if host is not None and not _host_name_or_address(host):
            self.problem("central.host", f"must be the central's host name or address, not {host!r}")
        port = self.get(table, "port", "central", int, 8883)
        if port is not None and not 1 <= port <= 65535:
            self.problem("central.port", f"must be a TCP port from 1 to 65535, not {port}")
        files = self.files(table, "central", {"ca_file": CENTRAL_CA, "password_file": CENTRAL_PASSWORD},
                           credentials_dir)
        if None in (site, host, port, *files.values()):
            return None
        return CentralLink(site, host, port, Path(files["ca_file"]), Path(files["password_file"]),
                           positions=_page_at_the_central(data), orders="appointments" in data)

    def public(self, data: dict, credentials_dir: Path) -> PublicSettings | None:
        if "public" not in data:
            return None
        table = self.table(data, "public")
        self.unknown_keys(table, "public", {"address", "secret_file", "listen", "host", "port", "http_port",
                                            "app_port", "cert_file", "key_file"})
        address = self.public_address(self.get(table, "address", "public", str))
        listen = self.get(table, "listen", "public", bool, False)
        host = self.get(table, "host", "public", str, PublicSettings.host)
        if host is not None and not _host_name_or_address(host):
            self.problem("public.host", f"must be the hub's address on the guest Wi-Fi (or 0.0.0.0), not {host!r}")
        ports = {}
        for key in ("port", "http_port", "app_port"):
            default = getattr(PublicSettings, key)
            ports[key] = self.get(table, key, "public", int, default)
            if ports[key] is not None and not (1 if key != "http_port" else 0) <= ports[key] <= 65535:
                self.problem(f"public.{key}", f"must be a TCP port from 1 to 65535, not {ports[key]}")
        if len({*ports.values()} - {0}) < len([p for p in ports.values() if p]):
            self.problem("public", "port, http_port and app_port must differ")
        files = self.files(table, "public", {"secret_file": PUBLIC_SECRET, "cert_file": PUBLIC_CERT,
                                             "key_file": PUBLIC_KEY}, credentials_dir)
        if None in (address, listen, host, *ports.values(), *files.values()):
            return None
        return PublicSettings(address=address, listen=listen, host=host, **ports,
                              **{key: Path(value) for key, value in files.items()})

    def public_address(self, address: str | None) -> str | None:
        if address is None:
            return None
        problem = public_address_problem(address)
        if problem:
            self.problem("public.address", problem)
            return None
        return address.rstrip("/")

    def queue(self, data: dict) -> QueuePolicy:
        table = self.table(data, "queue") if "queue" in data else {}
        self.unknown_keys(table, "queue", {"policy", "ratio", "max_wait_minutes"})
        kind = self.get(table, "policy", "queue", str, "strict")
        if kind not in POLICIES:
            self.problem("queue.policy", f"must be one of {', '.join(POLICIES)}, not {kind!r}")
        ratio = self.get(table, "ratio", "queue", int, 3)
        if ratio is not None and not 1 <= ratio <= 20:
            self.problem("queue.ratio", f"must be from 1 to 20 preferential calls per normal one, not {ratio}")
        max_wait = self.get(table, "max_wait_minutes", "queue", int, 0)
        if max_wait is not None and not 0 <= max_wait <= 480:
            self.problem("queue.max_wait_minutes", f"must be from 0 (off) to 480, not {max_wait}")
        return QueuePolicy(kind=kind or "strict", ratio=ratio or 3, max_wait_min=max_wait or 0)

    def appointments(self, data: dict, services: dict, kiosks: dict) -> AppointmentSettings | None:
        if "appointments" not in data:
            return None
        table = self.table(data, "appointments")
        self.unknown_keys(table, "appointments", {"capacity", "address", "slot_minutes", "grace_minutes",
                                                  "retention_days", "days_ahead", "bring"})
        capacity = self.get(table, "capacity", "appointments", dict, {}) or {}
        prefixes = {button.prefix: kiosk.id for kiosk in kiosks.values() for button in kiosk.buttons}
        for letter, count in capacity.items():
            self.service_ref(letter, f"appointments.capacity.{letter}", services)
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 50:
                self.problem(f"appointments.capacity.{letter}", f"must be from 0 to 50 appointments a slot, not "
                                                                f"{count!r}")
            if appointment_prefix(letter) in prefixes:
                self.problem(f"appointments.capacity.{letter}",
                             f"the appointments of {letter} are numbered {appointment_prefix(letter)}-001…, which is "
                             f"the prefix of a button of kiosk {prefixes[appointment_prefix(letter)]!r}")
        if not any(isinstance(n, int) and n > 0 for n in capacity.values()):
            self.problem("appointments.capacity", "must give some service a capacity, like { R = 2 }")
        address = self.get(table, "address", "appointments", str)
        bring = self.get(table, "bring", "appointments", str, DEFAULT_BRING)
        for key, text in (("address", address), ("bring", bring)):
            if isinstance(text, str) and not text.strip():
                self.problem(f"appointments.{key}", "must not be empty: the slip prints it")
        self.printable(kiosks, [("appointments.address", address), ("appointments.bring", bring)])
        numbers = {}
        for key, default, low, high, unit in (("slot_minutes", 15, 5, 120, "minutes"),
                                              ("grace_minutes", 10, 0, 60, "minutes"),
                                              ("retention_days", 30, 1, 365, "days"),
                                              ("days_ahead", 14, 1, 90, "days")):
            numbers[key] = self.get(table, key, "appointments", int, default)
            if numbers[key] is not None and not low <= numbers[key] <= high:
                self.problem(f"appointments.{key}", f"must be from {low} to {high} {unit}, not {numbers[key]}")
        if None in numbers.values() or address is None:
            return None
        return AppointmentSettings(capacity={k: v for k, v in capacity.items() if isinstance(v, int)},
                                   address=address, slot_min=numbers["slot_minutes"],
                                   grace_min=numbers["grace_minutes"], retention_days=numbers["retention_days"],
                                   days_ahead=numbers["days_ahead"], bring=bring or DEFAULT_BRING)

    def timezone(self, name: str | None) -> ZoneInfo | None:
        if name is None:
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem("site.timezone", f"unknown time zone {name!r} (for Colombia: 'America/Bogota')")
            return None

    def holidays(self, code: str | None) -> str | None:
        import holidays
        if code and code not in holidays.list_supported_countries():
            self.problem("site.holidays", f"unknown country code {code!r} for public holidays (Colombia: 'CO')")
        return code or None

    def broker(self, data: dict) -> BrokerAddress:
        broker = self.table(data, "broker")
        self.unknown_keys(broker, "broker", {"host", "port", "username", "password", "credentials_dir", "tls",
                                             "ca_file"})
        host = self.get(broker, "host", "broker", str, "127.0.0.1")
        tls = self.get(broker, "tls", "broker", bool, True)
        if tls is False and host is not None and not _loopback(host):
            self.problem("broker.tls", f"false is only for a broker on this machine (127.0.0.1), not {host!r}: "
                                       "on the site network every password would travel in clear")
        port = self.get(broker, "port", "broker", int, 8883 if tls else 1883)
        if port is not None and not 1 <= port <= 65535:
            self.problem("broker.port", f"must be a TCP port from 1 to 65535, not {port}")
        credentials = self.get(broker, "credentials_dir", "broker", str, str(DEFAULT_CREDENTIALS_DIR))
        if credentials is not None and not Path(credentials).is_absolute():
            self.problem("broker.credentials_dir", f"must be an absolute path like {DEFAULT_CREDENTIALS_DIR}, "
                                                   f"not {credentials!r}")
        credentials_dir = Path(credentials or DEFAULT_CREDENTIALS_DIR)
        ca_file = self.get(broker, "ca_file", "broker", str, str(credentials_dir / CA_NAME))
        if ca_file is not None and not Path(ca_file).is_absolute():
            self.problem("broker.ca_file", f"must be an absolute path like {credentials_dir / CA_NAME}, "
                                           f"not {ca_file!r}")
        return BrokerAddress(host=host or "127.0.0.1", port=port,
                             username=self.get(broker, "username", "broker", str, None),
                             password=self.get(broker, "password", "broker", str, None),
                             credentials_dir=credentials_dir, ca_file=Path(ca_file or CA_NAME) if tls else None)

    def hours(self, data: dict) -> Hours:
        hours = self.table(data, "hours")
        self.unknown_keys(hours, "hours", {"days", "periods", "last_ticket", "closed"})
        days = []
        for name in self.get(hours, "days", "hours", list) or []:
            if name not in WEEKDAYS:
                self.problem("hours.days", f"{name!r} is not a day name (use: {', '.join(WEEKDAYS)})")
            else:
                days.append(WEEKDAYS.index(name))
        periods = []
        for text in self.get(hours, "periods", "hours", list) or []:
            match = _PERIOD.fullmatch(str(text))
            try:
                start, end = (time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))
            except (TypeError, ValueError):
                self.problem("hours.periods", f"{text!r} is not a period like \"08:00-12:00\"")
                continue
            if start >= end:
                self.problem("hours.periods", f"{text!r} ends before it starts")
            periods.append((start, end))
        if not days or not periods:
            self.problem("hours", "needs at least one day and one period")
            return Hours((0,), ((time(8), time(12)),))
        periods.sort()
        return Hours(tuple(sorted(days)), tuple(periods), self.last_ticket(hours, periods), self.closed_days(hours))

    def last_ticket(self, hours: dict, periods: list[tuple[time, time]]) -> time | None:
        text = self.get(hours, "last_ticket", "hours", str, None)
        if text is None:
            return None
        match = _CLOCK.fullmatch(text)
        try:
            last = time(int(match[1]), int(match[2]))
        except (TypeError, ValueError):
            self.problem("hours.last_ticket", f"{text!r} is not a time of day like \"15:45\"")
            return None
        if not any(start <= last < end for start, end in periods):
            self.problem("hours.last_ticket", f"{text} must be within an opening period (the day's last ticket: "
                                              "no ticket after it, later periods included)")
        return last

    def closed_days(self, hours: dict) -> tuple[tuple[str, str], ...]:
        """"2026-12-24" closes one day, "12-24" that day every year."""
        days = []
        for key, name in (self.get(hours, "closed", "hours", dict, {}) or {}).items():
            where = f"hours.closed.{key}"
            try:   # only these two spellings: the day is looked up as text (2024: 02-29 is a day)
                date.fromisoformat(key if _CLOSED_DAY.fullmatch(key)[1] else f"2024-{key}")
            except (TypeError, ValueError):
                self.problem(where, f"{key!r} is not a date like \"2026-12-24\", or \"12-24\" for every year")
                continue
            if not isinstance(name, str) or not 0 < len(name.strip()) <= 60:
                self.problem(where, f"must be the day's name in up to 60 characters (\"Nochebuena\"), not {name!r}")
                continue
            try:   # it goes to the printer and the screen as it is
                contract.check_text("reason", name, 60)
            except contract.ContractError as exc:
                self.problem(where, str(exc).removeprefix("field 'reason' "))
                continue
            days.append((key, name.strip()))
        return tuple(sorted(days))

    def category(self, button: dict, where: str) -> str | None:
        """Whom a preferential button serves; a button with a category is preferential (saying it is not is an
        error)."""
        category = self.get(button, "category", where, str, None)
        if category is not None and category not in contract.PREFERENTIAL_CATEGORIES:
            self.problem(f"{where}.category", f"{category!r} is not a category (one of "
                                              f"{', '.join(contract.PREFERENTIAL_CATEGORIES)})")
            return None
        return category

    def readable(self, key: str, value, field: str) -> None:
        """A name that travels on the board: within the contract's limit for it, or every display refuses it."""
        if isinstance(value, str):
            try:
                contract.check_text(field, value, contract.TEXT_LIMITS[field])
            except contract.ContractError as exc:
                self.problem(key, f"{str(exc).removeprefix(f'field {field!r} ')} (the board carries it to the "
                             "screens)")

    def services(self, data: dict) -> dict[str, Service]:
        services = {}
        for path, table in self.tables(data, "services"):
            self.unknown_keys(table, path, {"letter", "name", "short_name"})
            letter = self.get(table, "letter", path, str)
            name = self.get(table, "name", path, str)
            self.readable(f"{path}.name", name, "service_name")
            short_name = self.get(table, "short_name", path, str, None)
            self.counter_name(path, name, short_name)
            if letter is not None and not _LETTER.fullmatch(letter):
                self.problem(f"{path}.letter", f"must be one capital letter A-Z, not {letter!r}")
            elif letter in services:
                self.problem(f"{path}.letter", f"{letter!r} is used by another service")
            elif letter and name:
                services[letter] = Service(letter, name, short_name)
        if not services:
            self.problem("services", "at least one [[services]] is needed")
        return services

    def counter_name(self, path: str, name, short_name) -> None:
        """The desk's counter display shows a service by its short name, or its name when that fits."""
        limit = f"the desk's counter display shows {COUNTER_CHARACTERS} characters of code page 437 (no Á Í Ó Ú)"
        if short_name is not None and not fits_counter(short_name):
            self.problem(f"{path}.short_name", f"{short_name!r} does not fit: {limit}")
        elif short_name is None and isinstance(name, str) and not fits_counter(name):
            self.problem(f"{path}.short_name", f"is missing: the name {name!r} does not fit ({limit})")

    def service_ref(self, letter, path: str, services: dict) -> None:
        if letter is not None and services and letter not in services:
            self.problem(path, f"unknown service {letter!r} (services: {', '.join(services)})")

    def device_id(self, table: dict, path: str) -> str | None:
        value = self.get(table, "id", path, str)
        if value is not None and not _DEVICE_ID.fullmatch(value):
            self.problem(f"{path}.id", f"{value!r} must be lower-case letters, digits and '-', up to 32")
        return value

    def kiosks(self, data: dict, services: dict) -> dict[str, Kiosk]:
        kiosks, prefix_owner = {}, {}
        for path, table in self.tables(data, "kiosks"):
            self.unknown_keys(table, path, {"id", "status_led", "printer", "buttons", "reader"})
            kiosk_id = self.device_id(table, path)
            buttons = []
            for i, button in enumerate(self.get(table, "buttons", path, list) or []):
                where = f"{path}.buttons[{i + 1}]"
                if not isinstance(button, dict):
                    self.problem(where, "must be a table")
                    continue
                self.unknown_keys(button, where, {"pin", "service", "preferential", "prefix", "category"})
                letter = self.get(button, "service", where, str)
                self.service_ref(letter, f"{where}.service", services)
                prefix = self.get(button, "prefix", where, str, letter)
                if prefix is not None and not _PREFIX.fullmatch(prefix):
                    self.problem(f"{where}.prefix", f"must be one or two capital letters, not {prefix!r}")
                owner = prefix_owner.setdefault(prefix, kiosk_id)
                if owner != kiosk_id:
                    self.problem(f"{where}.prefix", f"{prefix!r} is already the prefix of kiosk {owner!r}: "
                                                    "two kiosks would print the same numbers")
                category = self.category(button, where)
                preferential = self.get(button, "preferential", where, bool, category is not None)
                if category is not None and not preferential:
                    self.problem(f"{where}.category", "is only for a preferential button (preferential = true)")
                buttons.append(KioskButton(self.pin(button, "pin", where), letter, preferential, prefix, category))
            pins = [b.pin for b in buttons]
            if len(pins) != len(set(pins)):
                self.problem(f"{path}.buttons", "two buttons share a pin")
            if not buttons:
                self.problem(f"{path}.buttons", "a kiosk needs at least one button")
            if kiosk_id in kiosks:
                self.problem(f"{path}.id", f"{kiosk_id!r} is used by another kiosk")
            status_led, printer = self.pin(table, "status_led", path, None), self.printer(table, path)
            if status_led is not None and status_led in pins:
                self.problem(f"{path}.status_led", f"GPIO{status_led} is also a button's pin")
            device = printer.get("device", HEADER_UARTS[0])
            if printer.get("kind") == "serial" and device in HEADER_UARTS:
                for pin in sorted(set(UART_PINS) & {*pins, status_led}):
                    self.problem(path, f"GPIO{pin} carries the serial printer on {device}: wire that button or "
                                       "light to another pin")
            reader = self.get(table, "reader", path, str, None)
            if reader is not None and reader != "simulated" and not reader.startswith("/dev/input/"):
                self.problem(f"{path}.reader", f"must be the reader's device, /dev/input/by-id/…-event-kbd, or "
                                               f"\"simulated\", not {reader!r}")
            kiosks[kiosk_id] = Kiosk(kiosk_id, status_led, printer, tuple(buttons), reader)
        return kiosks

    def printer(self, table: dict, path: str) -> dict:
        printer = dict(self.get(table, "printer", path, dict, {"kind": "simulated"}))
        where = f"{path}.printer"
        known = set(PRINTER_KEYS)
        self.unknown_keys(printer, where, known)
        kind = self.get(printer, "kind", where, str)
        if kind is not None and kind not in _PRINTER_KINDS:
            self.problem(f"{where}.kind", f"must be one of {', '.join(_PRINTER_KINDS)}, not {kind!r}")
        typed = {key: self.get(printer, key, where, PRINTER_KEYS[key], None) for key in printer
                 if key in known and key != "kind"}
        if typed.get("encoding") is not None and typed["encoding"] not in CODE_PAGES:
            self.problem(f"{where}.encoding", f"must be a code page that holds every Spanish letter "
                                              f"({', '.join(CODE_PAGES)}), not {typed['encoding']!r}")
        return {"kind": kind, **{key: value for key, value in typed.items() if value is not None}}

    def printable(self, kiosks: dict[str, Kiosk], texts: list[tuple[str, object]]) -> None:
        """Every text a ticket or slip prints fits each kiosk's code page: a letter it lacks would print as '?'."""
        for kiosk in kiosks.values():
            page = kiosk.printer.get("encoding", DEFAULT_CODE_PAGE)
            for key, text in texts:
                if page not in CODE_PAGES or not isinstance(text, str):
                    continue
                missing = "".join(sorted({char for char in text if not _encodes(char, CODE_PAGES[page])}))
                if missing:
                    self.problem(key, f"{missing!r} cannot be printed in code page {page} (kiosks.{kiosk.id} "
                                      f"printer.encoding): write it otherwise or choose another page")

    def desks(self, data: dict, services: dict) -> dict[int, Desk]:
        desks = {}
        for path, table in self.tables(data, "desks"):
            self.unknown_keys(table, path, {"number", "name", "services", "advisor", "transfer_to"})
            number = self.get(table, "number", path, int)
            if number is not None and not 1 <= number <= 99:
                self.problem(f"{path}.number", f"must be from 1 to 99, not {number}")
            elif number in desks:
                self.problem(f"{path}.number", f"desk {number} is configured twice")
            letters = self.get(table, "services", path, list) or []
            for letter in letters:
                if not isinstance(letter, str):
                    self.problem(f"{path}.services", f"must be service letters like \"R\", not {letter!r}")
                    continue
                self.service_ref(letter, f"{path}.services", services)
            if not letters:
                self.problem(f"{path}.services", "a desk must attend at least one service")
            transfer_to = self.get(table, "transfer_to", path, str, None)
            self.service_ref(transfer_to, f"{path}.transfer_to", services)
            name = self.get(table, "name", path, str, f"Módulo {number}")
            self.readable(f"{path}.name", name, "desk_name")
            desks[number] = Desk(number, name, tuple(letters), self.get(table, "advisor", path, str, ""), transfer_to)
        if not desks:
            self.problem("desks", "at least one [[desks]] is needed")
        return desks

    def desk_pins(self, data: dict) -> DeskPins:
        pins = self.table(data, "desk_pins")
        self.unknown_keys(pins, "desk_pins", {"next", "status_led", "rating", "rating_leds", "recall", "no_show",
                                              "transfer", "pause"})
        rating, leds = (self.get(pins, key, "desk_pins", list) or [] for key in ("rating", "rating_leds"))
        for key, values in (("rating", rating), ("rating_leds", leds)):
            if len(values) != 5 or not all(isinstance(v, int) and v in _GPIO_PINS for v in values):
                self.problem(f"desk_pins.{key}", f"must be five BCM GPIO numbers (2-27), for ratings 1 to 5, not {values}")
        result = DeskPins(self.pin(pins, "next", "desk_pins"), self.pin(pins, "status_led", "desk_pins"),
                          tuple(rating), tuple(leds), *(self.pin(pins, key, "desk_pins", None)
                                                        for key in ("recall", "no_show", "transfer", "pause")))
        used = [pin for pin in (result.next, result.status_led, *rating, *leds, result.recall, result.no_show,
                                result.transfer, result.pause) if isinstance(pin, int)]  # a wrong one is reported above
        if len(used) != len(set(used)):
            self.problem("desk_pins", "a pin is used twice")
        return result

    def desk_settings(self, data: dict) -> DeskSettings:
        table = self.table(data, "desk") if "desk" in data else {}
        self.unknown_keys(table, "desk", {"recall_hold_seconds", "attention_limit_minutes",
                                          "attention_warning_minutes", "transfer_position", "counter",
                                          "advisor_codes"})
        hold = self.get(table, "recall_hold_seconds", "desk", (int, float), 1.5)
        if hold is not None and not 0.5 <= hold <= 10:
            self.problem("desk.recall_hold_seconds", f"must be from 0.5 to 10 seconds, not {hold}")
        limit = self.get(table, "attention_limit_minutes", "desk", int, 15)
        if limit is not None and not 1 <= limit <= 240:
            self.problem("desk.attention_limit_minutes", f"must be from 1 to 240, not {limit}")
        warning = self.get(table, "attention_warning_minutes", "desk", int, 3)
        if warning is not None and limit is not None and not 0 <= warning < limit:
            self.problem("desk.attention_warning_minutes", f"must be from 0 (no warning) to less than "
                                                           f"attention_limit_minutes ({limit}), not {warning}")
        position = self.get(table, "transfer_position", "desk", str, "front")
        if position not in ("front", "back"):
            self.problem("desk.transfer_position", f"must be \"front\" or \"back\", not {position!r}")
        counter = self.get(table, "counter", "desk", dict, {"kind": "none"})
        self.unknown_keys(counter, "desk.counter", {"kind", "device", "baudrate"})
        kind = self.get(counter, "kind", "desk.counter", str, "none")
        if kind not in ("serial", "none"):
            self.problem("desk.counter.kind", f"must be \"serial\" (a CD5220 display) or \"none\", not {kind!r}")
        baud = self.get(counter, "baudrate", "desk.counter", int, 9600)
        if baud not in (2400, 4800, 9600, 19200, 38400):
            self.problem("desk.counter.baudrate", f"must be 2400, 4800, 9600, 19200 or 38400, not {baud}")
        return DeskSettings(float(hold or 1.5), limit or 15, warning or 0, position == "front",
                            {"kind": kind, "device": self.get(counter, "device", "desk.counter", str, "/dev/ttyUSB0"),
                             "baudrate": baud}, self.advisor_codes(table))

    def advisor_codes(self, table: dict) -> dict[str, str]:
        codes = {}
        for code, name in (self.get(table, "advisor_codes", "desk", dict, {}) or {}).items():
            where = f"desk.advisor_codes.{code}"
            if not contract.SIGN_IN_CODE.fullmatch(code):
                self.problem(where, f"{code!r} is not a code: four digits from 1 to 5, the rating pad's buttons")
            elif not isinstance(name, str) or not name.strip():
                self.problem(where, f"must be the advisor's name, not {name!r}")
            else:
                self.readable(where, name, "advisor")
                codes[code] = name
        return codes

    def displays(self, data: dict) -> dict[str, Display]:
        displays = {}
        for path, table in self.tables(data, "displays"):
            self.unknown_keys(table, path, {"id", "size", "portrait", "voice", "volume", "footer"})
            size = self.get(table, "size", path, list, [1920, 1080])
            if len(size) != 2 or not all(isinstance(v, int) and 320 <= v <= 7680 for v in size):
                self.problem(f"{path}.size", f"must be [width, height] in pixels, e.g. [1920, 1080], not {size}")
                size = [1920, 1080]
            volume = self.get(table, "volume", path, int, 80)
            if volume is not None and not 0 <= volume <= 100:
                self.problem(f"{path}.volume", f"must be from 0 to 100, not {volume}")
            footer = self.get(table, "footer", path, list, [])
            if not all(isinstance(line, str) for line in footer):
                self.problem(f"{path}.footer", "must be a list of text lines")
            display_id = self.device_id(table, path)
            displays[display_id] = Display(display_id, tuple(size), self.get(table, "portrait", path, bool, False),
                                           self.get(table, "voice", path, bool, True), volume,
                                           tuple(str(line) for line in footer))
        return displays


def _encodes(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _describe(kinds: tuple) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list",
             dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
