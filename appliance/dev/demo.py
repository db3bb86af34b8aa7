"""The demo: the whole site on one machine, against its own Mosquitto, with simulated hardware.

A hub, one kiosk, two desks with their rating pads and one display, each with its own MQTT connection and its
own mock pins, exactly as on separate Pis. With a screen, keys stand in for the buttons; without one (or with
--headless) a scripted morning runs and leaves screenshots, tickets and the CSV export in the output folder.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import random
import secrets
import threading
import time
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

from appliance import contract
from appliance import site as site_config
from appliance.core.hours import OpeningHours
from appliance.core.slots import Slots
from appliance.desk.unit import DeskUnit
from appliance.dev.always_open import AlwaysOpen
from appliance.dev.local_broker import LocalBroker, free_port
from appliance.dev.network import site_page
from appliance.display.unit import DisplayUnit
from appliance.drivers.gpio import press
from appliance.drivers.printer import SimulatedPrinter
from appliance.drivers.reader import SimulatedReader
from appliance.drivers.sound import Announcer, EspeakSpeaker, SilentSpeaker
from appliance.kiosk.main import button_keys
from appliance.kiosk.preview import TicketKeeper
from appliance.kiosk.unit import KioskUnit
from appliance.ops import site_ca
from appliance.screens.scene import CLOSED_TITLE

log = logging.getLogger(__name__)
DESKS = (1, 2)
SITES = {"cali": "Comfenalco Valle · CIS Cali", "palmira": "Comfenalco Valle · CIS Palmira",
         "buga": "Comfenalco Valle · CIS Buga", "tulua": "Comfenalco Valle · CIS Tuluá",
         "cartago": "Comfenalco Valle · CIS Cartago"}
RATING_KEYS = {**{f"f{v}": (1, v) for v in range(1, 6)}, **{f"f{v + 5}": (2, v) for v in range(1, 6)}}


class DemoSite:
    """Every role of the demo, each running its own loop in its own thread (the display in the main one)."""

    def __init__(self, out: Path, broker: LocalBroker, *, headless: bool, base: site_config.SiteConfig | None = None):
        from gpiozero.pins.mock import MockFactory

        from appliance.screens.window import Screen
        from hub.mi_turno import MiTurnoPage
        from hub.service import Hub
        from hub.shipper import Shipper

        self.out = out
        self.broker = broker
        # `base`: a site of a network, with its own broker's credentials and its [central] (dev/network.py).
        base = base or site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)
        kiosk = dataclasses.replace(next(iter(base.kiosks.values())), printer={"kind": "simulated"})
        display = next(iter(base.displays.values()))
        if headless:  # screenshots at 720p keep the demo's output folder light
            display = dataclasses.replace(display, size=(1280, 720))
        # The scripted morning's citizens come faster than any real queue: no press limits, and an attention of a
        # few seconds can be rated.
        state = out / "state"
        self.config = dataclasses.replace(base, kiosks={kiosk.id: kiosk}, displays={display.id: display},
                                          press_limit=0, kiosk_limit=0, rating_grace_s=1.0,
                                          rating_min_attention_s=1.0, public=_public_page(state))
        self.kiosk_pins, self.desk_pins = MockFactory(), {n: MockFactory() for n in DESKS}
        self.kiosk_keys = {key.key: key for key in button_keys(self.config, kiosk.id)}   # as a kiosk alone has
        self.hub = Hub(self.config, state / "hub")
        self.kiosk = KioskUnit(self.config, kiosk.id, state / kiosk.id, pin_factory=self.kiosk_pins,
                               printer=SimulatedPrinter(), on_printed=TicketKeeper(out / "tickets"),
                               opening=AlwaysOpen(), reader=SimulatedReader)
        # The site's coordinators' page: the demo gives its orders (the appointments) through its connection, and
        # at a site of a network it publishes the site's live picture for the central.
        self.config, self.coordinators = site_page(self.config, state / "hub")
        self.desks = {n: DeskUnit(self.config, n, state / contract.desk_device(n), pin_factory=self.desk_pins[n])
                      for n in DESKS}
        speaker = SilentSpeaker() if headless else EspeakSpeaker(volume=display.volume)
        self.screen = Screen(display.size, fullscreen=False, title="Turnero · demo")
        self.display = DisplayUnit(self.config, display.id, screen=self.screen, announcer=Announcer(speaker),
                                   key_help=None if headless else self.key_help(), state_dir=state / display.id,
                                   opening=AlwaysOpen())
        self.shipper = Shipper(self.config, state / "hub" / "days", state / "hub-ship") if base.central else None
        # The tickets' QR codes open the "Mi turno" page, served here over HTTPS with the broker's certificate
        # (no nginx in the demo; on a hub, nginx serves it to the guest Wi-Fi).
        tls = broker.ca_file.parent
        self.page = MiTurnoPage(self.config, tls=(site_ca.cert_file(tls), site_ca.key_file(tls)))
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(unit,), name=name, daemon=True)
                         for name, unit in (("hub", self.hub), ("kiosk", self.kiosk), ("mi-turno", self.page),
                                            *((f"desk-{n}", d) for n, d in self.desks.items()),
                                            *((("ship", self.shipper),) if self.shipper else ()))]

    def key_help(self) -> str:
        keys = ", ".join(f"{key.key} {key.what}" for key in self.kiosk_keys.values())
        return (f"Teclas: turno: {keys} · 1/2 siguiente en módulo 1/2 · F1-F5 calificar módulo 1, "
                f"F6-F10 módulo 2 · Esc salir")

    def _loop(self, unit) -> None:
        while not self._stop.is_set():
            unit.step(0.05)

    @property
    def units(self) -> list:
        return [self.hub, self.kiosk, self.page, *self.desks.values(), self.display,
                *([self.shipper] if self.shipper else [])]

    def start(self) -> None:
        for unit in self.units:
            unit.start()
        self.coordinators.start()
        for thread in self._threads:
            thread.start()
        for unit in self.units:
            unit.link.wait_connected(5)
        self.coordinators.link.wait_connected(5)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self.coordinators.stop()
        for unit in reversed(self.units):
            unit.stop()
        self.screen.close()

    def order(self, action: str, deadline_s: float = 10.0, **fields) -> dict | None:
        """A coordinator's order, as the page gives it; the hub's record of it (None if none came in time)."""
        command = contract.Command(id=contract.new_id(), at=datetime.now(self.config.timezone).isoformat(),
                                   source="hub-web", action=action, coordinator="Demostración", **fields)
        self.coordinators.link.publish(contract.COMMAND_TOPIC, command.to_json()).wait_for_publish(2)
        give_up = time.monotonic() + deadline_s
        while command.id not in self.hub.ledger.commands and time.monotonic() < give_up:
            time.sleep(0.05)
        return self.hub.ledger.commands.get(command.id)

    # --- buttons -------------------------------------------------------------------------------------

    def take_turn(self, button_index: int) -> None:
        press(self.kiosk_pins, self.kiosk.kiosk.buttons[button_index].pin)

    def next_at(self, desk: int) -> None:
        press(self.desk_pins[desk], self.config.desk_pins.next)

    def rate_at(self, desk: int, value: int) -> None:
        press(self.desk_pins[desk], self.config.desk_pins.rating[value - 1])

    def on_key(self, key: str) -> bool:
        """Returns False when the demo should end."""
        if key in ("quit", "escape"):
            return False
        if key in self.kiosk_keys:
            press(self.kiosk_pins, self.kiosk_keys[key].pin)
        elif key in ("1", "2"):
            self.next_at(int(key))
        elif key in RATING_KEYS:
            self.rate_at(*RATING_KEYS[key])
        return True

    def export(self) -> Path:
        from appliance.records.turns_csv import write_csv
        from hub.export import rows
        names = {letter: s.name for letter, s in self.config.services.items()}
        today = self.config.today()
        path = self.out / "export.csv"
        write_csv(path, rows(self.hub.store, today, today, names))
        return path


def _public_page(state: Path) -> site_config.PublicSettings:
    """The demo's "Mi turno" page on a free loopback port, with a secret of its own."""
    secret = state / "public-secret"
    if not secret.exists():
        secret.parent.mkdir(parents=True, exist_ok=True)
        secret.write_text(secrets.token_hex(32))
    port = free_port()
    return site_config.PublicSettings(address=f"https://127.0.0.1:{port}", secret_file=secret, app_port=port)


def _headless() -> None:
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"


def run_demo(*, headless: bool, seconds: float, out: Path) -> int:
    headless = headless or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless:
        _headless()
    out.mkdir(parents=True, exist_ok=True)
    with LocalBroker(out / "broker") as broker:
        site = DemoSite(out, broker, headless=headless)
        site.start()
        try:
            if headless:
                _scripted_morning(site, seconds)
            else:
                _interactive(site)
        finally:
            site.stop()
    csv_path = site.export()
    appointment = [p.name for pattern in ("*-cita.png", "*-RC-*.png") for p in sorted((out / "tickets").glob(pattern))]
    print(f"\nDemo finished. In {out}/:\n  tickets/   {len(list((out / 'tickets').glob('*.bin')))} tickets and "
          f"slips (.bin ESC/POS bytes and .png previews)\n  screens/   display screenshots\n  {csv_path.name}  "
          f"the hub's CSV export\n  Each ticket's QR code opened {site.config.public.address}/t/… while the demo "
          f"ran (a browser that trusts {site.broker.ca_file})")
    if appointment:
        print(f"  an appointment: its slip and its ticket, tickets/{' and tickets/'.join(appointment)}")
    return 0


def _interactive(site: DemoSite) -> None:
    print(site.key_help())
    while True:
        if not all(site.on_key(key) for key in site.screen.keys()):
            return
        site.display.step(0.03)


def _scripted_morning(site: DemoSite, seconds: float, seed: int = 7) -> None:
    """Citizens arrive and take turns, advisors call them, most citizens rate; screenshots along the way."""
    rng = random.Random(seed)
    shots = site.out / "screens"
    shots.mkdir(parents=True, exist_ok=True)
    preferential = [i for i, b in enumerate(site.kiosk.kiosk.buttons) if b.preferential]
    normal = [i for i, b in enumerate(site.kiosk.kiosk.buttons) if not b.preferential]
    start = time.monotonic()
    next_arrival, next_call = start, {n: start + 1.5 + n for n in DESKS}
    last_shot, calls_seen = 0.0, 0
    while (now := time.monotonic()) - start < seconds:
        if now >= next_arrival:
            site.take_turn(rng.choice(preferential if rng.random() < 0.25 else normal))
            next_arrival = now + rng.uniform(0.4, 1.2)
        for desk, due in next_call.items():
            if now >= due:
                if site.desks[desk].serving and rng.random() < 0.8:
                    site.rate_at(desk, rng.choices((5, 4, 3, 2, 1), weights=(50, 30, 10, 6, 4))[0])
                site.next_at(desk)
                next_call[desk] = now + rng.uniform(2.0, 4.0)
        site.display.step(0.02)
        if len(site.display.announced) != calls_seen and now - last_shot > 2.0:
            calls_seen, last_shot = len(site.display.announced), now
            site.screen.save(shots / f"pantalla-{int(now - start):03d}s.png")
    site.display.step(0.2)
    site.screen.save(shots / "pantalla-final.png")
    _appointments(site)
    _holiday(site, shots)


def _appointments(site: DemoSite, deadline_s: float = 30.0) -> None:
    """A citizen who cannot wait is booked at the next slot: the kiosk prints the slip the page asks for, reads its
    QR code back and prints the appointment's ticket, which a desk then calls first. Another gets the one-click
    appointment of the next open day. The demo runs at any hour: its hub books in a site open all day, every day."""
    config = site.config
    if config.appointments is None:
        return
    around_the_clock = dataclasses.replace(config, hours=dataclasses.replace(
        config.hours, days=tuple(range(7)), periods=((dt_time(0, 0), dt_time(23, 59)),), closed=()), holidays=None)
    site.hub.calendar.slots = Slots(around_the_clock)
    now = datetime.now(config.timezone)
    minutes = config.appointments.slot_min
    slot = now.replace(second=0, microsecond=0) + timedelta(minutes=minutes - now.minute % minutes)
    booked = site.order("book", service="R", slot=slot.isoformat())
    site.order("book_first", service="S")
    if booked is None or booked.get("refused"):
        log.warning("demo: no appointment booked (%s)", booked and booked.get("refused"))
        return
    slip = contract.AppointmentSlip(id=contract.new_id(), at=now.isoformat(), source="hub-web",
                                    appointment=booked["appointment"], service="R", slot=booked["slot"])
    site.coordinators.link.publish(contract.slip_topic(site.kiosk.kiosk.id), slip.to_json()).wait_for_publish(2)
    tickets, give_up = site.out / "tickets", time.monotonic() + deadline_s
    while not any(tickets.glob("*-cita.bin")) and time.monotonic() < give_up:
        time.sleep(0.05)
    site.kiosk.reader.scan(booked["appointment"])      # the citizen comes back with the slip
    while not any(tickets.glob("*-RC-*.bin")) and time.monotonic() < give_up:
        time.sleep(0.05)
    desk = next(n for n in DESKS if "R" in config.desks[n].services)
    while not any(c["turn_id"].endswith("RC001") for c in site.hub.ledger.calls) and time.monotonic() < give_up:
        site.next_at(desk)
        site.display.step(0.5)


def _holiday(site: DemoSite, shots: Path, deadline_s: float = 30.0) -> None:
    """The site on a public holiday, once the morning's citizens have all been called: a press prints the slip
    that names the holiday, and the screen says the site is closed."""
    give_up = time.monotonic() + deadline_s
    while site.hub.ledger.waiting() and time.monotonic() < give_up:
        for desk in DESKS:
            site.next_at(desk)
        site.display.step(0.3)
    holiday = datetime(2026, 12, 8, 10, 0, tzinfo=site.config.timezone)      # La Inmaculada Concepción
    opening = OpeningHours(site.config.hours, site.config.holidays)
    for unit in (site.kiosk, site.display):   # the hours before the clock: a kiosk never sees an open holiday
        unit.hours = opening
        unit.now = lambda: holiday
    site.take_turn(0)
    slips = site.out / "tickets"
    while time.monotonic() < give_up and not (
            (site.display.scene().idle or "").startswith(CLOSED_TITLE) and any(slips.glob("*-aviso.png"))):
        site.display.step(0.1)
    site.screen.save(shots / "pantalla-festivo.png")


def main(args) -> int:
    """`turnero demo`."""
    if args.sites:
        from appliance.dev.demo_network import run_network
        return run_network(sites=args.sites, seconds=args.seconds, out=args.out)
    return run_demo(headless=args.headless, seconds=args.seconds, out=args.out)
