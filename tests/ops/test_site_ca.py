"""The site CA, the broker's certificate and the page's: made once, renewed when due or when the hub's names
change, the keys readable by their owner only."""
import os
import stat
from datetime import datetime, timedelta, timezone

from cryptography import x509

from appliance import site as site_config
from appliance.ops import broker_files, site_ca

CONFIG = site_config.load(site_config.EXAMPLE)


def test_the_ca_is_made_once_and_its_key_is_never_readable_by_others(tmp_path):
    first = site_ca.ensure_ca(tmp_path, CONFIG.name).read_bytes()
    assert site_ca.ensure_ca(tmp_path, CONFIG.name).read_bytes() == first     # every device keeps trusting it
    assert stat.S_IMODE((tmp_path / site_ca.CA_KEY).stat().st_mode) == 0o600


def test_the_brokers_certificate_is_issued_again_when_the_names_change_or_it_is_due(tmp_path):
    issued = broker_files.write_tls_files(tmp_path, CONFIG.name, broker_files.hub_names(CONFIG))
    assert issued.names == ("127.0.0.1", "localhost")
    again = broker_files.write_tls_files(tmp_path, CONFIG.name, broker_files.hub_names(CONFIG))
    assert again == issued                                          # nothing to do: the same certificate
    moved = broker_files.write_tls_files(tmp_path, CONFIG.name, ["hub.local", "192.168.50.2", "127.0.0.1"])
    assert moved.names == ("hub.local", "192.168.50.2", "127.0.0.1")
    assert site_ca.server_certificate(tmp_path) == moved
    now = datetime.now(timezone.utc)
    assert not moved.due(now) and moved.due(moved.not_after - timedelta(days=30))
    assert moved.not_after - now > timedelta(days=800)


def test_the_pages_certificate_comes_with_the_brokers_for_the_same_names_with_a_key_of_its_own(tmp_path):
    broker_files.write_tls_files(tmp_path, CONFIG.name, ["hub.local", "127.0.0.1"])
    page = site_ca.server_certificate(tmp_path, site_ca.WEB)
    assert page.names == site_ca.server_certificate(tmp_path).names == ("hub.local", "127.0.0.1")
    assert site_ca.key_file(tmp_path, site_ca.WEB).read_bytes() != site_ca.key_file(tmp_path).read_bytes()
    assert stat.S_IMODE(site_ca.key_file(tmp_path, site_ca.WEB).stat().st_mode) == 0o600
    site_ca.key_file(tmp_path, site_ca.WEB).unlink()
    site_ca.cert_file(tmp_path, site_ca.WEB).unlink()
    assert not broker_files.tls_current(tmp_path, ["hub.local", "127.0.0.1"])     # install issues it again
    broker_files.write_tls_files(tmp_path, CONFIG.name, ["hub.local", "127.0.0.1"])
    assert site_ca.server_certificate(tmp_path, site_ca.WEB).names == ("hub.local", "127.0.0.1")


def test_the_certificates_are_readable_by_all_whatever_the_umask(tmp_path):
    # Mosquitto loads its certificates (and a bridge's CA) after dropping to its own user, and install writes
    # with umask 077 so that no secret ever shows.
    mask = os.umask(0o077)
    try:
        broker_files.write_tls_files(tmp_path, CONFIG.name, ["hub.local", "127.0.0.1"])
    finally:
        os.umask(mask)
    for stem in (site_ca.SERVER, site_ca.WEB):
        assert stat.S_IMODE(site_ca.cert_file(tmp_path, stem).stat().st_mode) == 0o644
        assert stat.S_IMODE(site_ca.key_file(tmp_path, stem).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / site_ca.CA_CERT).stat().st_mode) == 0o644


def test_no_server_certificate_lasts_more_than_825_days_counting_its_backdating(tmp_path):
    """Apple's platforms refuse a server certificate valid for more than 825 days, notBefore to notAfter."""
    broker_files.write_tls_files(tmp_path, CONFIG.name, ["hub.local", "127.0.0.1"])
    for stem in (site_ca.SERVER, site_ca.WEB):
        cert = x509.load_pem_x509_certificate(site_ca.cert_file(tmp_path, stem).read_bytes())
        assert cert.not_valid_after_utc - cert.not_valid_before_utc <= timedelta(days=825)
        assert cert.not_valid_before_utc < datetime.now(timezone.utc) - timedelta(hours=12)   # a slow clock is fine
