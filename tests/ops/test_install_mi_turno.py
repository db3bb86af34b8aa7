"""What install puts on a site whose tickets carry the "Mi turno" QR code: the site secret on the hub and on each
kiosk (handed over beside the kiosk's credential), and, when the hub serves the page on the guest Wi-Fi, its
process, its broker account and its nginx server."""
from pathlib import Path

import pytest

from appliance import contract
from appliance import site as site_config
from appliance.ops import broker_files
from appliance.ops import install as installer
# `site`: a fixture, used by the one below.
from tests.ops.test_install import (ROLES, files_under, install, mode, refused, shipping_site, site,  # noqa: F401
                                    turnero)

UNIT = "etc/systemd/system/turnero-mi-turno.service"
SECRET = "etc/turnero/credentials/public-secret"


def public_table(folder: Path, address: str, *lines: str) -> str:
    """A [public] table with `lines`, and the certificate phones trust for `address` in `folder`."""
    for name in ("public.crt", "public.key"):
        (folder / name).write_text(f"{name} from a public CA\n")
    return "\n".join(["\n[public]", f'address = "{address}"', *lines, f'cert_file = "{folder / "public.crt"}"',
                      f'key_file = "{folder / "public.key"}"', ""])


@pytest.fixture
def guest_site(tmp_path, site) -> Path:   # noqa: F811 - the imported fixture
    """The example site whose hub serves the page on the guest Wi-Fi, with the certificate phones trust."""
    path = tmp_path / "guest-site.toml"
    path.write_text(site.read_text(encoding="utf-8") + public_table(tmp_path, "https://turno.cis-cali.example",
                                                                    "listen = true"), encoding="utf-8")
    return path


def served_by_the_central(site: Path, guest_site: Path, shipping_site: Path) -> None:
    """guest_site without listen, and with the [central] that serves its page (without one it is refused)."""
    public = guest_site.read_text().removeprefix(site.read_text()).replace("listen = true", "listen = false")
    guest_site.write_text(shipping_site.read_text() + public)


def test_a_hub_serving_the_page_gets_its_process_its_account_the_secret_and_the_guest_front(capsys, tmp_path,
                                                                                           guest_site):
    root = tmp_path / "hub-pi"
    install(capsys, root, guest_site, "hub")
    made = root / "etc/turnero/broker/credentials/public-secret"
    assert (root / SECRET).read_bytes() == made.read_bytes() and len(made.read_bytes().strip()) == 64
    assert mode(root / SECRET) == 0o640
    assert (root / UNIT).read_bytes() == (installer.UNITS / "turnero-mi-turno.service").read_bytes()
    assert (root / "etc/turnero/credentials/hub-public").is_file()
    nginx = (root / installer.NGINX_SITE.lstrip("/")).read_text()
    assert "zone=turnero_public" in nginx and f"ssl_certificate {tmp_path / 'public.crt'};" in nginx
    before, secret = files_under(root), made.read_bytes()
    install(capsys, root, guest_site, "hub")                 # again: the secret is never made anew
    assert files_under(root) == before and made.read_bytes() == secret


def test_a_hub_whose_page_is_elsewhere_gets_the_secret_and_no_page(capsys, tmp_path, site, guest_site,
                                                                   shipping_site):   # noqa: F811 - the fixtures
    served_by_the_central(site, guest_site, shipping_site)
    root = tmp_path / "hub-pi"
    install(capsys, root, guest_site, "hub")
    assert (root / SECRET).is_file() and not (root / UNIT).exists()
    assert not (root / "etc/turnero/credentials/hub-public").exists()


def test_a_kiosk_takes_the_secret_from_beside_its_credential_and_is_refused_without_it(capsys, tmp_path, guest_site):
    handed = tmp_path / "hub-pi/etc/turnero/broker/credentials"
    install(capsys, tmp_path / "hub-pi", guest_site, "hub")
    root = tmp_path / "kiosk-pi"
    install(capsys, root, guest_site, "kiosk", "--credential", handed / "kiosco-1")
    assert (root / SECRET).read_bytes() == (handed / "public-secret").read_bytes()
    pendrive = tmp_path / "pendrive"
    pendrive.mkdir()
    for name in ("kiosco-1", "ca.crt"):      # the secret left behind
        (pendrive / name).write_bytes((handed / name).read_bytes())
    reason = refused(capsys, "install", *ROLES["kiosk"][0], "--config", guest_site, "--root", tmp_path / "other",
                     "--credential", pendrive / "kiosco-1")
    assert f"{pendrive / 'public-secret'}: the site secret of the tickets' QR codes must be beside" in reason


def test_a_hub_serving_the_page_without_its_certificate_is_refused(capsys, tmp_path, guest_site):
    (tmp_path / "public.key").unlink()
    reason = refused(capsys, "install", "--role", "hub", "--config", guest_site, "--root", tmp_path / "hub-pi")
    assert f"{tmp_path / 'public.key'}: no such file" in reason and "a certificate phones trust" in reason


def test_the_pages_broker_account_reads_the_positions_alone(guest_site):
    found = {account.device: account for account in broker_files.accounts(site_config.load(guest_site))}
    page = found["hub-public"]
    assert page.read == (contract.POSITIONS_ALL,) and contract.POSITIONS_ALL in found["hub"].write
    assert set(page.write) == {contract.status_topic("hub-public"), contract.heartbeat_topic("hub-public")}


def test_a_site_that_stops_serving_the_page_loses_its_process_and_uninstalling_leaves_nothing(
        capsys, tmp_path, site, guest_site, shipping_site):   # noqa: F811 - the fixtures
    root = tmp_path / "hub-pi"
    install(capsys, root, guest_site, "hub")
    served_by_the_central(site, guest_site, shipping_site)
    install(capsys, root, guest_site, "hub")
    assert not (root / UNIT).exists() and not (root / "etc/turnero/credentials/hub-public").exists()
    assert (root / SECRET).is_file()                # the tickets still carry the code: the central serves it
    guest_site.write_text(guest_site.read_text().replace("listen = false", "listen = true"))
    install(capsys, root, guest_site, "hub")
    turnero(capsys, "uninstall", "--role", "hub", "--root", root)
    assert files_under(root) == {}
