"""The site CA and the broker's certificate: made once, renewed when due or when the hub's names change, the CA's
key readable by its owner only."""
import stat
from datetime import datetime, timedelta, timezone

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
