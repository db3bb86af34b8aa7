"""A network of sites and a central on one machine, for the demo and the tests: the central's Mosquitto with the
files `turnero central broker-files` and `add-site` make, and for each site its own Mosquitto with the hub's
files and ACL (`turnero broker-files`) and the bridge to the central. The database is a LocalPostgres."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from appliance.dev.local_broker import HOST, LocalBroker, free_port
from appliance.ops import broker_files, central_broker, site_ca
from appliance.site import EXAMPLE, CentralLink, SiteConfig
from central.config import CentralConfig
from central.config import load as load_central
from hub.web.app import CoordinatorsWeb


class LocalCentral:
    """The central's broker (not started) and its file, for `sites`, storing into the database at `dsn`."""

    def __init__(self, folder: Path, dsn: str, sites: list[str], name: str = "Comfenalco Valle", *,
                 public: bool = False):
        """`public`: the central serves the sites' "Mi turno" page too, its certificate from the central's CA."""
        self.files = Path(folder).absolute() / "files"
        self.port = free_port()
        for site in sites:
            central_broker.write_central_files(self.files, [HOST, "localhost"], self.port, add=site)
        page = ""
        if public:
            site_ca.issue_server(self.files, [HOST], stem="public")
            port = free_port()
            page = (f'[public]\naddress = "https://{HOST}:{port}"\nhost = "{HOST}"\nport = {port}\n'
                    f'app_port = {free_port()}\ncert_file = "{site_ca.cert_file(self.files, "public")}"\n'
                    f'key_file = "{site_ca.key_file(self.files, "public")}"\n')
        self.broker = LocalBroker(Path(folder) / "broker", port=self.port, auth=self.files)
        self.config_path = Path(folder) / "central.toml"
        self.config_path.write_text(f'[central]\nname = "{name}"\n[broker]\nport = {self.port}\n'
                                    f'files = "{self.files}"\n[database]\ndsn = "{dsn}"\n'
                                    f'[web]\nhost = "{HOST}"\nport = {free_port()}\nhttp_port = 0\n'
                                    f'app_port = {free_port()}\n'
                                    f'state = "{Path(folder).absolute() / "web"}"\n{page}', encoding="utf-8")
        self.config: CentralConfig = load_central(self.config_path)

    def link(self, site: str, positions: bool = False) -> CentralLink:
        """What a site's [central] says to reach this central; `positions`: the site's [public] has no listen."""
        return CentralLink(site, HOST, self.port, self.files / "ca.crt", self.files / "credentials" / site,
                           positions)


def site_file(folder: Path, config: SiteConfig, *, web_port: int | None = None) -> Path:
    """The example site file as `site_for_central` made its config: its broker, credentials and [central], for a
    role run as its own process (`turnero hub`, `turnero ship`). The page on `web_port`, or not at all."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "port = 8883", f'port = {config.broker.port}\ncredentials_dir = "{config.broker.credentials_dir}"\n'
                       f'ca_file = "{config.broker.ca_file}"', 1)
    text = text.replace("port = 8443", f"port = {web_port or free_port()}", 1).replace("http_port = 8080",
                                                                                     "http_port = 0", 1)
    central = config.central
    text += (f'\n[central]\nsite = "{central.site}"\nhost = "{central.host}"\nport = {central.port}\n'
             f'ca_file = "{central.ca_file}"\npassword_file = "{central.password_file}"\n')
    path = Path(folder) / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def site_for_central(base: SiteConfig, folder: Path, site: str, central: LocalCentral) -> tuple[SiteConfig,
                                                                                                 LocalBroker]:
    """A site of the central: its file (`base` with a [central] and its own broker's credentials) and its broker
    (not started), locked down like a hub's and bridged to the central."""
    auth, port = Path(folder).absolute() / "broker-files", free_port()
    positions = base.public is not None and not base.public.listen
    link = dataclasses.replace(central.link(site, positions), orders=base.appointments is not None)
    with_central = dataclasses.replace(base, central=link).with_broker(HOST, port, None)
    broker_files.write_broker_files(with_central, auth)
    config = dataclasses.replace(with_central, broker=dataclasses.replace(
        with_central.broker, credentials_dir=auth / broker_files.CREDENTIALS_NAME, ca_file=auth / "ca.crt"))
    return config, LocalBroker(Path(folder) / "broker", port=port, auth=auth, bridge=with_central.central)


def site_page(config: SiteConfig, state: Path, now=None) -> tuple[SiteConfig, CoordinatorsWeb]:
    """A site's coordinators' page on a free loopback port, its certificate from the site's CA (beside its
    broker's credentials): the page that publishes the site's live picture for the central. Not started."""
    ca_folder = Path(config.broker.ca_file).parent
    if site_ca.server_certificate(ca_folder, site_ca.WEB) is None:
        site_ca.issue_server(ca_folder, [HOST], stem=site_ca.WEB)
    config = dataclasses.replace(config, web=dataclasses.replace(
        config.web, cert_file=site_ca.cert_file(ca_folder, site_ca.WEB),
        key_file=site_ca.key_file(ca_folder, site_ca.WEB)))
    return config, CoordinatorsWeb(config, state, host=HOST, port=0, http_port=0, now=now)

