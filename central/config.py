"""The central's file, central.toml: its broker (where the sites' bridges arrive) and its PostgreSQL.

    [central]
    name = "Comfenalco Valle"                          # the organisation, for people
    timezone = "America/Bogota"

    [broker]                                           # the central's Mosquitto (turnero central broker-files)
    host = "127.0.0.1"
    port = 8883
    files = "/etc/turnero/central/broker"              # its CA, the central's credential, every site's

    [database]
    dsn = "dbname=turnero"                             # libpq's connection string: a local socket, peer auth

    [web]                                              # the coordinators' page, served by `turnero central serve`
    host = ""                                          # every interface
    port = 443                                         # HTTPS (nginx, with the certificate broker-files issues)
    http_port = 80                                     # plain HTTP, which only redirects there (0: none)
    app_port = 8081                                    # the page itself, on the loopback, behind nginx
    state = "/var/lib/turnero-central"                 # its accounts and sessions (turnero central user)

    [public]                                           # optional: the sites' "Mi turno" page (docs/mi-turno.md)
    address = "https://turno.comfenalco.example"       # what the sites' tickets print ([public] address there)
    host = ""                                          # every interface; its own address to have port 443
    port = 8444                                        # HTTPS (nginx): beside [web] port on one address
    http_port = 0                                      # plain HTTP, which only redirects there (0: none)
    app_port = 8082                                    # the page itself, on the loopback, behind nginx
    cert_file = "/etc/turnero/central/public.crt"      # a certificate phones trust for the address's name
    key_file = "/etc/turnero/central/public.key"

Every problem is listed at once with its key, as for a site file, and nothing starts half-configured.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.site import CA_NAME, WEB_CERT, WEB_KEY, BrokerAddress, ConfigError
from central.public_config import CentralPublic, public_settings

DEVICE = "central"          # the central's user on its own broker
WHAT = "the central's configuration"
_KINDS = {str: "text", int: "a whole number"}
CREDENTIALS = "credentials"
READERS = "turnero_lectura"     # the read-only role of BI tools (docs/central.md), made by install --role central


@dataclass(frozen=True)
class CentralConfig:
    name: str
    timezone: ZoneInfo
    broker: BrokerAddress
    files: Path                 # the central broker's files: CA, passwd, acl, credentials/<user>
    dsn: str
    web: CentralWeb
    public: CentralPublic | None = None     # the sites' "Mi turno" page, when the central serves it


@dataclass(frozen=True)
class CentralWeb:
    host: str
    port: int
    http_port: int
    app_port: int
    state: Path
    cert_file: Path             # issued from the central's CA by broker-files, for [broker] host
    key_file: Path


def load(path: Path) -> CentralConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror}"], WHAT) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), [f"not a TOML file: {exc}"], WHAT) from None
    problems: list[str] = []

    def get(table: str, key: str, kind, default=None):
        section = data.get(table, {})
        value = section.get(key, default) if isinstance(section, dict) else None
        if value is None or (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            problems.append(f"{table}.{key}: " + ("is missing" if value is None else
                                                  f"must be {_KINDS[kind]}, not {value!r}"))
            return None
        return value

    for table, known in (("central", {"name", "timezone"}), ("broker", {"host", "port", "files"}),
                         ("database", {"dsn"}), ("web", {"host", "port", "http_port", "app_port", "state"}),
                         ("public", set(CentralPublic.KEYS))):
        section = data.get(table, {})
        for key in (section if isinstance(section, dict) else ()):
            if key not in known:
                problems.append(f"{table}.{key}: unknown key (known: {', '.join(sorted(known))})")
    unknown = set(data) - {"central", "broker", "database", "web", "public"}
    problems += [f"{key}: unknown table" for key in sorted(unknown)]
    name = get("central", "name", str)
    zone_name = get("central", "timezone", str, "America/Bogota")
    zone = None
    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"central.timezone: unknown time zone {zone_name!r}")
    host = get("broker", "host", str, "127.0.0.1")
    port = get("broker", "port", int, 8883)
    web_host = get("web", "host", str, "")
    web_port = get("web", "port", int, 443)
    http_port = get("web", "http_port", int, 80)
    app_port = get("web", "app_port", int, 8081)
    for key, value, low in (("broker.port", port, 1), ("web.port", web_port, 1), ("web.http_port", http_port, 0),
                            ("web.app_port", app_port, 1)):
        if value is not None and not low <= value <= 65535:
            problems.append(f"{key}: must be a TCP port from {low} to 65535, not {value}")
    state = get("web", "state", str, "/var/lib/turnero-central")
    if state is not None and not Path(state).is_absolute():
        problems.append(f"web.state: must be an absolute path, not {state!r}")
    files = get("broker", "files", str, "/etc/turnero/central/broker")
    if files is not None and not Path(files).is_absolute():
        problems.append(f"broker.files: must be an absolute path, not {files!r}")
    dsn = get("database", "dsn", str, "dbname=turnero")
    public = public_settings(data, get, problems, web_host, (web_port, http_port, app_port))
    if problems:
        raise ConfigError(str(path), problems, WHAT)
    files = Path(files)
    broker = BrokerAddress(host, port, credentials_dir=files / CREDENTIALS, ca_file=files / CA_NAME)
    web = CentralWeb(host=web_host, port=web_port, http_port=http_port, app_port=app_port, state=Path(state),
                     cert_file=files / WEB_CERT, key_file=files / WEB_KEY)
    return CentralConfig(name=name, timezone=zone, broker=broker, files=files, dsn=dsn, web=web, public=public)
