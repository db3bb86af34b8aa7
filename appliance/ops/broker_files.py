"""The hub's Mosquitto, locked down: a user and a password per device, and an ACL that lets each device
publish only its own facts and read only what it shows. Anonymous clients are refused.

`write_broker_files(config, directory)` makes, from the site configuration:

- ``turnero.conf``: the snippet for /etc/mosquitto/conf.d/ (listener, security, persistence, limits);
- ``passwd``: the users and their password hashes, made by Mosquitto's own `mosquitto_passwd`;
- ``acl``: one ``user`` block per device, from the topics of appliance/contract/;
- ``credentials/<device>``: the device's password in plain text (0600), to copy to that Pi as
  ``<[broker] credentials_dir>/<device>``, and ``credentials/ca.crt``, the site CA's certificate, beside it;
- ``ca.key``, ``ca.crt``, ``server.key``, ``server.crt``, ``web.key``, ``web.crt``: the site CA, the broker's
  certificate and the coordinators' page's (site_ca.py).

Running it again keeps every existing password, makes one for a new device and drops a removed device's.
LocalBroker runs with the same lines (`security_lines`, `tuning_lines`), so the tests check this very setup.
"""
from __future__ import annotations

import grp
import os
import pwd
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from appliance import contract
from appliance.contract import shipping
from appliance.core.durable import fsync_dir, write_atomic
from appliance.ops import site_ca
from appliance.site import CA_NAME, CENTRAL_CA, CentralLink, SetupError, SiteConfig, load
from appliance.site.model import PUBLIC_SECRET
from hub import mi_turno

CONF_NAME = "turnero.conf"
PASSWD_NAME = "passwd"
ACL_NAME = "acl"
CREDENTIALS_NAME = "credentials"
MONITOR = "monitor"              # a technician's read-only account, for mosquitto_sub on the hub
SHIPPER = "hub-ship"             # `turnero ship`, on a site with a [central]
MOSQUITTO_USER = "mosquitto"     # Debian's broker reads passwd and acl after dropping to this user

# Debian's mosquitto.conf already says `persistence true` and `persistence_location /var/lib/mosquitto/`; a
# second persistence_location (or persistence_file) in conf.d stops Mosquitto 2.0 with "Duplicate
# persistence_location value", while a repeated `persistence true` is accepted. Mosquitto saves every
# AUTOSAVE_S whether or not anything changed (a small file); the default is 30 minutes, far too long to
# keep the retained state and the hub's queued messages through a power cut.
AUTOSAVE_S = 30
# The hub's persistent session holds every fact that arrives while the hub is away. Past the limit Mosquitto
# drops the newest, and a kiosk deleted its copy when the broker took it: the fact would be lost. The default
# of 1000 is one busy morning; this is several days of a busy site's tickets, requests and ratings.
MAX_QUEUED_MESSAGES = 20000
# A PUBLISH packet is its payload plus the fixed header, the topic and the properties: 1 KiB covers those.
MAX_PACKET_BYTES = contract.MAX_PAYLOAD_BYTES + 1024
# Beside the count, the bytes the hub's queue may hold: a real ticket is under 1 KiB, so 20,000 of them fit in
# a few MB; a stolen credential sending 64 KiB messages to an absent hub stops here instead of at 1.3 GB.
MAX_QUEUED_BYTES = 32 * 1024 * 1024
# Mosquitto's own ceiling on its heap (past it a message is dropped and its sender disconnected): the queue
# above, the connections below and their TLS state, with room to spare, on a hub Pi of 1 GB.
MEMORY_LIMIT_BYTES = 256 * 1024 * 1024
# A site has tens of devices. Connections that never log in are closed by Mosquitto after 90 s (it gives a new
# connection the keepalive of 60 s, times 1.5), but until then each holds a descriptor and some 40 KB (its TLS
# state): the listener takes this many at once (80 MB at most), and systemd lets the broker open OPEN_FILES (its
# default, 1,024, was the limit a thousand silent sockets reached).
MAX_CONNECTIONS = 2000
OPEN_FILES = 4096
DROP_IN_NAME = "turnero-limits.conf"    # in /etc/systemd/system/mosquitto.service.d/

_PASSWORD = re.compile(r"[A-Za-z0-9_-]{16,}")   # what secrets.token_urlsafe makes; never a ':' (passwd format)


class BrokerFilesError(SetupError):
    """The broker's files cannot be made; the message says what to do."""


@dataclass(frozen=True)
class Account:
    """One MQTT user: a device, what it is (for people) and the topics it may read and write."""

    device: str
    what: str
    read: tuple[str, ...]
    write: tuple[str, ...]


@dataclass(frozen=True)
class BrokerFiles:
    """What write_broker_files wrote: the files, each device's credential and what changed."""

    directory: Path
    accounts: tuple[Account, ...]
    added: tuple[str, ...]          # devices that got a new password this time
    removed: tuple[str, ...]        # devices whose password was dropped (no longer in the site configuration)

    @property
    def config_file(self) -> Path:
        return self.directory / CONF_NAME

    @property
    def passwd_file(self) -> Path:
        return self.directory / PASSWD_NAME

    @property
    def acl_file(self) -> Path:
        return self.directory / ACL_NAME

    def credential(self, device: str) -> Path:
        return self.directory / CREDENTIALS_NAME / device

    def report(self, credentials_dir: Path) -> str:
        """For the technician: what was written and which credential goes to which Pi."""
        lines = [f"{self.config_file}: Mosquitto's settings; link it as /etc/mosquitto/conf.d/{CONF_NAME}, then "
                 "`systemctl restart mosquitto` (the first time; after a change `systemctl reload mosquitto`)",
                 f"{self.passwd_file}: {len(self.accounts)} users (made by mosquitto_passwd)",
                 f"{self.acl_file}: what each user may read and write"]
        if self.added:
            lines.append(f"new credentials: {', '.join(self.added)}")
        if self.removed:
            lines.append(f"dropped credentials (no longer in the site configuration): {', '.join(self.removed)}")
        lines.append(f"Copy each credential to its Pi as {Path(credentials_dir) / '<device>'} "
                     "(`turnero install --credential FILE` does it: 0640 root:turnero):")
        device_width = max(len(a.device) for a in self.accounts)
        what_width = max(len(a.what) for a in self.accounts)
        for account in self.accounts:
            lines.append(f"  {account.device:<{device_width}}  {account.what:<{what_width}}  "
                         f"{self.credential(account.device)}")
        return "\n".join(lines)


def accounts(config: SiteConfig) -> tuple[Account, ...]:
    """Every user of the site's broker, with least privilege: each writes its own facts, its own status and
    heartbeat (its last will is its status: Mosquitto drops a will the ACL does not allow) and reads only
    what it subscribes to."""

    def own(device: str) -> tuple[str, ...]:
        return contract.status_topic(device), contract.heartbeat_topic(device)

    hub_status = contract.status_topic("hub")
    found = [
        Account("hub", "the hub (turnero hub)",
                read=(contract.TICKETS_ALL, contract.REQUESTS_ALL, contract.RATINGS_ALL, contract.COMMAND_TOPIC,
                      contract.CHECK_INS_ALL),
                write=(contract.BOARD_TOPIC, contract.desk_state_topic("+"), contract.applied_topic("+"),
                       contract.POSITIONS_ALL, contract.check_in_answer_topic("+"), *own("hub"))),
        Account("hub-web", "the coordinators' page (turnero hub)",
                read=(contract.BOARD_TOPIC, contract.desk_state_topic("+"), contract.status_topic("+"),
                      contract.printer_topic("+"), contract.heartbeat_topic("+")),
                write=(contract.ALARMS_TOPIC, contract.COMMAND_TOPIC, contract.slip_topic("+"), *own("hub-web"),
                       # its live picture, for the central's page (the bridge carries it)
                       *((shipping.site_topic(shipping.PICTURE),) if config.central else ()))),
    ]
    if config.public is not None and config.public.listen:
        found.append(Account(mi_turno.DEVICE, "the \"Mi turno\" page on the guest Wi-Fi (turnero mi-turno)",
                             read=(contract.POSITIONS_ALL,), write=own(mi_turno.DEVICE)))
    for kiosk in config.kiosks:
        found.append(Account(kiosk, f"kiosk {kiosk}", read=(contract.BOARD_TOPIC, hub_status,
                                                           contract.applied_topic(kiosk),
                                                           contract.check_in_answer_topic(kiosk),
                                                           contract.slip_topic(kiosk)),
                             write=(contract.ticket_topic(kiosk), contract.printer_topic(kiosk),
                                    contract.check_in_topic(kiosk), *own(kiosk))))
    for number in config.desks:
        device = contract.desk_device(number)
        found.append(Account(device, f"desk {number}", read=(contract.desk_state_topic(number), hub_status,
                                                            contract.applied_topic(device)),
                             write=(contract.request_topic(number), contract.rating_topic(number), *own(device))))
    # A screen tells the room when a dispenser has no paper or does not work.
    dispensers = tuple(topic for kiosk in config.kiosks
                       for topic in (contract.printer_topic(kiosk), contract.status_topic(kiosk)))
    for display in config.displays:
        found.append(Account(display, f"display {display}", read=(contract.BOARD_TOPIC, hub_status, *dispensers),
                             write=own(display)))
    if config.central is not None:
        found.append(Account(SHIPPER, "the shipper of the record to the central (turnero ship)",
                             read=(shipping.site_topic(shipping.ACK), shipping.central_topic(config.central.site,
                                                                                               shipping.BRIDGE)),
                             write=(shipping.site_topic(shipping.RECORDS), shipping.site_topic(shipping.SITE),
                                    *own(SHIPPER))))
    found.append(Account(MONITOR, "a technician's read-only account (mosquitto_sub)", read=(f"{contract.ROOT}/#",),
                         write=()))
    seen: dict[str, str] = {}
    for account in found:
        if account.device in seen:
            raise BrokerFilesError(f"{account.what} and {seen[account.device]} would share the MQTT user "
                                   f"{account.device!r}: give one of them another id in the site configuration")
        seen[account.device] = account.what
    return tuple(found)


# --- Mosquitto's configuration -------------------------------------------------------------------------------

def security_lines(directory: Path) -> list[str]:
    """Users, passwords and ACL from `directory` (as written by write_broker_files); no anonymous client."""
    directory = Path(directory).absolute()
    _check_config_path(directory)
    # Each client's id becomes its user name: a device's credential cannot take another's session (a display
    # connecting as "turnero-hub" would otherwise kick the hub off and resume its queued messages).
    return ["allow_anonymous false", f"password_file {directory / PASSWD_NAME}", f"acl_file {directory / ACL_NAME}",
            "use_username_as_clientid true"]


def tls_lines(directory: Path) -> list[str]:
    """The listener speaks only TLS, with the broker's certificate from the site CA in `directory`."""
    directory = Path(directory).absolute()
    _check_config_path(directory)
    return [f"cafile {directory / site_ca.CA_CERT}", f"certfile {site_ca.cert_file(directory)}",
            f"keyfile {site_ca.key_file(directory)}", "tls_version tlsv1.2"]


def write_tls_files(directory: Path, site_name: str, names: list[str]) -> site_ca.ServerCertificate:
    """The site CA (made once), the broker's certificate and the page's for `names`, each issued again when the
    names change or it is due for renewal; the broker's key readable by the broker only. Returns the broker's."""
    site_ca.ensure_ca(directory, site_name)
    for stem in (site_ca.SERVER, site_ca.WEB):
        if not _certificate_current(directory, stem, names):
            site_ca.issue_server(directory, names, stem=stem)
            if stem == site_ca.SERVER:
                _give_to_broker(site_ca.key_file(directory))
    return site_ca.server_certificate(directory)


def tls_current(directory: Path, names: list[str]) -> bool:
    """The broker's and the page's certificates in `directory` are for these names and not due for renewal."""
    return all(_certificate_current(directory, stem, names) for stem in (site_ca.SERVER, site_ca.WEB))


def _certificate_current(directory: Path, stem: str, names: list[str]) -> bool:
    current = site_ca.server_certificate(directory, stem)
    return (current is not None and set(current.names) == set(names)
            and not current.due(datetime.now(timezone.utc)))


def hub_names(config: SiteConfig) -> list[str]:
    """What devices dial to reach the hub's broker ([broker] host), and loopback for the hub's own roles."""
    return server_names(config.broker.host)


def server_names(host: str) -> list[str]:
    """The names a broker's certificate is for: the host clients dial, and loopback for its own machine."""
    return list(dict.fromkeys([host, "127.0.0.1", "localhost"]))


def tuning_lines() -> list[str]:
    return [
        # Small packets at once: with Nagle's algorithm a call waits for the previous packet's ACK (~40 ms).
        "set_tcp_nodelay true",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        f"max_queued_bytes {MAX_QUEUED_BYTES}",
        f"memory_limit {MEMORY_LIMIT_BYTES}",
        f"max_packet_size {MAX_PACKET_BYTES}",
        # A listener's option: it follows the one listener line above it.
        f"max_connections {MAX_CONNECTIONS}",
    ]


def systemd_drop_in() -> str:
    """Debian's mosquitto.service sets no open-file limit: this drop-in gives it room for MAX_CONNECTIONS."""
    return ("# Written by `turnero install`: room for the broker's connections (appliance/ops/broker_files.py).\n"
            f"[Service]\nLimitNOFILE={OPEN_FILES}\n")


def bridge_lines(central: CentralLink, ca_file: Path | None = None) -> list[str]:
    """The bridge to the organisation's central: what the shipper publishes under turnero/v1/central/ goes to the
    site's own prefix there, and the central's acknowledgement comes back. The central keeps the bridge's session
    (fixed client id, no clean session) and the bridge tells both brokers whether it is up. What the bridge queues
    is only the shipper's window: the journal, not the broker, holds an outage (docs/central.md). `ca_file`: the
    central CA's certificate where the broker may read it, if not [central] ca_file itself."""
    password = read_password(central.password_file)
    if password is None:
        raise BrokerFilesError(f"{central.password_file} is missing: it is the site's password at the central, made "
                               f"there by `turnero central add-site {central.site}`; copy it here ([central] "
                               "password_file)")
    _check_config_path(ca_file or central.ca_file)
    prefix = shipping.remote_prefix(central.site)
    return [
        "connection central",
        f"address {central.host}:{central.port}",
        f"bridge_cafile {ca_file or central.ca_file}",
        "bridge_insecure false",
        f"remote_username {central.site}",
        f"remote_password {password}",
        f"remote_clientid turnero-bridge-{central.site}",
        "cleansession false",
        "local_cleansession false",
        "bridge_protocol_version mqttv311",
        "notifications true",
        f"notification_topic {shipping.central_topic(central.site, shipping.BRIDGE)}",
        "keepalive_interval 30",
        "restart_timeout 5 60",
        *(f"topic {leaf} {direction} 1 {shipping.LOCAL_PREFIX} {prefix}"
          for leaf, direction in ((shipping.RECORDS, "out"), (shipping.SITE, "out"), (shipping.PICTURE, "out"),
                                  (shipping.ACK, "in"))),
        # The central serves the "Mi turno" page of a site whose hub does not; one that does keeps its positions
        # (and the WAN's bandwidth) to itself.
        *([f"topic {shipping.POSITIONS}/+ out 1 {shipping.POSITIONS_PREFIX} {prefix}"] if central.positions else []),
        # The central's page books this site's appointments; the hub takes nothing else from it.
        *([f"topic {shipping.ORDERS} in 1 {shipping.POSITIONS_PREFIX} {prefix}"] if central.orders else []),
    ]


def hub_config(directory: Path, port: int, central: CentralLink | None = None) -> str:
    """The snippet for /etc/mosquitto/conf.d/ on the hub, next to Debian's mosquitto.conf; it listens on the
    site file's [broker] port, the one every device dials."""
    lines = [
        "# Written by `turnero broker-files` from the site configuration; rewritten at every run.",
        "# Goes in /etc/mosquitto/conf.d/, next to Debian's mosquitto.conf (which sets persistence_location).",
        # Every interface (the devices are other Pis), TLS only: nothing, a password least of all, in clear.
        f"listener {port}",
        *tls_lines(directory),
        *security_lines(directory),
        "persistence true",
        f"autosave_interval {AUTOSAVE_S}",
        *tuning_lines(),
        # Last: every line after `connection` belongs to the bridge.
        *(bridge_lines(central, directory / CENTRAL_CA) if central is not None else []),
    ]
    return "\n".join(lines) + "\n"


def acl_text(found: tuple[Account, ...]) -> str:
    blocks = ["# Written by `turnero broker-files` from the site configuration; rewritten at every run."]
    for account in found:
        lines = [f"# {account.what}", f"user {account.device}"]
        lines += [f"topic write {topic}" for topic in account.write]
        lines += [f"topic read {topic}" for topic in account.read]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _check_config_path(directory: Path) -> None:
    # Mosquitto's configuration is line-based and cuts a value at whitespace it does not expect.
    if any(c.isspace() for c in str(directory)):
        raise BrokerFilesError(f"Mosquitto cannot read a path with spaces or line breaks: {str(directory)!r}")


# --- the files -----------------------------------------------------------------------------------------------

def write_broker_files(config: SiteConfig, directory: Path) -> BrokerFiles:
    """Writes turnero.conf, passwd, acl and credentials/<device> into `directory` (see the module's doc)."""
    directory = Path(directory).absolute()
    _check_config_path(directory)
    found = accounts(config)
    mosquitto_passwd = shutil.which("mosquitto_passwd")
    if mosquitto_passwd is None:
        raise BrokerFilesError("mosquitto_passwd is not installed: apt-get install mosquitto")
    credentials = directory / CREDENTIALS_NAME
    credentials.mkdir(parents=True, exist_ok=True)
    credentials.chmod(0o700)
    passwords, added = {}, []
    for account in found:
        path = credentials / account.device
        password = read_password(path)
        if password is None:
            password = secrets.token_urlsafe(24)
            added.append(account.device)
            write_atomic(path, (password + "\n").encode())
        path.chmod(0o600)
        passwords[account.device] = password
    if config.public is not None:
        write_public_secret(credentials / PUBLIC_SECRET)
    removed = []
    for path in sorted(credentials.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.name not in (*passwords, CA_NAME, PUBLIC_SECRET):
            path.unlink()
            removed.append(path.name)
    if removed:
        fsync_dir(credentials)
    write_tls_files(directory, config.name, hub_names(config))
    # Beside the credentials: what a device is handed is its password and the certificate it trusts the broker by.
    write_atomic(credentials / CA_NAME, (directory / site_ca.CA_CERT).read_bytes())
    write_broker_readable(directory / PASSWD_NAME, hash_passwords(mosquitto_passwd, passwords, directory))
    write_broker_readable(directory / ACL_NAME, acl_text(found).encode())
    if config.central is not None:
        write_central_ca(config.central, directory)
    # Broker-readable only: with a [central] it holds the site's password there.
    write_broker_readable(directory / CONF_NAME, hub_config(directory, config.broker.port, config.central).encode())
    return BrokerFiles(directory, found, tuple(added), tuple(removed))


def write_public_secret(path: Path) -> None:
    """The site secret the tickets' public codes derive from (appliance/core/public_code.py), made once: a new one
    would orphan the codes of the tickets already printed. Handed to every kiosk beside its credential."""
    if not path.is_file():
        write_atomic(path, (secrets.token_hex(32) + "\n").encode())
    path.chmod(0o600)


def write_central_ca(central: CentralLink, directory: Path) -> None:
    """A copy of [central] ca_file beside the broker's own certificates: Mosquitto loads the bridge's CA after
    dropping to its user, who cannot enter the folder of the hub's credentials where the site file names it."""
    try:
        certificate = central.ca_file.read_bytes()
    except OSError as exc:
        raise BrokerFilesError(f"cannot read the central CA's certificate {central.ca_file} ([central] ca_file): "
                               f"{exc.strerror}; copy it from the central (`turnero central add-site "
                               f"{central.site}` says where it is)") from None
    write_atomic(directory / CENTRAL_CA, certificate)
    (directory / CENTRAL_CA).chmod(0o644)


def read_password(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokerFilesError(f"cannot read the credential {path}: {exc}") from None
    if not _PASSWORD.fullmatch(text):
        raise BrokerFilesError(f"{path} does not hold a password made by `turnero broker-files`: delete it and "
                               "run the command again to make a new one (then copy it to the device's Pi)")
    return text


def hash_passwords(mosquitto_passwd: str, passwords: dict[str, str], directory: Path) -> bytes:
    """The passwd file as Mosquitto's own tool hashes it (`mosquitto_passwd -U` on a plain-text copy)."""
    plain = directory / f".{PASSWD_NAME}.plain"
    fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(f"{device}:{password}\n" for device, password in passwords.items())
        done = subprocess.run([mosquitto_passwd, "-U", str(plain)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BrokerFilesError(f"mosquitto_passwd -U failed ({done.returncode}): "
                                   f"{(done.stderr or done.stdout).strip()}")
        return plain.read_bytes()
    finally:
        plain.unlink(missing_ok=True)


def write_broker_readable(path: Path, data: bytes) -> None:
    write_atomic(path, data)
    _give_to_broker(path)


def _give_to_broker(path: Path) -> None:
    """Readable by the broker only. Debian's Mosquitto reads passwd, acl and its key after switching to the user
    "mosquitto" (as root here, the files become that user's); newer 2.0 releases warn about any other owner or
    a world-readable file."""
    path.chmod(0o600)
    if os.geteuid() == 0:
        try:
            os.chown(path, pwd.getpwnam(MOSQUITTO_USER).pw_uid, grp.getgrnam(MOSQUITTO_USER).gr_gid)
        except KeyError:
            pass  # no system broker on this machine (a LocalBroker as root reads them as root)


def main(args) -> int:
    """`turnero broker-files`."""
    config = load(args.config)
    print(write_broker_files(config, args.out).report(config.broker.credentials_dir))
    return 0
