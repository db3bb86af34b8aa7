"""`turnero install` / `turnero uninstall` into a temporary root (--root): the files a Pi gets, with their content
and modes; a second run that changes nothing; a dry run that writes nothing and shows every step, commands too.

The checkout's venv that install links to is one each test makes in a folder open to other users, as /opt/turnero
is on a Pi: install refuses a venv that the user turnero could not reach (a clone in a 0700 home folder), and the
tests pass wherever this checkout was cloned."""
import io
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from appliance import cli
from appliance import site as site_config
from appliance.ops import broker_files, central_broker, front, install
from appliance.ops import install as installer   # `install` is this file's helper below
from appliance.ops.install import Step, Target, run_steps

UNITS = install.UNITS   # as the installer finds them: through the package (its units/ is systemd/)
HUB_ADDRESS = "192.168.1.10"
ROLES = {  # role: (arguments, device, unit)
    "hub": (["--role", "hub"], "hub", "turnero-hub.service"),
    "kiosk": (["--role", "kiosk", "--id", "kiosco-1"], "kiosco-1", "turnero-kiosk@kiosco-1.service"),
    "desk": (["--role", "desk", "--number", "2"], "escritorio-2", "turnero-desk@2.service"),
    "display": (["--role", "display", "--id", "pantalla-1"], "pantalla-1", "turnero-display@pantalla-1.service"),
}
GROUPS = {"hub": [], "kiosk": ["gpio", "lp", "dialout"], "desk": ["gpio", "dialout"],
          "display": ["video", "render", "input", "audio"]}
CENTRAL_BROKER = "etc/turnero/central/broker"   # central.toml's [broker] files, under the root


def checkout_venv(folder: Path, monkeypatch) -> Path:
    """A venv's python and turnero in folder/.venv/bin, as install finds them: through sys.executable."""
    program = folder / ".venv/bin/turnero"
    program.parent.mkdir(parents=True)
    for made in (folder / ".venv", program.parent):
        made.chmod(0o755)   # whatever the umask
    for script in (program, program.with_name("python")):
        script.write_text("#!/bin/sh\n")
        script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(program.with_name("python")))
    return program


@pytest.fixture(autouse=True)
def venv_program(monkeypatch) -> Path:
    """This test's checkout venv, outside pytest's temporary folders (they are closed to other users)."""
    folder = Path(tempfile.mkdtemp(prefix="turnero-checkout-"))
    folder.chmod(0o755)
    try:
        yield checkout_venv(folder, monkeypatch)
    finally:
        shutil.rmtree(folder)


@pytest.fixture
def site(tmp_path) -> Path:
    """The example site, its hub on the LAN."""
    path = tmp_path / "site.toml"
    path.write_text(site_config.EXAMPLE.read_text(encoding="utf-8")
                    .replace('host = "127.0.0.1"', f'host = "{HUB_ADDRESS}"'), encoding="utf-8")
    return path


@pytest.fixture
def central_file(tmp_path) -> Path:
    """The central's file, its broker's files where install puts them by default."""
    path = tmp_path / "central.toml"
    path.write_text('[central]\nname = "Comfenalco Valle"\n[broker]\nhost = "central.example.org"\n',
                    encoding="utf-8")
    return path


@pytest.fixture
def shipping_site(tmp_path, site) -> Path:
    """The example site with a [central], and what the central's `add-site cali` handed over for it."""
    handed = tmp_path / "from-the-central"
    central_broker.write_central_files(handed, ["central.example.org"], 8883, add="cali")
    path = tmp_path / "shipping-site.toml"
    path.write_text(site.read_text(encoding="utf-8") + '\n[central]\nsite = "cali"\nhost = "central.example.org"\n'
                    f'ca_file = "{handed / "ca.crt"}"\npassword_file = "{handed / "credentials/cali"}"\n',
                    encoding="utf-8")
    return path


def turnero(capsys, *arguments) -> list[str]:
    """`turnero ARGUMENTS`, which must succeed; the lines it printed."""
    code = cli.main([str(a) for a in arguments])
    out, err = capsys.readouterr()
    assert code == 0, f"turnero {' '.join(map(str, arguments))} exited {code}: {err}"
    return out.splitlines()


def refused(capsys, *arguments) -> str:
    """`turnero ARGUMENTS`, which must be refused; the reason it gave."""
    code = cli.main([str(a) for a in arguments])
    out, err = capsys.readouterr()
    assert code == 2, f"turnero {' '.join(map(str, arguments))} exited {code}, not 2: {err or out}"
    return err


def install(capsys, root: Path, site: Path, role: str, *extra) -> list[str]:
    return turnero(capsys, "install", *ROLES[role][0], "--config", site, "--root", root, *extra)


def install_central(capsys, root: Path, central_file: Path, *extra) -> list[str]:
    return turnero(capsys, "install", "--role", "central", "--config", central_file, "--root", root, *extra)


# What a test installs: the role, and the fixture of its file.
INSTALLS = {**{role: (role, "site") for role in ROLES}, "hub with [central]": ("hub", "shipping_site"),
            "central": ("central", "central_file")}


def install_any(capsys, request, root: Path, name: str) -> list[str]:
    role, config = INSTALLS[name]
    if role == "central":
        return install_central(capsys, root, request.getfixturevalue(config))
    return install(capsys, root, request.getfixturevalue(config), role)


def files_under(root: Path) -> dict[str, int]:
    """Every file and link under root, with its mode."""
    return {"/" + str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode)
            for p in root.rglob("*") if not p.is_dir() or p.is_symlink()}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def device_credential(capsys, tmp_path, site, device: str) -> Path:
    """The device's credential as the hub's install made it."""
    hub_root = tmp_path / "hub-pi"
    install(capsys, hub_root, site, "hub")
    return hub_root / "etc/turnero/broker/credentials" / device


@pytest.mark.parametrize("role", ["kiosk", "desk", "display"])
def test_a_device_gets_the_site_file_its_password_its_unit_and_the_hubs_clock(capsys, tmp_path, site, role,
                                                                              venv_program):
    arguments, device, unit = ROLES[role]
    credential = device_credential(capsys, tmp_path, site, device)
    root = tmp_path / "pi"
    install(capsys, root, site, role, "--credential", credential)
    assert (root / "etc/turnero/site.toml").read_bytes() == site.read_bytes()
    assert mode(root / "etc/turnero/site.toml") == 0o640
    assert (root / "etc/turnero/credentials" / device).read_bytes() == credential.read_bytes()
    assert (root / "etc/turnero/credentials/ca.crt").read_bytes() == credential.with_name("ca.crt").read_bytes()
    assert mode(root / "etc/turnero/credentials" / device) == 0o640
    assert mode(root / "etc/turnero/credentials") == 0o750
    template = unit.split("@")[0] + "@.service"
    assert (root / "etc/systemd/system" / template).read_bytes() == (UNITS / template).read_bytes()
    assert os.readlink(root / "usr/local/bin/turnero") == str(venv_program)
    assert (root / "etc/systemd/system/multi-user.target.wants" / unit).is_symlink()   # enabled
    assert f"server {HUB_ADDRESS} iburst prefer" in (root / "etc/chrony/conf.d/turnero.conf").read_text().splitlines()
    assert not (root / "etc/mosquitto").exists() and not (root / "etc/turnero/broker").exists()


def test_the_hub_gets_the_brokers_security_every_password_and_serves_the_time(capsys, tmp_path, site):
    root = tmp_path / "pi"
    install(capsys, root, site, "hub")
    broker = root / "etc/turnero/broker"
    config = site_config.load(site)
    assert {p.name for p in (broker / "credentials").iterdir()} == {
        *(a.device for a in broker_files.accounts(config)), site_config.CA_NAME}     # and the site CA's certificate
    assert (root / "etc/turnero/credentials/ca.crt").read_bytes() == (broker / "ca.crt").read_bytes()
    assert (root / "etc/mosquitto/conf.d/turnero.conf").read_bytes() == (broker / "turnero.conf").read_bytes()
    assert mode(root / "etc/mosquitto/conf.d/turnero.conf") == 0o644
    # Room for the broker's connections: Debian's unit keeps systemd's default of 1,024 open files.
    drop_in = root / "etc/systemd/system/mosquitto.service.d/turnero-limits.conf"
    assert f"LimitNOFILE={broker_files.OPEN_FILES}" in drop_in.read_text().splitlines()
    assert broker_files.OPEN_FILES > broker_files.MAX_CONNECTIONS + 100
    # The page's front: the same server blocks the tests run in a real nginx (tests/hub/test_web_front.py).
    assert (root / "etc/nginx/conf.d/turnero.conf").read_text() == front.site_text(config)
    for device in ("hub", "hub-web"):
        copy = root / "etc/turnero/credentials" / device
        assert copy.read_bytes() == (broker / "credentials" / device).read_bytes() and mode(copy) == 0o640
    # The page's certificate and key, for the hub's user to read ([web] cert_file, key_file).
    for name, wanted in (("web.crt", 0o644), ("web.key", 0o640)):
        copy = root / "etc/turnero/credentials" / name
        assert copy.read_bytes() == (broker / name).read_bytes() and mode(copy) == wanted, name
    chrony = (root / "etc/chrony/conf.d/turnero.conf").read_text().splitlines()
    assert "local stratum 10" in chrony and "allow 192.168.0.0/16" in chrony
    assert not any(line.startswith("server") for line in chrony)
    assert (root / "etc/systemd/system/turnero-hub.service").read_bytes() == \
        (UNITS / "turnero-hub.service").read_bytes()


def test_a_kiosk_gets_a_udev_rule_for_its_usb_printer(capsys, tmp_path, site):
    root = tmp_path / "pi"
    install(capsys, root, site, "kiosk")
    rule = (root / "etc/udev/rules.d/60-turnero-kiosco-1.rules").read_text()
    assert 'ATTRS{idVendor}=="04b8", ATTRS{idProduct}=="0e15", GROUP="lp"' in rule  # the example's TM-T20II


@pytest.mark.parametrize("name", INSTALLS)
def test_installing_again_changes_nothing(capsys, request, tmp_path, name):
    root = tmp_path / "pi"
    install_any(capsys, request, root, name)
    before = {path: (root / path.lstrip("/")).read_bytes() if not (root / path.lstrip("/")).is_symlink() else b""
              for path in files_under(root)}
    lines = install_any(capsys, request, root, name)
    steps, summary = lines[:-1], lines[-1]
    assert all(line.startswith(("already done", "not run (--root)")) for line in steps), lines
    assert summary.endswith(f"changed 0 of {len(steps)} step(s)")
    assert {path: (root / path.lstrip("/")).read_bytes() if not (root / path.lstrip("/")).is_symlink() else b""
            for path in files_under(root)} == before


def test_a_changed_site_file_is_replaced_and_nothing_else(capsys, tmp_path, site):
    root = tmp_path / "pi"
    install(capsys, root, site, "desk")
    site.write_text(site.read_text(encoding="utf-8").replace("Ana María Peña", "Ana María Peña Ríos"),
                    encoding="utf-8")
    lines = install(capsys, root, site, "desk")
    assert [line for line in lines if line.startswith("done")] == \
        ["done              the site file: /etc/turnero/site.toml (0640 root:turnero)"]
    assert (root / "etc/turnero/site.toml").read_bytes() == site.read_bytes()


@pytest.mark.parametrize("role", ROLES)
def test_a_dry_run_writes_nothing_and_shows_every_step_with_its_commands(capsys, tmp_path, site, role):
    arguments, device, unit = ROLES[role]
    root = tmp_path / "pi"
    root.mkdir()
    lines = turnero(capsys, "install", *arguments, "--config", site, "--root", root, "--dry-run")
    assert list(root.iterdir()) == []
    plan = "\n".join(lines)
    for group in ["turnero", *GROUPS[role]]:
        assert f"(groupadd --system {group})" in plan
    assert "useradd --system --gid turnero --no-create-home" in plan
    assert "install chrony)" in plan and "systemctl daemon-reload" in plan
    assert f"enable {unit})" in plan and f"(systemctl restart {unit})" in plan
    assert ("install mosquitto)" in plan) == (role == "hub")
    assert ("systemctl restart mosquitto.service" in plan) == (role == "hub")
    assert "turnero-ship" not in plan and "postgres" not in plan
    assert ("install nginx-light" in plan and "systemctl restart nginx.service" in plan) == (role == "hub")
    assert_the_run_takes_the_plan(lines, install(capsys, root, site, role))


def assert_the_run_takes_the_plan(plan: list[str], run: list[str]) -> None:
    """Every step the dry run showed as "would do" is what the run does."""
    would = [line.split(None, 2)[2] for line in plan[:-1] if line.startswith("would do")]
    taken = [line.split(None, 1)[1] for line in run[:-1] if line.startswith("done")]
    assert [text.strip() for text in taken] == would


def test_a_dry_run_on_this_machine_changes_nothing_on_it(capsys, site):
    watched = [Path("/etc/turnero"), Path("/usr/local/bin/turnero"), Path("/etc/systemd/system/turnero-hub.service"),
               Path("/etc/chrony/conf.d/turnero.conf"), Path("/etc/mosquitto/conf.d/turnero.conf"),
               Path("/etc/nginx/conf.d/turnero.conf")]
    before = [(p.exists(), p.stat().st_mtime if p.exists() else None) for p in watched]
    lines = turnero(capsys, "install", "--role", "hub", "--config", site, "--dry-run")
    assert all(line.startswith(("would do", "already done")) for line in lines[:-1]), lines
    assert [(p.exists(), p.stat().st_mtime if p.exists() else None) for p in watched] == before


def test_uninstall_removes_what_install_put_and_keeps_the_state_unless_purged(capsys, tmp_path, site):
    root = tmp_path / "pi"
    install(capsys, root, site, "kiosk", "--credential", device_credential(capsys, tmp_path, site, "kiosco-1"))
    state = root / "var/lib/turnero/kiosco-1"   # what systemd's StateDirectory= made while the kiosk ran
    state.mkdir(parents=True)
    (state / "counter.json").write_text("{}")
    turnero(capsys, "uninstall", *ROLES["kiosk"][0], "--root", root)
    assert files_under(root) == {"/var/lib/turnero/kiosco-1/counter.json": 0o644}
    turnero(capsys, "uninstall", *ROLES["kiosk"][0], "--root", root, "--purge")
    assert files_under(root) == {} and not (root / "var/lib/turnero").exists()


def test_on_a_pi_with_two_roles_uninstalling_one_keeps_what_the_other_needs(capsys, tmp_path, site):
    root = tmp_path / "pi"
    install(capsys, root, site, "hub")
    install(capsys, root, site, "display")
    turnero(capsys, "uninstall", *ROLES["display"][0], "--root", root)
    left = files_under(root)
    assert "/etc/systemd/system/turnero-display@.service" not in left
    assert {"/etc/turnero/site.toml", "/usr/local/bin/turnero", "/etc/chrony/conf.d/turnero.conf",
            "/etc/systemd/system/turnero-hub.service", "/etc/turnero/credentials/hub"} <= set(left)
    # The hub's clock settings, not a device's: the machine that runs the hub keeps serving the time.
    assert "local stratum 10" in (root / "etc/chrony/conf.d/turnero.conf").read_text()
    turnero(capsys, "uninstall", *ROLES["hub"][0], "--root", root)
    assert files_under(root) == {}


@pytest.mark.parametrize("arguments, message", [
    (["--role", "kiosk", "--id", "kiosco-9"], "kiosk kiosco-9 is not in"),
    (["--role", "desk"], "--role desk needs --number N"),
    (["--role", "display"], "--role display needs --id ID"),
    (["--role", "hub", "--credential", "/etc/hostname"], "--credential is for a device"),
    (["--role", "desk", "--number", "2", "--credential", "/nonexistent/escritorio-2"], "no such file"),
])
def test_a_wrong_command_line_is_refused_before_anything_is_touched(capsys, tmp_path, site, arguments, message):
    root = tmp_path / "pi"
    root.mkdir()
    assert message in refused(capsys, "install", *arguments, "--config", site, "--root", root)
    assert list(root.iterdir()) == []


def test_an_invalid_site_file_is_refused_naming_the_key(capsys, tmp_path, site):
    site.write_text(site.read_text(encoding="utf-8").replace("port = 8883", "port = 0"), encoding="utf-8")
    root = tmp_path / "pi"
    root.mkdir()
    assert "broker.port" in refused(capsys, "install", "--role", "hub", "--config", site, "--root", root)
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("where", ["--root", "this machine (--dry-run)"])
def test_a_checkout_the_user_turnero_cannot_reach_is_refused_saying_why(capsys, tmp_path, site, monkeypatch, where):
    home = tmp_path / "home"   # as Debian makes every home folder
    home.mkdir(mode=0o700)
    checkout_venv(home / "turnero", monkeypatch)
    root = tmp_path / "pi"
    root.mkdir()
    how = ["--root", root] if where == "--root" else ["--dry-run"]
    reason = refused(capsys, "install", "--role", "hub", "--config", site, *how)
    assert f"{home} is closed to other users, so the user turnero cannot run {home}/turnero/.venv/bin/turnero" \
        in reason
    assert "clone the checkout into /opt/turnero" in reason and list(root.iterdir()) == []


def test_a_step_that_depends_on_a_changed_file_runs_even_when_it_looks_done(tmp_path):
    # e.g. the role is running (done), but its site file just changed: it must restart.
    ran = []
    config = tmp_path / "config"
    steps = [Step("write the file", config.exists, lambda: (config.write_text("x"), ran.append("write")),
                  marks="service"),
             Step("restart", lambda: True, lambda: ran.append("restart"), after=frozenset({"service"}))]
    assert run_steps(steps, Target(tmp_path), dry_run=False, out=io.StringIO()) == 2
    assert ran == ["write", "restart"]
    log = io.StringIO()
    assert run_steps(steps, Target(tmp_path), dry_run=False, out=log) == 0
    assert ran == ["write", "restart"] and log.getvalue().splitlines() == ["already done      write the file",
                                                                          "already done      restart"]


def test_a_credential_without_the_site_cas_certificate_beside_it_is_refused(capsys, tmp_path, site):
    credential = tmp_path / "pendrive" / "kiosco-1"
    credential.parent.mkdir()
    credential.write_bytes(device_credential(capsys, tmp_path, site, "kiosco-1").read_bytes())   # the password alone
    root = tmp_path / "pi"
    root.mkdir()
    reason = refused(capsys, "install", *ROLES["kiosk"][0], "--config", site, "--root", root,
                     "--credential", credential)
    assert f"{credential.parent / 'ca.crt'}: the site CA's certificate must be beside the credential" in reason
    assert list(root.iterdir()) == []


# --- a site that ships its record to the central ([central]) -----------------------------------------------

def test_a_hub_with_a_central_gets_the_shipper_its_credential_and_a_bridge_only_mosquitto_reads(
        capsys, tmp_path, shipping_site):
    root = tmp_path / "pi"
    install(capsys, root, shipping_site, "hub")
    broker = root / "etc/turnero/broker"
    assert (root / "etc/systemd/system/turnero-ship.service").read_bytes() == \
        (UNITS / "turnero-ship.service").read_bytes()
    for unit in ("turnero-hub.service", "turnero-ship.service"):
        assert (root / "etc/systemd/system/multi-user.target.wants" / unit).is_symlink()
    copy = root / "etc/turnero/credentials/hub-ship"
    assert copy.read_bytes() == (broker / "credentials/hub-ship").read_bytes() and mode(copy) == 0o640
    # The settings hold the site's password at the central: 0640 root:mosquitto, not for every user to read.
    settings = root / "etc/mosquitto/conf.d/turnero.conf"
    assert settings.read_bytes() == (broker / "turnero.conf").read_bytes() and mode(settings) == 0o640
    assert "connection central" in settings.read_text()
    # Mosquitto loads the bridge's CA as its own user, who cannot enter the hub's credentials folder: a copy.
    central = site_config.load(shipping_site).central
    assert (broker / "central-ca.crt").read_bytes() == central.ca_file.read_bytes()
    assert mode(broker / "central-ca.crt") == 0o644
    assert f"bridge_cafile {broker / 'central-ca.crt'}" in settings.read_text().splitlines()


def test_a_hub_without_a_central_gets_no_shipper(capsys, tmp_path, site):
    root = tmp_path / "pi"
    lines = install(capsys, root, site, "hub")
    assert not any("turnero-ship" in line or "hub-ship" in line for line in lines)
    assert not (root / "etc/systemd/system/turnero-ship.service").exists()
    assert not (root / "etc/turnero/credentials/hub-ship").exists()


def test_a_site_that_drops_its_central_loses_the_shipper_at_the_next_install(capsys, tmp_path, site,
                                                                               shipping_site):
    root = tmp_path / "pi"
    install(capsys, root, shipping_site, "hub")
    lines = install(capsys, root, site, "hub")
    assert "not run (--root)  stop turnero-ship.service (systemctl stop turnero-ship.service)" in lines
    left = files_under(root)
    assert not {"/etc/systemd/system/turnero-ship.service", "/etc/turnero/credentials/hub-ship",
                "/etc/systemd/system/multi-user.target.wants/turnero-ship.service"} & set(left)
    assert mode(root / "etc/mosquitto/conf.d/turnero.conf") == 0o644
    assert "connection central" not in (root / "etc/mosquitto/conf.d/turnero.conf").read_text()


def test_uninstalling_the_hub_takes_its_shipper_along(capsys, tmp_path, shipping_site):
    root = tmp_path / "pi"
    install(capsys, root, shipping_site, "hub")
    for name in ("hub", "hub-ship"):   # what systemd's StateDirectory= made while they ran
        (root / "var/lib/turnero" / name).mkdir(parents=True)
    turnero(capsys, "uninstall", "--role", "hub", "--root", root)
    assert files_under(root) == {}
    turnero(capsys, "uninstall", "--role", "hub", "--root", root, "--purge")
    assert not (root / "var/lib/turnero").exists()


@pytest.mark.parametrize("missing", ["ca_file", "password_file"])
def test_a_hub_whose_central_handed_nothing_over_is_refused_naming_the_file(capsys, tmp_path, shipping_site,
                                                                           missing):
    path = getattr(site_config.load(shipping_site).central, missing)
    path.unlink()
    root = tmp_path / "pi"
    root.mkdir()
    reason = refused(capsys, "install", "--role", "hub", "--config", shipping_site, "--root", root)
    assert f"{path}: no such file" in reason and "`turnero central add-site cali`" in reason
    assert list(root.iterdir()) == []


def test_a_changed_bridge_restarts_mosquitto_which_does_not_reload_bridges(capsys, tmp_path, shipping_site,
                                                                            monkeypatch):
    root = tmp_path / "pi"
    install(capsys, root, shipping_site, "hub")
    # The central made the site a new password: the bridge's settings change.
    password = site_config.load(shipping_site).central.password_file
    password.write_text("a-new-password-from-the-central\n")
    ran = live_run(monkeypatch, root, installer.install_steps(
        Target(root), installer.role_for("hub"), shipping_site, None))
    assert ["systemctl", "restart", "mosquitto.service"] in ran
    assert "connection central" in (root / "etc/mosquitto/conf.d/turnero.conf").read_text()


def live_run(monkeypatch, root: Path, steps: list[Step]) -> list[list[str]]:
    """The steps taken as on a running system whose services are up, files still under root; the commands."""
    ran: list[list[str]] = []
    monkeypatch.setattr(installer, "_run", ran.append)
    monkeypatch.setattr(installer, "_succeeds", lambda command: True)
    monkeypatch.setattr(installer, "_chown", lambda *_: None)
    monkeypatch.setattr(installer, "_owner_is", lambda *_: True)
    target = Target(root)
    target.live = True
    run_steps(steps, target, dry_run=False, out=io.StringIO())
    return ran


# --- the central ---------------------------------------------------------------------------------------------

def test_the_central_gets_its_file_its_brokers_files_and_its_unit(capsys, tmp_path, central_file, venv_program):
    root = tmp_path / "server"
    install_central(capsys, root, central_file)
    assert (root / "etc/turnero/central.toml").read_bytes() == central_file.read_bytes()
    assert mode(root / "etc/turnero/central.toml") == 0o640
    broker = root / CENTRAL_BROKER
    assert (root / "etc/mosquitto/conf.d/turnero-central.conf").read_bytes() == \
        (broker / "turnero-central.conf").read_bytes()
    assert mode(root / "etc/mosquitto/conf.d/turnero-central.conf") == 0o644   # Mosquitto rereads it as its user
    # The service reads its own password and the CA; the monitor's (and every site's) stays root's.
    assert mode(broker / "credentials") == 0o750 and mode(broker / "credentials/central") == 0o640
    assert mode(broker / "credentials/monitor") == 0o600 and mode(broker / "ca.crt") == 0o644
    assert mode(broker / "credentials/central-web") == 0o640      # the page's own connection to the broker
    # The page behind nginx, on the certificate broker-files issued for [broker] host.
    nginx = (root / "etc/nginx/conf.d/turnero-central.conf").read_text()
    assert f"ssl_certificate {broker.absolute().as_posix().replace(str(root), '')}/web.crt;" in nginx
    assert "listen 443 ssl;" in nginx and "proxy_pass http://127.0.0.1:8081;" in nginx
    assert "return 301 https://central.example.org$request_uri;" in nginx
    assert (root / "etc/systemd/system/turnero-central.service").read_bytes() == \
        (UNITS / "turnero-central.service").read_bytes()
    assert (root / "etc/systemd/system/multi-user.target.wants/turnero-central.service").is_symlink()
    assert os.readlink(root / "usr/local/bin/turnero") == str(venv_program)
    # A server, not a site: no site file, no site broker, no time service of the site's.
    assert not {"etc/turnero/site.toml", "etc/turnero/broker", "etc/chrony", "etc/turnero/credentials"} & \
        {str(p.relative_to(root)) for p in root.rglob("*")}


def test_a_central_added_site_keeps_the_centrals_password_readable_by_the_service(capsys, tmp_path,
                                                                                  central_file):
    root = tmp_path / "server"
    install_central(capsys, root, central_file)
    central_broker.write_central_files(root / CENTRAL_BROKER, ["central.example.org"], 8883, add="cali")
    assert mode(root / CENTRAL_BROKER / "credentials") == 0o750
    assert mode(root / CENTRAL_BROKER / "credentials/cali") == 0o600


def test_the_centrals_dry_run_writes_nothing_and_shows_the_database_and_the_broker(capsys, tmp_path,
                                                                                  central_file):
    root = tmp_path / "server"
    root.mkdir()
    lines = install_central(capsys, root, central_file, "--dry-run")
    assert list(root.iterdir()) == []
    plan = "\n".join(lines)
    assert "install postgresql)" in plan and "install mosquitto)" in plan
    assert "(runuser -u postgres -- createuser turnero)" in plan
    assert "(runuser -u postgres -- createdb --owner turnero turnero)" in plan
    assert "(runuser -u postgres -- createuser --no-login turnero_lectura)" in plan
    assert "install nginx-light)" in plan and "(systemctl restart nginx.service)" in plan
    assert "useradd --system --gid turnero --no-create-home" in plan
    assert "(systemctl restart mosquitto.service)" in plan
    assert "enable turnero-central.service)" in plan and "(systemctl restart turnero-central.service)" in plan
    assert "chrony" not in plan and "site.toml" not in plan
    assert_the_run_takes_the_plan(lines, install_central(capsys, root, central_file))


def test_the_centrals_dry_run_on_this_machine_changes_nothing_on_it(capsys, central_file):
    watched = [Path("/etc/turnero"), Path("/usr/local/bin/turnero"),
               Path("/etc/systemd/system/turnero-central.service"), Path("/etc/mosquitto/conf.d/turnero-central.conf")]
    before = [(p.exists(), p.stat().st_mtime if p.exists() else None) for p in watched]
    lines = turnero(capsys, "install", "--role", "central", "--config", central_file, "--dry-run")
    assert all(line.startswith(("would do", "already done")) for line in lines[:-1]), lines
    assert [(p.exists(), p.stat().st_mtime if p.exists() else None) for p in watched] == before


def test_the_centrals_database_is_made_once(capsys, tmp_path, central_file, monkeypatch):
    root = tmp_path / "server"
    install_central(capsys, root, central_file)
    steps = installer.install_steps(Target(root), installer.role_for("central"), central_file, None)
    monkeypatch.setattr(installer, "_postgres_has", lambda query: False)
    assert ["runuser", "-u", "postgres", "--", "createdb", "--owner", "turnero", "turnero"] in \
        live_run(monkeypatch, root, steps)
    monkeypatch.setattr(installer, "_postgres_has", lambda query: True)
    assert not any("postgres" in command for command in live_run(monkeypatch, root, steps))


def test_uninstalling_the_central_keeps_its_ca_and_the_sites_credentials_unless_purged(capsys, tmp_path,
                                                                                       central_file):
    root = tmp_path / "server"
    install_central(capsys, root, central_file)
    turnero(capsys, "uninstall", "--role", "central", "--root", root)
    assert {path.removeprefix(f"/{CENTRAL_BROKER}/").split("/")[0] for path in files_under(root)} == {
        "acl", "ca.crt", "ca.key", "credentials", "passwd", "server.crt", "server.key", "turnero-central.conf",
        "web.crt", "web.key"}
    lines = turnero(capsys, "uninstall", "--role", "central", "--root", root, "--purge")
    assert "runuser -u postgres -- dropdb --if-exists turnero" in "\n".join(lines)
    assert files_under(root) == {} and not (root / "etc/turnero").exists()


@pytest.mark.parametrize("arguments, message", [
    (["--id", "kiosco-1"], "--role central takes no --id or --number"),
    (["--number", "2"], "--role central takes no --id or --number"),
    (["--credential", "/etc/hostname"], "--credential is for a device"),
])
def test_the_central_takes_no_device_arguments(capsys, tmp_path, central_file, arguments, message):
    root = tmp_path / "server"
    root.mkdir()
    assert message in refused(capsys, "install", "--role", "central", "--config", central_file, "--root", root,
                              *arguments)
    assert list(root.iterdir()) == []


def test_under_a_strict_umask_the_services_and_mosquitto_still_pass_through_the_folders(capsys, tmp_path,
                                                                                         central_file):
    root = tmp_path / "server"
    mask = os.umask(0o077)   # a technician's sudo may keep one
    try:
        install_central(capsys, root, central_file)
    finally:
        os.umask(mask)
    for folder in ("etc/turnero", "etc/turnero/central", CENTRAL_BROKER, "etc/mosquitto/conf.d"):
        assert mode(root / folder) == 0o755, folder
    for certificate in ("ca.crt", "server.crt"):
        assert mode(root / CENTRAL_BROKER / certificate) == 0o644
