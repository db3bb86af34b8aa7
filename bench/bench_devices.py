"""Device benchmarks against real components: Mosquitto on loopback, the real roles with gpiozero mock pins, a
simulated ESC/POS printer and SDL's dummy video driver. Run by hand: `.venv/bin/python -m bench.bench_devices`.

- kiosk button edge -> last byte of the ticket written to the printer
- desk NEXT edge -> the display's flipped frame showing the call, through the broker and the hub
- the display's painter: one 1080p frame with a new call, alone
- each role as its own process (`turnero ROLE`): start to ready (online on the broker), resident memory,
  and the display's CPU while nothing changes
"""
from __future__ import annotations

import os
import queue
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402
from gpiozero.pins.mock import MockFactory  # noqa: E402

from appliance import contract  # noqa: E402
from appliance import site as site_config  # noqa: E402
from appliance.core.link import Link  # noqa: E402
from appliance.desk.unit import DeskUnit  # noqa: E402
from appliance.dev.always_open import AlwaysOpen  # noqa: E402
from appliance.dev.local_broker import LocalBroker  # noqa: E402
from appliance.display.unit import DisplayUnit  # noqa: E402
from appliance.drivers.printer import SimulatedPrinter  # noqa: E402
from appliance.kiosk.unit import KioskUnit  # noqa: E402
from appliance.screens.painter import paint  # noqa: E402
from appliance.screens.scene import build_scene  # noqa: E402
from appliance.screens.window import Screen  # noqa: E402
from appliance.site import BrokerAddress  # noqa: E402
from hub.service import Hub  # noqa: E402
from tests.harness.roles import Ticking, site_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class TimedPrinter(SimulatedPrinter):
    def _raw(self, msg: bytes) -> None:
        super()._raw(msg)
        self.last_byte_at = time.perf_counter()


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):.1f}, p99 {p99:.1f} (min {ordered[0]:.1f}, max {ordered[-1]:.1f})"


def kiosk_latency_ms(config, workdir: Path, presses: int = 200) -> list[float]:
    pins, printer = MockFactory(), TimedPrinter()
    kiosk = KioskUnit(config, "kiosco-1", workdir / "kiosk", pin_factory=pins, printer=printer,
                      opening=AlwaysOpen(), monotonic=Ticking())
    kiosk.start()
    stop = threading.Event()
    loop = threading.Thread(target=lambda: [kiosk.step(0.05) for _ in iter(stop.is_set, True)], daemon=True)
    loop.start()
    pin, samples = pins.pin(kiosk.kiosk.buttons[0].pin), []
    for _ in range(presses):
        issued = len(kiosk.issued)
        began = time.perf_counter()
        pin.drive_low()
        while len(kiosk.issued) == issued:
            time.sleep(0.0005)
        samples.append((printer.last_byte_at - began) * 1000)
        pin.drive_high()
        printer.clear()
    stop.set()
    loop.join()
    kiosk.stop()
    return samples


def next_to_frame_ms(config, workdir: Path, calls: int = 150) -> list[float]:
    flips: queue.Queue = queue.Queue()

    class TimedScreen(Screen):
        def show(self, scene):
            super().show(scene)
            if scene.headline is not None:
                flips.put((scene.headline.number, time.perf_counter()))

    hub = Hub(config, workdir / "hub")
    pins = MockFactory()
    desk = DeskUnit(config, 1, workdir / "desk", pin_factory=pins)
    display = DisplayUnit(config, "pantalla-1", screen=TimedScreen((1920, 1080), fullscreen=False),
                          opening=AlwaysOpen())
    units = (hub, desk, display)
    stop = threading.Event()
    for unit in units:
        unit.start()
        unit.link.wait_connected(5)
    threads = [threading.Thread(target=lambda u=u: [u.step(0.02) for _ in iter(stop.is_set, True)], daemon=True)
               for u in units]
    for thread in threads:
        thread.start()
    sender = Link("kiosco-1", BrokerAddress(config.broker.host, config.broker.port, ca_file=config.broker.ca_file), queue.Queue())
    sender.start()
    sender.wait_connected(5)
    for i in range(calls):
        event = contract.TicketIssued(id=f"b{i}", at=hub.now().isoformat(), source="kiosco-1",
                                      turn_id=f"{hub.today}/kiosco-1/R{i + 1:03d}", number=f"R-{i + 1:03d}",
                                      service="R", preferential=False)
        sender.publish(contract.ticket_topic("kiosco-1"), event.to_json()).wait_for_publish(2)
    while len(hub.ledger.waiting()) < calls:
        time.sleep(0.01)
    samples, pin = [], pins.pin(config.desk_pins.next)
    for i in range(calls):
        expected = f"R-{i + 1:03d}"
        began = time.perf_counter()
        pin.drive_low()
        pin.drive_high()
        while True:
            number, at = flips.get(timeout=5)
            if number == expected:
                break
        samples.append((at - began) * 1000)
        time.sleep(0.06)  # an advisor does not press twice within the desk's bounce time
    stop.set()
    for thread in threads:
        thread.join()
    sender.stop()
    for unit in units:
        unit.stop()
    return samples


def frame_ms(config, frames: int = 52) -> list[float]:
    """paint() of a 1080p frame as a new call comes: its headline is a number never drawn before, and the calls
    before it move down the history (the fonts loaded first, as at start-up)."""
    display = next(iter(config.displays.values()))
    now = datetime.now(config.timezone)
    services = list(config.services.values())
    waiting = [contract.Waiting(service=s.letter, service_name=s.name, normal=4, preferential=1) for s in services]
    calls = [contract.Call(id=f"c{i}", at=now.isoformat(), source="hub", turn_id=f"{now.date()}/kiosco-1/R{i:03d}",
                           number=f"R-{i:03d}", service="R", service_name=services[0].name,
                           preferential=i % 4 == 0, desk=1 + i % 5, desk_name=f"Módulo {1 + i % 5}")
              for i in range(frames + 8)]

    def scene(shown: list):
        board = contract.Board(id="b", at=now.isoformat(), source="hub", calls=shown[::-1], waiting=waiting)
        return build_scene(board, now, size=(1920, 1080), portrait=False, highlight=True, hub_online=True,
                           footer=display.footer)

    surface = pygame.Surface((1920, 1080))
    paint(surface, scene(calls[:8]))
    samples = []
    for i in range(8, len(calls)):
        next_frame = scene(calls[i - 7:i + 1])
        began = time.perf_counter()
        paint(surface, next_frame)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def role_process(config_path: Path, broker: LocalBroker, args: list[str], state: Path, device: str) -> dict:
    """Starts `turnero ROLE` as its own process; measures start to online, RSS, and CPU over 20 idle seconds."""
    seen = threading.Event()
    watcher = Link(f"bench-{device}", broker.address(), queue.Queue(),
                   subscriptions=(contract.status_topic(device),))
    watcher.client.on_message = lambda c, u, m: m.payload == b"online" and seen.set()
    watcher.start()
    watcher.wait_connected(5)
    began = time.perf_counter()
    env = {**os.environ, "STATE_DIRECTORY": str(state)}
    process = subprocess.Popen([str(ROOT / ".venv/bin/turnero"), *args, "--config", str(config_path)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen.wait(30)
    ready_s = time.perf_counter() - began
    time.sleep(3)
    cpu_before, wall_before = _cpu_seconds(process.pid), time.perf_counter()
    time.sleep(20)
    cpu_share = (_cpu_seconds(process.pid) - cpu_before) / (time.perf_counter() - wall_before) * 100
    rss_mb = _rss_mb(process.pid)
    process.terminate()
    process.wait(10)
    watcher.stop()
    return {"ready_s": ready_s, "rss_mb": rss_mb, "cpu_pct": cpu_share}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "broker") as broker:
        tmp = Path(tmp)
        config = site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)
        kiosk = kiosk_latency_ms(config, tmp)
        frame = next_to_frame_ms(config, tmp)
        painted = frame_ms(config)
        text = site_text(broker)
        config_path = tmp / "site.toml"
        config_path.write_text(text, encoding="utf-8")
        roles = {
            "hub": role_process(config_path, broker, ["hub"], tmp / "p-hub", "hub"),
            "kiosk": role_process(config_path, broker, ["kiosk", "--id", "kiosco-1", "--simulated"], tmp / "p-kiosk",
                                  "kiosco-1"),
            "desk": role_process(config_path, broker, ["desk", "--number", "1", "--simulated"], tmp / "p-desk",
                                 "escritorio-1"),
            "display": role_process(config_path, broker, ["display", "--id", "pantalla-1", "--windowed"],
                                    tmp / "p-display", "pantalla-1"),
        }
    print("| figure | result | target |")
    print("|---|---|---|")
    print(f"| kiosk button -> last ticket byte, ms (200 presses) | {percentiles(kiosk)} | p99 <= 30 |")
    print(f"| desk NEXT -> display frame with the call, ms (150 calls) | {percentiles(frame)} | p99 <= 25 |")
    print(f"| display: paint a 1080p frame with a new call, ms ({len(painted)} frames) | {percentiles(painted)} "
          f"| p50 <= 20 |")
    print(f"| display CPU while nothing changes (20 s) | {roles['display']['cpu_pct']:.2f} % of a core | <= 1 % |")
    for name, figures in roles.items():
        print(f"| {name}: start to ready / resident memory | {figures['ready_s']:.2f} s / "
              f"{figures['rss_mb']:.0f} MB | <= 2 s / <= 80 MB |")


if __name__ == "__main__":
    main()
