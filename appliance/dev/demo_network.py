"""`turnero demo --sites N`: sites of one organisation, one after another a scripted morning each (demo.py's), each
shipping its record and publishing its live picture through its bridge to a central on a private PostgreSQL.
Beside the sites' output: the central's consolidated CSV, its status and screenshots of its page (every site
live, one site, the Informe, the devices) at a desk's width and a phone's."""
from __future__ import annotations

import dataclasses
import secrets
import threading
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from appliance import site as site_config
from appliance.dev import browser
from appliance.dev.demo import SITES, DemoSite, _headless, _public_page, _scripted_morning
from appliance.dev.local_postgres import LocalPostgres
from appliance.dev.network import LocalCentral, site_for_central
from appliance.ops import site_ca
from appliance.records.turns_csv import write_csv
from appliance.web.accounts import Accounts
from central import export, rollup
from central.database import connect
from central.ingest import Central
from central.main import status
from central.web.app import CentralWeb

USER = "demo"
SHOT_WIDTHS = {"escritorio": 1280, "telefono": 390}


def run_network(*, sites: int, seconds: float, out: Path) -> int:
    _headless()
    names = list(SITES)[:sites]
    out.mkdir(parents=True, exist_ok=True)
    with LocalPostgres() as database, ExitStack() as running:
        network = LocalCentral(out / "central", database.dsn, names)
        running.enter_context(network.broker)
        # A demo's morning lasts seconds: its Informe follows at once.
        central, page = Central(network.config, pace=rollup.Pace(1, 1)), CentralWeb(network.config)
        password = secrets.token_urlsafe(12)
        Accounts(network.config.web.state).add(USER, password)
        central.start()
        page.start()
        stop = threading.Event()

        def ingest() -> None:
            while not stop.is_set():
                central.step(0.05)
        loop = threading.Thread(target=ingest, name="central", daemon=True)
        loop.start()
        try:
            for n, name in enumerate(names):
                # Each site serves its own "Mi turno" page, as the one-site demo does: its broker has the page's
                # account (listen), and DemoSite serves the page itself on a loopback port.
                public = dataclasses.replace(_public_page(out / name / "state"), listen=True)
                base = dataclasses.replace(site_config.load(site_config.EXAMPLE), name=SITES[name], public=public)
                config, broker = site_for_central(base, out / name, name, network)
                running.enter_context(broker)
                site = DemoSite(out / name, broker, headless=True, base=config)
                site.start()            # its coordinators' page publishes the site's live picture for the central
                try:
                    _scripted_morning(site, seconds)
                    _shipped(site)
                    if n == len(names) - 1:     # the last site still at work: the central's pages, live
                        _central_shots(page, network, sites, password, out / "central" / "screens")
                finally:
                    site.stop()
                site.export()
        finally:
            stop.set()
            loop.join(5)
            page.stop()
            central.stop()
        with connect(database.dsn) as db:
            today = site_config.load(site_config.EXAMPLE).today()
            count = write_csv(out / "central.csv", export.rows(db, today, today), ";", export.COLUMNS)
            now = datetime.now(network.config.timezone)
            (out / "central-status.txt").write_text(status(db, now) + "\n", encoding="utf-8")
    print(f"\nDemo finished. {len(names)} sites in {out}/ ({', '.join(names)}: each as a one-site demo) and the "
          f"central's consolidated CSV, central.csv ({count} turns), its status, central-status.txt, and its "
          f"page's screenshots in central/screens/")
    return 0


def _shipped(site: DemoSite, deadline_s: float = 60.0) -> None:
    """Waits until the central has acknowledged every record of the site's journal."""
    give_up = time.monotonic() + deadline_s
    while site.shipper.pending()[0] and time.monotonic() < give_up:
        time.sleep(0.2)


def _central_shots(page: CentralWeb, network: LocalCentral, sites: int, password: str, shots: Path) -> None:
    """The central's pages as a coordinator's browser shows them, signed in as the demo's user."""
    try:
        driver = browser.trusting_chromium(shots.parent / "browser", network.files / site_ca.CA_CERT)
    except browser.MissingTool as exc:
        print(f"No screenshots of the central's page: {exc}")
        return
    base = f"https://127.0.0.1:{page.port}"
    try:
        driver.get(base + "/ingresar")
        driver.find_element("id", "usuario").send_keys(USER)
        driver.find_element("id", "clave").send_keys(password)
        driver.find_element("css selector", "form button[type=submit]").click()
        give_up = time.monotonic() + 15      # every site's picture, and today's roll-up (a second's pace)
        while time.monotonic() < give_up and not all(live.picture for live in page.pictures.of(list(SITES)[:sites])):
            time.sleep(0.2)
        time.sleep(2)
        today = datetime.now(network.config.timezone).date().isoformat()
        for name, path in (("sedes", "/sedes"), ("una-sede", f"/sedes/{next(iter(SITES))}"),
                           ("informe", f"/informe?desde={today}&hasta={today}"), ("equipos", "/equipos")):
            driver.get(base + path)
            for device, width in SHOT_WIDTHS.items():
                browser.save_shot(driver, shots / f"{name}-{device}.png", width)
    finally:
        driver.quit()
