"""What install puts on the central whose central.toml has [public]: the sites' "Mi turno" page as a process of its
own, its broker account readable by the service, and its nginx server beside the coordinators' page; and on a
site whose page the central serves, the bridge that carries the positions."""
from pathlib import Path

import pytest

from appliance import site as site_config
from appliance.contract import shipping
from appliance.ops import broker_files, central_broker
from appliance.ops import install as installer
# Fixtures, used by the ones below and by the tests.
from tests.ops.test_install import (CENTRAL_BROKER, central_file, files_under, install, install_central,  # noqa: F401
                                    mode, refused, shipping_site, site, turnero, venv_program)
from tests.ops.test_install_mi_turno import public_table

UNIT = "etc/systemd/system/turnero-central-mi-turno.service"
NGINX = "etc/nginx/conf.d/turnero-central.conf"


@pytest.fixture
def public_central(tmp_path, central_file) -> Path:   # noqa: F811 - the imported fixture
    """The central serving the sites' page, with the certificate phones trust that the technician brought."""
    central_file.write_text(central_file.read_text() + public_table(tmp_path, "https://turno.comfenalco.example"))
    return central_file


def test_a_central_with_public_gets_the_pages_process_its_account_and_its_front(capsys, tmp_path, public_central):
    root = tmp_path / "server"
    install_central(capsys, root, public_central)
    assert (root / UNIT).read_bytes() == (installer.UNITS / "turnero-central-mi-turno.service").read_bytes()
    assert (root / "etc/systemd/system/multi-user.target.wants/turnero-central-mi-turno.service").is_symlink()
    assert mode(root / CENTRAL_BROKER / "credentials/central-public") == 0o640    # the service reads it
    nginx = (root / NGINX).read_text()
    # The coordinators' page where it was; the citizens' beside it on 8444, with its own certificate and limits.
    assert "listen 443 ssl;" in nginx and "proxy_pass http://127.0.0.1:8081;" in nginx
    assert "listen 8444 ssl;" in nginx and "proxy_pass http://127.0.0.1:8082;" in nginx
    assert f"ssl_certificate {tmp_path / 'public.crt'};" in nginx and "zone=turnero_public" in nginx
    before = files_under(root)
    install_central(capsys, root, public_central)       # again: nothing changes
    assert files_under(root) == before


def test_the_centrals_account_for_the_page_reads_the_positions_alone_and_each_site_writes_its_own():
    found = {account.device: account for account in central_broker.accounts(["cali"])}
    assert found["central-public"].read == (shipping.central_positions_topic("+", "+"),)
    assert "pattern write turnero/central/v1/%u/positions/+" in central_broker.acl_patterns().splitlines()
    assert "central-public" in central_broker.RESERVED


def test_a_central_without_public_gets_no_page_and_loses_it_when_central_toml_drops_it(capsys, tmp_path,
                                                                                      public_central):
    root = tmp_path / "server"
    install_central(capsys, root, public_central)
    public_central.write_text(public_central.read_text().split("[public]")[0])
    lines = install_central(capsys, root, public_central)
    assert "not run (--root)  stop turnero-central-mi-turno.service (systemctl stop turnero-central-mi-turno." \
           "service)" in lines
    assert not (root / UNIT).exists() and "8444" not in (root / NGINX).read_text()


def test_uninstalling_the_central_takes_its_page_along(capsys, tmp_path, public_central):
    root = tmp_path / "server"
    install_central(capsys, root, public_central)
    turnero(capsys, "uninstall", "--role", "central", "--root", root)
    left = files_under(root)
    assert not any("mi-turno" in path or "nginx" in path or "systemd" in path for path in left), left


@pytest.mark.parametrize("missing", ["public.crt", "public.key"])
def test_a_central_serving_the_page_without_its_certificate_is_refused_naming_the_key(capsys, tmp_path,
                                                                                     public_central, missing):
    (tmp_path / missing).unlink()
    root = tmp_path / "server"
    root.mkdir()
    reason = refused(capsys, "install", "--role", "central", "--config", public_central, "--root", root, "--dry-run")
    key = "cert_file" if missing.endswith("crt") else "key_file"
    assert f"{tmp_path / missing}: no such file; [public] {key}" in reason and list(root.iterdir()) == []


def test_a_site_whose_page_the_central_serves_bridges_its_positions_and_no_other_site_does(
        capsys, tmp_path, shipping_site):   # noqa: F811 - the imported fixture
    bridged = "topic positions/+ out 1 turnero/v1/hub/ turnero/central/v1/cali/"
    without_public = site_config.load(shipping_site).central
    shipping_site.write_text(shipping_site.read_text() + '\n[public]\naddress = "https://turno.comfenalco.example"\n')
    root = tmp_path / "hub-pi"
    install(capsys, root, shipping_site, "hub")
    assert bridged in (root / "etc/mosquitto/conf.d/turnero.conf").read_text().splitlines()
    assert not (root / "etc/systemd/system/turnero-mi-turno.service").exists()
    listening = site_config.parse(shipping_site.read_text() + 'listen = true\n').central   # serves its own
    for central in (without_public, listening):
        assert not any("positions" in line for line in broker_files.bridge_lines(central))
