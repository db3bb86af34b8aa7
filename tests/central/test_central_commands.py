"""The central's commands as a technician runs them: a wrong file or an unreachable database is said in one message
naming what to put right, never a traceback; add-site prints what goes to the site's hub."""
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import site as site_config

TURNERO = Path(sys.executable).with_name("turnero")


def turnero(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TURNERO), *args], capture_output=True, text=True, timeout=60)


def test_a_wrong_central_file_is_refused_naming_every_key(tmp_path):
    path = tmp_path / "central.toml"
    path.write_text('[central]\nname = 5\n[broker]\nport = 99999\nfiles = "rel"\nextra = 1\n[oops]\n',
                    encoding="utf-8")
    done = turnero("central", "status", "--config", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    for text in ("the central's configuration has 5 problem(s)", "central.name: must be text, not 5",
                 "broker.port: must be a TCP port", "broker.files: must be an absolute path",
                 "broker.extra: unknown key", "oops: unknown table"):
        assert text in done.stderr


def test_an_unreachable_database_is_named_with_its_dsn(tmp_path):
    path = tmp_path / "central.toml"
    path.write_text(f'[central]\nname = "X"\n[broker]\nfiles = "{tmp_path}"\n[database]\n'
                    f'dsn = "host={tmp_path}/nowhere dbname=turnero"\n', encoding="utf-8")
    done = turnero("central", "status", "--config", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot reach the central's PostgreSQL with [database] dsn" in done.stderr


def test_ship_on_a_site_without_a_central_says_so():
    done = turnero("ship", "--config", str(site_config.EXAMPLE), "--days", "/nonexistent", "--state", "/tmp/x")
    assert done.returncode == 2 and "the site file has no [central]" in done.stderr


@pytest.mark.parametrize("site", ["Cali", "central", "central-public", "monitor", "cali/x", ""])
def test_add_site_refuses_an_id_that_cannot_be_a_user_or_a_prefix(tmp_path, site):
    path = tmp_path / "central.toml"
    path.write_text(f'[central]\nname = "X"\n[broker]\nfiles = "{tmp_path / "files"}"\n', encoding="utf-8")
    done = turnero("central", "add-site", site, "--config", str(path))
    assert done.returncode == 2 and "a site id is lower-case letters" in done.stderr


def test_the_mi_turno_page_is_refused_by_a_central_without_public(tmp_path):
    path = tmp_path / "central.toml"
    path.write_text('[central]\nname = "X"\n', encoding="utf-8")
    done = turnero("central", "mi-turno", "--config", str(path))
    assert done.returncode == 2 and "central.toml has no [public]" in done.stderr


def test_add_site_makes_the_credential_and_prints_what_to_copy(tmp_path):
    path = tmp_path / "central.toml"
    files = tmp_path / "files"
    path.write_text(f'[central]\nname = "X"\n[broker]\nhost = "central.example.org"\nfiles = "{files}"\n',
                    encoding="utf-8")
    done = turnero("central", "add-site", "cali", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert f"copy {files / 'credentials' / 'cali'}" in done.stdout and 'site = "cali"' in done.stdout
    assert 'host = "central.example.org"' in done.stdout
    password = (files / "credentials" / "cali").read_text().strip()
    assert turnero("central", "add-site", "palmira", "--config", str(path)).returncode == 0
    assert (files / "credentials" / "cali").read_text().strip() == password      # kept: the site has it
    acl = (files / "acl").read_text()
    assert "pattern write turnero/central/v1/%u/records" in acl and "user palmira" in acl


def test_central_users_see_the_sites_they_are_given(tmp_path):
    path = tmp_path / "central.toml"
    path.write_text(f'[central]\nname = "X"\n[broker]\nfiles = "{tmp_path}"\n[web]\nstate = "{tmp_path / "web"}"\n'
                    f'port = 9443\n', encoding="utf-8")

    def user(*args: str, password: str = "una-clave-larga-1\n") -> subprocess.CompletedProcess:
        return subprocess.run([str(TURNERO), "central", "user", *args, "--config", str(path), "--password-stdin"],
                              input=password, capture_output=True, text=True, timeout=60)
    refused = user("add", "regional")
    assert refused.returncode == 2 and "--sites cali,palmira, or --all" in refused.stderr
    assert user("add", "regional", "--sites", "cali, palmira").returncode == 0
    assert user("add", "nacional", "--all").returncode == 0
    assert user("add", "corta", "--all", password="corta\n").returncode == 2
    assert user("list").stdout.splitlines() == ["nacional", "regional (sites: cali, palmira)"]
    assert user("remove", "regional").stdout.startswith("regional: removed")
