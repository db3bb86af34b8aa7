"""`turnero install` and `turnero uninstall`: a Pi set up for its role from the site file, by a technician.

Every step is data: what it does (the plan and the log say it), whether it is already done, and how to do it.
So `--dry-run` prints the very steps a run would take, and a second run finds each of them done and changes
nothing. `--root DIR` writes every file under DIR and runs no command that changes the running system (useradd,
apt-get, systemctl start/restart): for the tests, or to prepare an image.

What install puts on the Pi (uninstall takes it away again; the state stays unless --purge):
  /etc/turnero/site.toml                      the site file (0640 root:turnero)
  /etc/turnero/credentials/<device>           this device's MQTT password (0640 root:turnero; the folder is
                                              [broker] credentials_dir)
  /etc/turnero/credentials/ca.crt             the site CA's certificate: the broker is trusted by it ([broker]
                                              ca_file)
  /usr/local/bin/turnero                      a link to the checkout's .venv/bin/turnero (the units run it)
  /etc/systemd/system/turnero-<role>...       the role's unit (the package's units/), enabled, started
  /etc/chrony/conf.d/turnero.conf             the hub serves the site's time; the devices follow the hub
  /etc/udev/rules.d/60-turnero-<kiosk>.rules  a kiosk's USB printer, for the group lp
  hub only: /etc/turnero/broker/ (passwd, acl, every device's credential, the site CA);
            /etc/mosquitto/conf.d/turnero.conf and the broker's open-file limit
            (/etc/systemd/system/mosquitto.service.d/turnero-limits.conf); /etc/turnero/credentials/web.crt and
            web.key, the page's certificate and key ([web] cert_file, key_file; the key 0640 root:turnero);
            nginx-light and /etc/nginx/conf.d/turnero.conf, the page's front (appliance/ops/front.py); with a
            [central], turnero-ship.service and its credential hub-ship

The central (`--role central --config central.toml`, on a Debian server) gets instead:
  /etc/turnero/central.toml                   its file (0640 root:turnero)
  PostgreSQL's role and database turnero      peer authentication on the local socket
  PostgreSQL's role turnero_lectura           read-only, for BI tools: the `bi` views (docs/central.md)
  /etc/turnero/central/broker/                the central broker's CA, users, ACL and every site's credential
                                              ([broker] files); credentials/central, central-web and
                                              central-public readable by the service; web.crt and web.key, the
                                              page's certificate
  /etc/mosquitto/conf.d/turnero-central.conf  its listener for the sites' bridges, and the broker's open-file limit
  /etc/nginx/conf.d/turnero-central.conf      nginx-light in front of the central's page (appliance/ops/front.py),
                                              and with [public] of the sites' "Mi turno" page
  /etc/systemd/system/turnero-central.service with its state (accounts, sessions) in /var/lib/turnero-central
  /etc/systemd/system/turnero-central-mi-turno.service   with [public]: the sites' "Mi turno" page
"""
from __future__ import annotations

import grp
import ipaddress
import os
import pwd
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from appliance import contract
from appliance import site as site_config
from appliance.core.durable import write_atomic
from appliance.ops import broker_files, central_broker, front, site_ca
from appliance.site import DEFAULT_CREDENTIALS_DIR
from appliance.site.model import PUBLIC_SECRET
from appliance.web.server import url_host
from central import config as central_config
from central import mi_turno as central_mi_turno
from central.config import READERS
from hub import mi_turno

# The systemd units ship inside this package (units/ is the repository's systemd/ folder, as package data).
UNITS = resources.files(__package__) / "units"
SOURCE = Path(__file__).resolve().parents[2]   # the folder holding the package: a checkout, or site-packages
ROLES = ("hub", "kiosk", "desk", "display", "central")
USER = "turnero"
ETC = "/etc/turnero"
SITE_FILE = f"{ETC}/site.toml"
CENTRAL_FILE = f"{ETC}/central.toml"
CENTRAL_BROKER_FILES = f"{ETC}/central/broker"   # central.toml's [broker] files when it says none
BROKER_FILES = f"{ETC}/broker"
MOSQUITTO_CONF = "/etc/mosquitto/conf.d/turnero.conf"
CENTRAL_MOSQUITTO_CONF = f"/etc/mosquitto/conf.d/{central_broker.CONF_NAME}"
MOSQUITTO_GROUP = broker_files.MOSQUITTO_USER
MOSQUITTO_DROP_IN = f"/etc/systemd/system/mosquitto.service.d/{broker_files.DROP_IN_NAME}"
NGINX_SITE = "/etc/nginx/conf.d/turnero.conf"      # Debian's nginx.conf includes conf.d/*.conf in its http {}
CENTRAL_NGINX_SITE = "/etc/nginx/conf.d/turnero-central.conf"
CHRONY_CONF = "/etc/chrony/conf.d/turnero.conf"
UNIT_DIR = "/etc/systemd/system"
PROGRAM = "/usr/local/bin/turnero"
INSTALLED_FROM = f"{ETC}/installed-from"   # the checkout and its commit: a `git pull` changes it, the units restart
STATE = "/var/lib/turnero"
CACHE = "/var/cache/turnero"
HUB_CREDENTIALS = ("hub", "hub-web")   # the hub process and its coordinators' page each log in to the broker
# The networks a site's devices live in: the hub's clock answers them, whatever addresses DHCP hands out today.
LOCAL_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")


class InstallError(RuntimeError):
    """Install or uninstall cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Step:
    text: str                        # what it does, in the plan and the log
    done: Callable[[], bool]         # already in place: nothing to do
    act: Callable[[], None]
    system: bool = False             # changes the running system (a command): not run under --root
    marks: str = ""                  # a change here makes what is named so stale ("unit", "service", "chrony"...)
    after: frozenset = frozenset()   # to do again when an earlier step marked one of these


@dataclass(frozen=True)
class Role:
    """One role on this Pi: its unit, the MQTT device name, and what the unit file asks for."""

    name: str
    device: str                      # hub, kiosco-1, escritorio-2, pantalla-1
    instance: str | None             # the unit's instance (kiosk id, desk number, display id)

    @property
    def template(self) -> str:
        return f"turnero-{self.name}.service" if self.instance is None else f"turnero-{self.name}@.service"

    @property
    def unit(self) -> str:
        return self.template if self.instance is None else f"turnero-{self.name}@{self.instance}.service"

    def unit_text(self) -> str:
        path = UNITS / self.template
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InstallError(f"the unit file {path} is missing ({exc}): the package is incomplete, install it "
                               "again") from None

    def directive(self, key: str) -> list[str]:
        """Every value of `key=` in the unit, with %i expanded (e.g. SupplementaryGroups, StateDirectory)."""
        values = []
        for line in self.unit_text().splitlines():
            if line.startswith(f"{key}="):
                values += line.split("=", 1)[1].replace("%i", self.instance or "").split()
        return values


# The hub's companion on a site with a [central]: installed, and removed, with the hub.
SHIP = Role("ship", broker_files.SHIPPER, None)
# The hub's companion on a site whose hub serves the "Mi turno" page on the guest Wi-Fi ([public] listen).
MI_TURNO = Role("mi-turno", mi_turno.DEVICE, None)
# The central's companion when central.toml has [public]: the sites' "Mi turno" page.
CENTRAL_MI_TURNO = Role("central-mi-turno", central_mi_turno.DEVICE, None)


def role_for(name: str, kiosk_or_display: str | None = None, desk: int | None = None) -> Role:
    if name not in ROLES:
        raise InstallError(f"--role must be one of {', '.join(ROLES)}, not {name!r}")
    if name == "hub":
        return Role("hub", "hub", None)
    if name == "central":
        if kiosk_or_display or desk is not None:
            raise InstallError("--role central takes no --id or --number: an organisation has one central")
        return Role("central", central_broker.CENTRAL, None)
    if name == "desk":
        if desk is None:
            raise InstallError("--role desk needs --number N (the desk number in the site file)")
        return Role("desk", contract.desk_device(desk), str(desk))
    if not kiosk_or_display:
        raise InstallError(f"--role {name} needs --id ID (the {name}'s id in the site file)")
    return Role(name, kiosk_or_display, kiosk_or_display)


class Target:
    """Where files go and whether commands run: this machine, or a directory standing for its root (--root)."""

    def __init__(self, root: Path | None):
        self.root = Path(root).absolute() if root else None
        self.live = root is None

    def path(self, absolute: str) -> Path:
        return Path(absolute) if self.root is None else self.root / absolute.lstrip("/")

    def systemctl(self, *args: str) -> list[str]:
        """systemctl for the unit files (enable, disable); with --root it edits the links under DIR."""
        return ["systemctl", *([] if self.root is None else [f"--root={self.root}"]), *args]


def _succeeds(command: list[str]) -> bool:
    try:
        return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def _run(command: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    except OSError as exc:
        raise InstallError(f"{' '.join(command)}: {exc}") from None
    if done.returncode != 0:
        raise InstallError(f"{' '.join(command)} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")


def command_step(text: str, command: list[str], done: Callable[[], bool], *, system: bool = True,
                 marks: str = "", after: frozenset = frozenset()) -> Step:
    return Step(f"{text} ({' '.join(command)})", done, lambda: _run(command), system=system, marks=marks,
                after=after)


# --- files ---------------------------------------------------------------------------------------------------

def _owner_is(path: Path, group: str | None) -> bool:
    info = path.lstat()
    try:
        gid = grp.getgrnam(group).gr_gid if group else 0
    except KeyError:
        return False
    return info.st_uid == 0 and info.st_gid == gid


@contextmanager
def _private():
    """Files made inside are readable by root only until they get their mode: a secret never shows for an instant."""
    mask = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(mask)


def _chown(target: Target, path: Path, group: str | None) -> None:
    if target.live:  # under --root the group may not exist on this machine: modes only
        os.chown(path, 0, grp.getgrnam(group).gr_gid if group else 0)


def _make_folder(path: Path) -> None:
    """`path` and the folders missing above it, those made 0755 whatever the umask: the services and Mosquitto
    pass through them (a sudo with umask 077 would otherwise lock them out of /etc/turnero/central/)."""
    for folder in reversed([folder for folder in (path, *path.parents) if not folder.exists()]):
        folder.mkdir()
        folder.chmod(0o755)


def file_step(target: Target, where: str, content: Callable[[], bytes], *, mode: int = 0o644,
              group: str | None = None, text: str, marks: str = "") -> Step:
    """`where` holds `content` with `mode`, owned by root (and `group`); a changed file is replaced atomically."""
    path = target.path(where)

    def done() -> bool:
        try:
            same = path.is_file() and not path.is_symlink() and path.read_bytes() == content()
        except OSError:
            return False
        return same and _has_mode(target, path, mode, group)

    def act() -> None:
        _make_folder(path.parent)
        with _private():
            write_atomic(path, content())
        _give_mode(target, path, mode, group)

    return Step(f"{text}: {where} ({mode:04o} root:{group or 'root'})", done, act, marks=marks)


def _has_mode(target: Target, path: Path, mode: int, group: str | None) -> bool:
    return path.stat().st_mode & 0o7777 == mode and (not target.live or _owner_is(path, group))


def _give_mode(target: Target, path: Path, mode: int, group: str | None) -> None:
    path.chmod(mode)
    _chown(target, path, group)


def directory_step(target: Target, where: str, *, mode: int, group: str | None = None, text: str) -> Step:
    path = target.path(where)

    def act() -> None:
        _make_folder(path)
        _give_mode(target, path, mode, group)

    return Step(f"{text}: {where}/ ({mode:04o} root:{group or 'root'})",
                lambda: path.is_dir() and _has_mode(target, path, mode, group), act)


def mode_step(target: Target, where: str, *, mode: int, group: str | None = None, text: str,
              marks: str = "") -> Step:
    """`where`, a file an earlier step made, gets `mode`, owned by root (and `group`)."""
    path = target.path(where)
    return Step(f"{text}: {where} ({mode:04o} root:{group or 'root'})",
                lambda: path.is_file() and _has_mode(target, path, mode, group),
                lambda: _give_mode(target, path, mode, group), marks=marks)


def link_step(target: Target, where: str, points_to: Path, *, text: str, marks: str = "") -> Step:
    path = target.path(where)

    def act() -> None:
        _make_folder(path.parent)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(points_to)
        os.replace(temporary, path)  # atomic: the units never find the program missing

    return Step(f"{text}: {where} -> {points_to}",
                lambda: path.is_symlink() and os.readlink(path) == str(points_to), act, marks=marks)


def removal_step(target: Target, where: str, *, text: str, marks: str = "") -> Step:
    path = target.path(where)

    def act() -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    return Step(f"remove {text}: {where}", lambda: not path.exists() and not path.is_symlink(), act, marks=marks)


def empty_directory_removal_step(target: Target, where: str) -> Step:
    path = target.path(where)
    return Step(f"remove the folder if empty: {where}/",
                lambda: not path.is_dir() or any(path.iterdir()), lambda: path.rmdir())


# --- what goes where ---------------------------------------------------------------------------------------

def venv_program() -> Path:
    """This checkout's console script; every directory up to it must let the user turnero through."""
    program = Path(sys.executable).parent / "turnero"
    if not os.access(program, os.X_OK):
        raise InstallError(f"{program} is missing: run ./run once from the checkout to make its .venv")
    for folder in [program, *program.parents]:
        if not folder.stat().st_mode & 0o001:
            raise InstallError(f"{folder} is closed to other users, so the user {USER} cannot run {program}: "
                               f"clone the checkout into /opt/turnero (or chmod o+x {folder})")
    return program


def installed_from(program: Path) -> bytes:
    """Which checkout and commit the units run, so that an upgrade (git pull, install again) restarts them."""
    # safe.directory: root reads a checkout that another user cloned
    commit = _output(["git", "-c", f"safe.directory={SOURCE}", "-C", str(SOURCE), "rev-parse", "HEAD"])
    commit = commit or "not a git checkout"
    return f"{SOURCE}\n{commit}\n{program}\n".encode()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def chrony_text(config: site_config.SiteConfig, *, hub_here: bool) -> str:
    """The hub is the site's clock, also without internet; every device follows the hub. A device on the hub's
    own Pi (`hub_here`, or a broker on loopback) keeps the hub's settings."""
    if hub_here or _is_loopback(config.broker.host):
        lines = ["# Written by `turnero install`: this hub is the site's clock. The devices follow it, and while",
                 "# the site has no internet it keeps serving its own clock (local stratum 10).",
                 *(f"allow {network}" for network in LOCAL_NETWORKS), "local stratum 10"]
    else:
        lines = ["# Written by `turnero install`: this device follows the hub's clock (the [broker] host of the",
                 "# site file), so tickets, calls and ratings carry the same time on every Pi of the site;",
                 "# `prefer`: chrony follows the hub rather than the pool of Debian's chrony.conf.",
                 f"server {config.broker.host} iburst prefer"]
    return "\n".join(lines) + "\n"


def udev_text(kiosk: site_config.Kiosk) -> str | None:
    """A USB ticket printer for the group lp (python-escpos talks to it through libusb), or None."""
    printer = kiosk.printer
    if printer.get("kind") != "usb" or "vendor_id" not in printer or "product_id" not in printer:
        return None
    return (f"# Written by `turnero install` for kiosk {kiosk.id}: its USB ticket printer, for the group lp.\n"
            f'SUBSYSTEM=="usb", ATTRS{{idVendor}}=="{printer["vendor_id"]:04x}", '
            f'ATTRS{{idProduct}}=="{printer["product_id"]:04x}", GROUP="lp", MODE="0660"\n')


def validate(role: Role, config_path: Path, credential: Path | None) -> site_config.SiteConfig:
    config = site_config.load(config_path)  # a ConfigError names every problem by its key
    known = {"hub": True, "kiosk": role.instance in config.kiosks,
             "desk": role.instance is not None and role.instance.isdigit() and int(role.instance) in config.desks,
             "display": role.instance in config.displays}[role.name]
    if not known:
        raise InstallError(f"{role.name} {role.instance} is not in {config_path}")
    if credential is not None:
        if role.name == "hub":
            raise InstallError("--credential is for a device: the hub makes every device's credential itself")
        if not credential.is_file():
            raise InstallError(f"--credential {credential}: no such file (copy it from the hub's "
                               f"{BROKER_FILES}/{broker_files.CREDENTIALS_NAME}/{role.device})")
        if config.broker.ca_file is not None and not credential.with_name(site_config.CA_NAME).is_file():
            raise InstallError(f"{credential.with_name(site_config.CA_NAME)}: the site CA's certificate must be "
                               f"beside the credential (copy it too, from the hub's "
                               f"{BROKER_FILES}/{broker_files.CREDENTIALS_NAME}/{site_config.CA_NAME})")
    if role.name == "kiosk" and credential is not None and config.public is not None \
            and not credential.with_name(PUBLIC_SECRET).is_file():
        raise InstallError(f"{credential.with_name(PUBLIC_SECRET)}: the site secret of the tickets' QR codes must be "
                           f"beside the credential (copy it too, from the hub's "
                           f"{BROKER_FILES}/{broker_files.CREDENTIALS_NAME}/{PUBLIC_SECRET})")
    if role.name == "hub" and config.central is not None:
        _check_central_link(config.central)
    if role.name == "hub" and _guest_page(config):
        for path in (config.public.cert_file, config.public.key_file):
            if not path.is_file():
                raise InstallError(f"{path}: no such file; the \"Mi turno\" page on the guest Wi-Fi needs a "
                                   f"certificate phones trust for {config.public.address} and its key ([public] "
                                   "cert_file, key_file; docs/mi-turno.md)")
    return config


def _check_central_link(central: site_config.CentralLink) -> None:
    """What the central handed over for this site is here: the bridge cannot be written without it."""
    for path, what in ((central.ca_file, "the central CA's certificate ([central] ca_file)"),
                       (central.password_file, "this site's password at the central ([central] password_file)")):
        if not path.is_file():
            raise InstallError(f"{path}: no such file; it is {what}. On the central, `turnero central add-site "
                               f"{central.site}` makes it and says where to copy it")


def _installed_units(target: Target, leaving: tuple[Role, ...] = ()) -> set[str]:
    """The turnero units enabled on this Pi (from their links in /etc/systemd/system/*.wants/), but `leaving`."""
    found = {link.name for link in target.path(UNIT_DIR).glob("*.wants/turnero-*.service")}
    return found - {role.unit for role in leaving}


def _user_exists() -> bool:
    try:
        pwd.getpwnam(USER)
        return True
    except KeyError:
        return False


def _group_exists(group: str) -> bool:
    try:
        grp.getgrnam(group)
        return True
    except KeyError:
        return False


def _in_groups(groups: list[str]) -> bool:
    return set(groups) <= set(_output(["id", "-nG", USER]).split())


def _package_installed(package: str) -> bool:
    return _output(["dpkg-query", "-W", "-f=${Status}", package]) == "install ok installed"


def _apt_step(package: str, why: str) -> Step:
    return command_step(f"install {package}, {why}", ["apt-get", "-q", "-y", "-o", "DPkg::Lock::Timeout=300",
                                                      "install", package],
                        lambda: _package_installed(package))


def _restart_step(unit: str, after: set[str]) -> Step:
    return command_step(f"start {unit}, or restart it when its files changed", ["systemctl", "restart", unit],
                        lambda: _succeeds(["systemctl", "is-active", "--quiet", unit]), after=frozenset(after))


def _reload_units_step(after: set[str]) -> Step:
    return command_step("reload systemd's units", ["systemctl", "daemon-reload"], lambda: True,
                        after=frozenset(after))


def _credentials(config: site_config.SiteConfig | None) -> str:
    return str(config.broker.credentials_dir if config else DEFAULT_CREDENTIALS_DIR)


def _user_steps(groups: list[str]) -> list[Step]:
    """The service user turnero, and the groups its unit asks for."""
    steps = [command_step(f"create the group {group}", ["groupadd", "--system", group],
                          lambda group=group: _group_exists(group)) for group in [USER, *groups]]
    steps.append(command_step(
        f"create the system user {USER} (no home, no login)",
        ["useradd", "--system", "--gid", USER, "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", USER], _user_exists))
    if groups:
        steps.append(command_step(f"put {USER} in the groups its unit asks for",
                                  ["usermod", "--append", "--groups", ",".join(groups), USER],
                                  lambda: _in_groups(groups)))
    return steps


def _settings_steps(target: Target, where: str, config_path: Path, text: str) -> list[Step]:
    settings = config_path.read_bytes()
    return [directory_step(target, ETC, mode=0o755, text="the folder for turnero's settings"),
            file_step(target, where, lambda: settings, mode=0o640, group=USER, text=text, marks="service")]


def _program_steps(target: Target, program: Path) -> list[Step]:
    return [link_step(target, PROGRAM, program, text="the program the units run", marks="service"),
            file_step(target, INSTALLED_FROM, lambda: installed_from(program), text="the version installed",
                      marks="service")]


def _unit_steps(target: Target, roles: list[Role]) -> list[Step]:
    """The roles' units in place, enabled, and running; each restarted when its unit or a file it reads changed."""
    def mark(role: Role) -> str:
        return f"unit {role.unit}"

    steps = [file_step(target, f"{UNIT_DIR}/{role.template}", lambda role=role: role.unit_text().encode(),
                       text="the systemd unit", marks=mark(role)) for role in roles]
    steps.append(command_step(
        "reload systemd's units", ["systemctl", "daemon-reload"],
        lambda: all(_output(["systemctl", "show", "-p", "NeedDaemonReload", "--value", role.unit]) == "no"
                    for role in roles),
        after=frozenset(map(mark, roles))))
    for role in roles:
        steps += [command_step(f"start {role.unit} at boot", target.systemctl("enable", role.unit),
                               lambda role=role: _succeeds(target.systemctl("is-enabled", "--quiet", role.unit)),
                               system=False),
                  _restart_step(role.unit, {mark(role), "service"})]
    return steps


def _broker_restart_steps(target: Target) -> list[Step]:
    return [
        file_step(target, MOSQUITTO_DROP_IN, lambda: broker_files.systemd_drop_in().encode(),
                  text="the broker's open-file limit", marks="mosquitto unit"),
        _reload_units_step({"mosquitto unit"}),
        # Listeners and bridges are read only when Mosquitto starts.
        _restart_step("mosquitto.service", {"mosquitto", "mosquitto unit"}),
        # New users and ACL need no restart: on SIGHUP Mosquitto rereads them without dropping a connection.
        command_step("make Mosquitto read its users and ACL again", ["systemctl", "reload", "mosquitto.service"],
                     lambda: True, after=frozenset({"mosquitto users"})),
    ]


def install_steps(target: Target, role: Role, config_path: Path, credential: Path | None) -> list[Step]:
    if role.name == "central":
        return _central_steps(target, role, config_path, credential)
    config = validate(role, config_path, credential)
    credentials = _credentials(config)
    program = venv_program()
    steps = [*_user_steps(role.directive("SupplementaryGroups")),
             *_settings_steps(target, SITE_FILE, config_path, "the site file"),
             directory_step(target, credentials, mode=0o750, group=USER, text="the folder for MQTT credentials"),
             *_program_steps(target, program)]
    if role.name == "hub":
        steps += _hub_steps(target, config, credentials)
    elif credential is not None:
        secret, ca = credential.read_bytes(), credential.with_name(site_config.CA_NAME)
        steps.append(file_step(target, f"{credentials}/{role.device}", lambda: secret, mode=0o640, group=USER,
                               text=f"{role.device}'s MQTT password", marks="service"))
        steps += _ca_steps(target, config, ca.read_bytes)
        if role.name == "kiosk":
            steps += _secret_steps(target, config, credential.with_name(PUBLIC_SECRET).read_bytes)
    if role.name == "kiosk" and (rule := udev_text(config.kiosks[role.instance])):
        steps += [file_step(target, f"/etc/udev/rules.d/60-turnero-{role.instance}.rules", lambda: rule.encode(),
                            text="the printer's udev rule", marks="udev"),
                  command_step("apply the udev rules to the printer plugged in now",
                               ["udevadm", "trigger", "--subsystem-match=usb", "--action=change"],
                               lambda: True, after=frozenset({"udev"}))]
    hub_here = role.name == "hub" or target.path(f"{UNIT_DIR}/{role_for('hub').template}").is_file()
    chrony = chrony_text(config, hub_here=hub_here).encode()
    steps += [
        _apt_step("chrony", "the site's time service (it replaces systemd-timesyncd)"),
        file_step(target, CHRONY_CONF, lambda: chrony, text="the time settings", marks="chrony"),
        _restart_step("chrony.service", {"chrony"}),
    ]
    wanted = _companions(config) if role.name == "hub" else {}
    steps += _unit_steps(target, [role, *(companion for companion, want in wanted.items() if want)])
    for companion, want in wanted.items():
        if not want and target.path(f"{UNIT_DIR}/{companion.template}").exists():
            steps += _companion_removal_steps(target, companion, credentials)   # the site file dropped it
    return steps


def _companions(config: site_config.SiteConfig) -> dict[Role, bool]:
    """The hub's companions, each with whether the site file wants it: the shipper with a [central], the guest
    page with [public] listen."""
    return {SHIP: config.central is not None, MI_TURNO: _guest_page(config)}


def _ca_steps(target: Target, config: site_config.SiteConfig, content: Callable[[], bytes]) -> list[Step]:
    """The site CA's certificate where the roles look for it ([broker] ca_file): they trust the broker by it."""
    if config.broker.ca_file is None:
        return []
    return [file_step(target, str(config.broker.ca_file), content, mode=0o644,
                      text="the site CA's certificate, to trust the broker by", marks="service")]


def _hub_credentials(config: site_config.SiteConfig) -> tuple[str, ...]:
    return (*HUB_CREDENTIALS, *([broker_files.SHIPPER] if config.central is not None else []),
            *([MI_TURNO.device] if _guest_page(config) else []))


def _guest_page(config: site_config.SiteConfig) -> bool:
    """The hub serves the "Mi turno" page on the guest Wi-Fi itself ([public] listen)."""
    return config.public is not None and config.public.listen


def _secret_steps(target: Target, config: site_config.SiteConfig, content: Callable[[], bytes]) -> list[Step]:
    """The site secret of the tickets' codes, where the hub and the kiosks read it ([public] secret_file)."""
    if config.public is None:
        return []
    return [file_step(target, str(config.public.secret_file), content, mode=0o640, group=USER,
                      text="the site secret of the tickets' QR codes", marks="service")]


def _hub_steps(target: Target, config: site_config.SiteConfig, credentials: str) -> list[Step]:
    directory = target.path(BROKER_FILES)
    central = config.central

    def broker_files_current() -> bool:
        credentials = directory / broker_files.CREDENTIALS_NAME
        try:
            have = {p.name for p in credentials.iterdir() if p.is_file() and not p.name.startswith(".")
                    and p.name not in (site_config.CA_NAME, PUBLIC_SECRET)}
            found = broker_files.accounts(config)
            return (have == {a.device for a in found} and (directory / broker_files.PASSWD_NAME).is_file()
                    and (config.public is None or (credentials / PUBLIC_SECRET).is_file())
                    and (directory / broker_files.ACL_NAME).read_text() == broker_files.acl_text(found)
                    and (directory / broker_files.CONF_NAME).read_text()
                    == broker_files.hub_config(directory, config.broker.port, central)
                    and (central is None or (directory / site_config.CENTRAL_CA).read_bytes()
                         == central.ca_file.read_bytes())
                    and broker_files.tls_current(directory, broker_files.hub_names(config)))
        except OSError:
            return False

    def write_broker_files() -> None:
        with _private():
            broker_files.write_broker_files(config, directory)

    def copy_of(name: str) -> Callable[[], bytes]:
        return lambda: (directory / name).read_bytes()

    # With a [central], the settings hold the site's password there: for Mosquitto's eyes only.
    settings_mode, settings_group = (0o644, None) if central is None else (0o640, MOSQUITTO_GROUP)
    nginx_site = front.site_text(config).encode()     # a FrontError here stops the plan before any step

    return [
        _apt_step("mosquitto", "the site's MQTT broker"),
        # Mosquitto reads passwd and acl as the user mosquitto: the folder must let it through.
        directory_step(target, BROKER_FILES, mode=0o755, text="the folder for the broker's security files"),
        Step(f"the broker's users, passwords, ACL and every device's credential: {BROKER_FILES}/",
             broker_files_current, write_broker_files, marks="mosquitto users"),
        file_step(target, MOSQUITTO_CONF, copy_of(broker_files.CONF_NAME), mode=settings_mode, group=settings_group,
                  text="the broker's settings", marks="mosquitto"),
        *_broker_restart_steps(target),
        *(file_step(target, f"{credentials}/{device}", copy_of(f"{broker_files.CREDENTIALS_NAME}/{device}"),
                    mode=0o640, group=USER, text=f"the {device} MQTT password", marks="service")
          for device in _hub_credentials(config)),
        *_ca_steps(target, config, copy_of(f"{broker_files.CREDENTIALS_NAME}/{site_config.CA_NAME}")),
        *_secret_steps(target, config, copy_of(f"{broker_files.CREDENTIALS_NAME}/{PUBLIC_SECRET}")),
        # The page's certificate and key, from the site CA ([web] cert_file, key_file), read by nginx (as root),
        # which serves the page in front of the hub's loopback.
        _apt_step("nginx-light", "the front of the coordinators' page"),
        file_step(target, str(config.web.cert_file), site_ca.cert_file(directory, site_ca.WEB).read_bytes,
                  text="the coordinators' page's certificate", marks="nginx"),
        file_step(target, str(config.web.key_file), site_ca.key_file(directory, site_ca.WEB).read_bytes,
                  mode=0o640, group=USER, text="the coordinators' page's key", marks="nginx"),
        file_step(target, NGINX_SITE, lambda: nginx_site,
                  text="the page's front: TLS, timeouts, limits, the redirect", marks="nginx"),
        _restart_step("nginx.service", {"nginx"}),
    ]


# --- the central ---------------------------------------------------------------------------------------------

def _database_name(dsn: str) -> str:
    """The database that central.toml's [database] dsn names, on this server's PostgreSQL."""
    try:  # here, not at the top: psycopg is the central's own dependency, which a site's Pi does not have
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise InstallError("psycopg is missing from the checkout's .venv, and the central needs it: run ./run once "
                           "on this server (a 64-bit Debian 12)") from None
    try:
        name = conninfo_to_dict(dsn).get("dbname") or USER
    except ProgrammingError as exc:
        raise InstallError(f"[database] dsn {dsn!r} is not a libpq connection string: {exc}") from None
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):   # it goes into the commands and queries as it is
        raise InstallError(f"[database] dsn: install makes a database named in lower-case letters, digits and '_', "
                           f"not {name!r}")
    return name


def _postgres_has(query: str) -> bool:
    return _output(["runuser", "-u", "postgres", "--", "psql", "-XtAc", query]) == "1"


def _database_role_exists() -> bool:
    return _postgres_has(f"SELECT 1 FROM pg_roles WHERE rolname = '{USER}'")


def _database_exists(name: str) -> bool:
    return _postgres_has(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")


def _postgres_step(text: str, command: list[str], done: Callable[[], bool]) -> Step:
    """A command of PostgreSQL's, run as its superuser postgres (peer authentication on the local socket)."""
    return command_step(text, ["runuser", "-u", "postgres", "--", *command], done)


def _database_steps(database: str) -> list[Step]:
    return [
        _apt_step("postgresql", "the central's database (PostgreSQL 15 on Debian 12)"),
        # The service's user logs in as the role of its own name: no password anywhere.
        _postgres_step(f"create the database role {USER}", ["createuser", USER], _database_role_exists),
        _postgres_step(f"create the database {database}, owned by {USER}", ["createdb", "--owner", USER, database],
                       lambda: _database_exists(database)),
        # BI tools log in as roles of their own in this one (docs/central.md); the central grants it the `bi`
        # views at every start (central/database.py).
        _postgres_step(f"create the read-only role {READERS} for BI tools", ["createuser", "--no-login", READERS],
                       lambda: _postgres_has(f"SELECT 1 FROM pg_roles WHERE rolname = '{READERS}'")),
    ]


def _central_steps(target: Target, role: Role, config_path: Path, credential: Path | None) -> list[Step]:
    if credential is not None:
        raise InstallError("--credential is for a device: the central makes its own credentials")
    config = central_config.load(config_path)  # a ConfigError names every problem by its key
    program = venv_program()
    files = str(config.files)
    directory = target.path(files)
    names = central_broker.broker_names(config)
    credentials = f"{files}/{broker_files.CREDENTIALS_NAME}"

    def write_central_files() -> None:
        with _private():
            central_broker.write_central_files(directory, names, config.broker.port)

    nginx_site = _central_front(config, names).encode()    # a FrontError stops the plan here
    page = [CENTRAL_MI_TURNO] if config.public is not None else []
    dropped = config.public is None and target.path(f"{UNIT_DIR}/{CENTRAL_MI_TURNO.template}").exists()

    return [
        *_user_steps([]),
        *_settings_steps(target, CENTRAL_FILE, config_path, "the central's file"),
        *_program_steps(target, program),
        *_database_steps(_database_name(config.dsn)),
        _apt_step("mosquitto", "the central's MQTT broker, where the sites' bridges arrive"),
        # Mosquitto reads its files as the user mosquitto: the folder must let it through.
        directory_step(target, files, mode=0o755, text="the folder for the central broker's files"),
        Step(f"the central broker's CA, users, passwords and ACL: {files}/",
             lambda: central_broker.files_current(directory, names, config.broker.port), write_central_files,
             marks="mosquitto users"),
        # The central process logs in with credentials/central; every site's password stays root's.
        directory_step(target, credentials, mode=0o750, group=USER, text="the folder of the central's credentials"),
        *(mode_step(target, f"{credentials}/{user}", mode=0o640, group=USER, text=f"the {user} MQTT password",
                    marks="service") for user in (central_broker.CENTRAL, central_broker.CENTRAL_WEB,
                                                  central_broker.CENTRAL_PUBLIC)),
        # A copy, not a link: a changed listener is seen, and restarts Mosquitto.
        file_step(target, CENTRAL_MOSQUITTO_CONF, lambda: (directory / central_broker.CONF_NAME).read_bytes(),
                  text="the central broker's settings", marks="mosquitto"),
        *_broker_restart_steps(target),
        # The page behind nginx, with the certificate broker-files issued from the central's CA.
        _apt_step("nginx-light", "the front of the central's page"),
        file_step(target, CENTRAL_NGINX_SITE, lambda: nginx_site,
                  text="the central pages' front: TLS, timeouts, limits, the redirect", marks="nginx"),
        _restart_step("nginx.service", {"nginx"}),
        *_unit_steps(target, [role, *page]),
        *(_unit_removal_steps(target, CENTRAL_MI_TURNO, set()) if dropped else []),   # central.toml dropped it
    ]


def _central_front(config: central_config.CentralConfig, names: list[str]) -> str:
    """nginx in front of the coordinators' page and, with [public], of the sites' "Mi turno" page, whose
    certificate (one phones trust) the technician brings."""
    for key in ("cert_file", "key_file") if config.public is not None else ():
        if not getattr(config.public, key).is_file():
            raise InstallError(f"{getattr(config.public, key)}: no such file; [public] {key} is the certificate "
                               f"phones trust for {config.public.address}, or its key (docs/mi-turno.md)")
    return front.central_text(config.web, url_host(names[0]), config.public)


# --- uninstall -----------------------------------------------------------------------------------------------

def _unit_removal_steps(target: Target, role: Role, others: set[str]) -> list[Step]:
    """The role's unit stopped, disabled, and its file removed unless another instance of it still runs."""
    steps = [
        command_step(f"stop {role.unit}", ["systemctl", "stop", role.unit],
                     lambda: not _succeeds(["systemctl", "is-active", "--quiet", role.unit])),
        command_step(f"do not start {role.unit} at boot", target.systemctl("disable", role.unit),
                     lambda: not _succeeds(target.systemctl("is-enabled", "--quiet", role.unit)), system=False),
    ]
    if not any(unit.startswith(role.template.replace(".service", "")) for unit in others):
        steps.append(removal_step(target, f"{UNIT_DIR}/{role.template}", text="the systemd unit", marks="unit"))
        steps.append(_reload_units_step({"unit"}))
    return steps


def _broker_removal_steps(target: Target) -> list[Step]:
    """Mosquitto without turnero's settings and open-file limit, restarted."""
    return [removal_step(target, MOSQUITTO_DROP_IN, text="the broker's open-file limit", marks="mosquitto unit"),
            empty_directory_removal_step(target, str(Path(MOSQUITTO_DROP_IN).parent)),
            _reload_units_step({"mosquitto unit"}),
            _restart_step("mosquitto.service", {"mosquitto", "mosquitto unit"})]


def _companion_removal_steps(target: Target, companion: Role, credentials: str) -> list[Step]:
    return [*_unit_removal_steps(target, companion, set()),
            removal_step(target, f"{credentials}/{companion.device}", text=f"the {companion.device} MQTT password")]


def _shared_removal_steps(target: Target, files: list[tuple[str, str]], credentials: str | None) -> list[Step]:
    """What the roles of this machine shared, when the last of them goes: the program, the settings' folder."""
    return [removal_step(target, PROGRAM, text="the program the units ran"),
            removal_step(target, INSTALLED_FROM, text="the version installed"),
            *(removal_step(target, where, text=text) for where, text in files),
            *([empty_directory_removal_step(target, credentials)] if credentials else []),
            empty_directory_removal_step(target, ETC)]


def _purge_steps(target: Target, roles: list[Role], last: bool) -> list[Step]:
    steps = [removal_step(target, f"/var/lib/{name}", text="the role's state (records, counters, outbox)")
             for role in roles for name in role.directive("StateDirectory")]
    if last:
        steps += [empty_directory_removal_step(target, STATE), removal_step(target, CACHE, text="the cache")]
    return steps


def uninstall_steps(target: Target, role: Role, purge: bool) -> list[Step]:
    if role.name == "central":
        return _central_removal_steps(target, role, purge)
    site = target.path(SITE_FILE)
    config = site_config.load(site) if site.is_file() else None
    credentials = _credentials(config)
    ca_file = config.broker.ca_file if config else None
    # The hub takes its companions along, whatever the site file says now.
    leaving = [role, *(companion for companion in (SHIP, MI_TURNO) if role.name == "hub"
                       and target.path(f"{UNIT_DIR}/{companion.template}").exists())]
    others = _installed_units(target, leaving=tuple(leaving))
    steps = _unit_removal_steps(target, role, others)
    if config is not None and config.public is not None and role.name in ("hub", "kiosk"):
        steps.append(removal_step(target, str(config.public.secret_file),
                                  text="the site secret of the tickets' QR codes"))
    if role.name == "hub":
        steps += [*(step for companion in leaving[1:] for step in _companion_removal_steps(target, companion,
                                                                                           credentials)),
                  removal_step(target, MOSQUITTO_CONF, text="the broker's settings", marks="mosquitto"),
                  *_broker_removal_steps(target),
                  removal_step(target, BROKER_FILES, text="the broker's security files"),
                  *(removal_step(target, f"{credentials}/{device}", text=f"the {device} MQTT password")
                    for device in HUB_CREDENTIALS),
                  removal_step(target, NGINX_SITE, text="the page's front", marks="nginx"),
                  _restart_step("nginx.service", {"nginx"}),
                  *([removal_step(target, str(config.web.cert_file), text="the page's certificate"),
                     removal_step(target, str(config.web.key_file), text="the page's key")] if config else [])]
    else:
        steps.append(removal_step(target, f"{credentials}/{role.device}", text=f"{role.device}'s MQTT password"))
    if role.name == "kiosk":
        steps.append(removal_step(target, f"/etc/udev/rules.d/60-turnero-{role.instance}.rules",
                                  text="the printer's udev rule"))
    if not others:  # the last turnero role on this Pi: what they shared goes too
        steps += [removal_step(target, CHRONY_CONF, text="the time settings", marks="chrony"),
                  _restart_step("chrony.service", {"chrony"}),
                  *_shared_removal_steps(target, [(SITE_FILE, "the site file"),
                                                  *([(str(ca_file), "the site CA's certificate")] if ca_file else [])],
                                         credentials)]
    if purge:  # the shipper's state too, whether or not its unit is still there
        steps += _purge_steps(target, [role, SHIP, MI_TURNO] if role.name == "hub" else [role], last=not others)
    return steps


def _central_removal_steps(target: Target, role: Role, purge: bool) -> list[Step]:
    """The central's service and settings go; its broker's files (the CA every site trusts, every site's
    password) and its database stay unless --purge."""
    installed = target.path(CENTRAL_FILE)
    config = central_config.load(installed) if installed.is_file() else None
    others = _installed_units(target, leaving=(role, CENTRAL_MI_TURNO))
    steps = [*_unit_removal_steps(target, role, others),
             *(_unit_removal_steps(target, CENTRAL_MI_TURNO, others)
               if target.path(f"{UNIT_DIR}/{CENTRAL_MI_TURNO.template}").exists() else []),
             removal_step(target, CENTRAL_MOSQUITTO_CONF, text="the central broker's settings", marks="mosquitto"),
             *_broker_removal_steps(target),
             removal_step(target, CENTRAL_NGINX_SITE, text="the central pages' front", marks="nginx"),
             _restart_step("nginx.service", {"nginx"})]
    if purge:
        files = Path(config.files if config else CENTRAL_BROKER_FILES)
        database = _database_name(config.dsn) if config else USER
        steps += [
            removal_step(target, str(files), text="the central broker's CA and every site's credential"),
            empty_directory_removal_step(target, str(files.parent)),
            _postgres_step(f"delete the database {database} (every site's record)",
                           ["dropdb", "--if-exists", database], lambda: not _database_exists(database)),
            _postgres_step(f"delete the read-only role {READERS}", ["dropuser", "--if-exists", READERS],
                           lambda: not _postgres_has(f"SELECT 1 FROM pg_roles WHERE rolname = '{READERS}'")),
            _postgres_step(f"delete the database role {USER}", ["dropuser", "--if-exists", USER],
                           lambda: not _database_role_exists()),
        ]
    if not others:
        steps += _shared_removal_steps(target, [(CENTRAL_FILE, "the central's file")], None)
    return steps


# --- running the steps ------------------------------------------------------------------------------------------

def run_steps(steps: list[Step], target: Target, *, dry_run: bool, out=None) -> int:
    """Takes (or with dry_run, only shows) each step that is not done yet; returns how many it took."""
    out = out or sys.stdout
    changed: set[str] = set()
    taken = 0
    for step in steps:
        if step.system and not target.live:
            status = "not run (--root)"
        elif step.done() and not (step.after & changed):
            status = "already done"
        else:
            if not dry_run:
                step.act()
            changed.add(step.marks)
            taken += 1
            status = "would do" if dry_run else "done"
        print(f"{status:<17} {step.text}", file=out, flush=True)
    return taken


def main(args) -> int:
    """`turnero install` / `turnero uninstall` from the command line's arguments."""
    target = Target(args.root)
    try:
        if target.live and not args.dry_run and os.geteuid() != 0:
            raise InstallError("run it as root: sudo ./run " + " ".join(sys.argv[1:]))
        role = role_for(args.role, args.id, args.number)
        if args.command == "install":
            steps = install_steps(target, role, args.config, args.credential)
        else:
            steps = uninstall_steps(target, role, args.purge)
        taken = run_steps(steps, target, dry_run=args.dry_run)
    except (InstallError, broker_files.BrokerFilesError, front.FrontError) as exc:
        print(f"turnero {args.command}: {exc}", file=sys.stderr)
        return 2
    verb = "would change" if args.dry_run else "changed"
    print(f"turnero {args.command} {role.unit}: {verb} {taken} of {len(steps)} step(s)")
    return 0
