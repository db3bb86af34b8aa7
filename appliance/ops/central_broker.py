"""The central's Mosquitto, where every site's bridge arrives: TLS with the central's own CA, a user per site
(its id) and an ACL that lets a site write only under its own prefix and read only its own acknowledgement.

`turnero central broker-files --config central.toml` writes, in `[broker] files`: the CA and the broker's
certificate, `credentials/central` (the central process's password), `credentials/central-web` and
`credentials/central-public` (its two pages'), `credentials/monitor`, one
`credentials/<site>` per site, `passwd` (by mosquitto_passwd), `acl` and `turnero-central.conf` for
/etc/mosquitto/conf.d/. `turnero central add-site ID` adds a site and prints what goes to that site's hub.
"""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from appliance import contract
from appliance.contract import shipping
from appliance.core.durable import write_atomic
from appliance.ops import site_ca
from appliance.ops.broker_files import (ACL_NAME, CREDENTIALS_NAME, MONITOR, PASSWD_NAME, AUTOSAVE_S, Account,
                                        BrokerFilesError, acl_text, hash_passwords, read_password, security_lines,
                                        server_names, tls_current, tls_lines, tuning_lines,
                                        write_broker_readable, write_tls_files)
from appliance.site import CA_NAME, CENTRAL_CA, CENTRAL_PASSWORD
from central import mi_turno
from central.config import CentralConfig, load

CONF_NAME = "turnero-central.conf"
CENTRAL = "central"
CENTRAL_WEB = "central-web"
CENTRAL_PUBLIC = mi_turno.DEVICE
RESERVED = (CENTRAL, CENTRAL_WEB, CENTRAL_PUBLIC, MONITOR)


def accounts(sites: list[str]) -> tuple[Account, ...]:
    """The central process reads every site's records, statuses and bridge states and writes the
    acknowledgements; each site is one `pattern` block (acl_patterns); the "Mi turno" page reads the positions
    only; the monitor reads everything."""
    every = [shipping.central_topic("+", leaf) for leaf in (shipping.RECORDS, shipping.SITE, shipping.BRIDGE)]
    live = [shipping.central_topic("+", leaf) for leaf in (shipping.PICTURE, shipping.BRIDGE)]
    own = (contract.status_topic(CENTRAL), contract.heartbeat_topic(CENTRAL))
    return (Account(CENTRAL, "the central (turnero central)", read=tuple(every),
                    write=(shipping.central_topic("+", shipping.ACK), *own)),
            Account(CENTRAL_WEB, "the central's page: every site's live picture, its appointment orders",
                    read=tuple(live), write=(shipping.central_topic("+", shipping.ORDERS),
                                             contract.status_topic(CENTRAL_WEB), contract.heartbeat_topic(CENTRAL_WEB))),
            Account(CENTRAL_PUBLIC, "the sites' \"Mi turno\" page (turnero central mi-turno)",
                    read=(mi_turno.POSITIONS_ALL,),
                    write=(contract.status_topic(CENTRAL_PUBLIC), contract.heartbeat_topic(CENTRAL_PUBLIC))),
            Account(MONITOR, "a technician's read-only account", read=(f"{shipping.CENTRAL_ROOT}/#",), write=()),
            *(Account(site, f"site {site}'s bridge", read=(), write=()) for site in sites))


def acl_patterns() -> str:
    """What every site may do, by its user name: write under its own prefix (its positions too, when the central
    serves its "Mi turno" page), read its own acknowledgement and the central page's orders for it."""
    site = shipping.remote_prefix("%u")
    lines = [f"pattern write {site}{leaf}" for leaf in (shipping.RECORDS, shipping.SITE, shipping.BRIDGE,
                                                        shipping.PICTURE)]
    lines.append(f"pattern write {shipping.central_positions_topic('%u', '+')}")
    return "\n".join(["# Every site, by its user name (its id): its own prefix only.", *lines,
                      f"pattern read {site}{shipping.ACK}", f"pattern read {site}{shipping.ORDERS}"]) + "\n\n"


def sites(directory: Path) -> list[str]:
    credentials = Path(directory) / CREDENTIALS_NAME
    if not credentials.is_dir():
        return []
    return sorted(p.name for p in credentials.iterdir()
                  if p.is_file() and p.name not in (*RESERVED, CA_NAME) and not p.name.startswith("."))


def central_config(directory: Path, port: int) -> str:
    return "\n".join([
        "# Written by `turnero central broker-files`; rewritten at every run.",
        f"listener {port}",
        *tls_lines(directory),
        *security_lines(directory),
        "persistence true",
        f"autosave_interval {AUTOSAVE_S}",
        *tuning_lines(),
    ]) + "\n"


def write_central_files(directory: Path, names: list[str], port: int, add: str | None = None) -> list[str]:
    """Writes the central broker's files (adding site `add` if given); returns the sites."""
    directory = Path(directory).absolute()
    mosquitto_passwd = shutil.which("mosquitto_passwd")
    if mosquitto_passwd is None:
        raise BrokerFilesError("mosquitto_passwd is not installed: apt-get install mosquitto")
    if add is not None and (not contract.DEVICE.fullmatch(add) or add in RESERVED):
        raise BrokerFilesError(f"a site id is lower-case letters, digits and '-' (like \"cali\"), and not "
                               f"{' or '.join(RESERVED)}: {add!r}")
    credentials = directory / CREDENTIALS_NAME
    if not credentials.is_dir():
        credentials.mkdir(parents=True)
        credentials.chmod(0o700)    # kept as it is afterwards: install lets the central's user reach its own
    users = [*RESERVED, *sorted({*sites(directory), *([add] if add else [])})]
    passwords = {}
    for user in users:
        path = credentials / user
        password = read_password(path)
        if password is None:
            password = secrets.token_urlsafe(24)
            write_atomic(path, (password + "\n").encode(), mode=0o600)
        passwords[user] = password
    write_tls_files(directory, "turnero central", names)
    write_broker_readable(directory / PASSWD_NAME, hash_passwords(mosquitto_passwd, passwords, directory))
    found = users[len(RESERVED):]
    write_broker_readable(directory / ACL_NAME, (acl_patterns() + acl_text(accounts(found))).encode())
    write_atomic(directory / CONF_NAME, central_config(directory, port).encode())
    return found


def files_current(directory: Path, names: list[str], port: int) -> bool:
    """What write_central_files would write is there already, for the sites it has."""
    directory = Path(directory).absolute()
    found = sites(directory)
    try:
        return (all((directory / CREDENTIALS_NAME / user).is_file() for user in RESERVED)
                and (directory / PASSWD_NAME).is_file()
                and (directory / ACL_NAME).read_text() == acl_patterns() + acl_text(accounts(found))
                and (directory / CONF_NAME).read_text() == central_config(directory, port)
                and tls_current(directory, names))
    except OSError:
        return False


def broker_names(config: CentralConfig) -> list[str]:
    """What the sites' bridges dial to reach the central's broker ([broker] host), and loopback for the central."""
    return server_names(config.broker.host)


def handover(directory: Path, site: str, host: str, port: int) -> str:
    """What the technician takes to the site's hub."""
    directory = Path(directory).absolute()
    return "\n".join([
        f"Site {site!r} can now bridge to this central. On its hub:",
        f"  copy {directory / site_ca.CA_CERT}  to /etc/turnero/credentials/{CENTRAL_CA}",
        f"  copy {directory / CREDENTIALS_NAME / site}  to /etc/turnero/credentials/{CENTRAL_PASSWORD}  "
        "(0640 root:turnero)",
        "  add to its site file:",
        "    [central]",
        f"    site = \"{site}\"",
        f"    host = \"{host}\"",
        *([f"    port = {port}"] if port != 8883 else []),
        "  then: sudo turnero install --role hub --config /etc/turnero/site.toml",
        "  (a bridge is read only when Mosquitto starts: install restarts it)",
    ])


def main(args) -> int:
    """`turnero central broker-files` and `turnero central add-site ID`."""
    config = load(args.config)
    site = getattr(args, "site", None)
    found = write_central_files(config.files, broker_names(config), config.broker.port, add=site)
    if site:
        print(handover(config.files, site, config.broker.host, config.broker.port))
        # Mosquitto reads a new user on a reload (SIGHUP); install would find these files current and not reload it.
        print("On this central: sudo systemctl reload mosquitto  (it reads the new user; no bridge is dropped)")
    else:
        print(f"{config.files / CONF_NAME}: link it as /etc/mosquitto/conf.d/{CONF_NAME}, then restart mosquitto; "
              f"{len(found)} site(s): {', '.join(found) or 'none yet (turnero central add-site ID)'}")
    return 0
