"""The desk's answer as a busy centre gets it: `turnero hub` in its own process, as systemd runs it, against a real
Mosquitto, with long queues. Desks press NEXT one at a time, then all twenty at the same moment, round after round;
this process is the kiosk and the desks (their messages), so nothing of theirs shares the hub's interpreter, and no
tracer runs in it.
The hub's memory is its resident set (VmRSS, from /proc): at its start, with the queues full, and at the end.

Run by hand: `.venv/bin/python -m bench.bench_hub_process [--tickets 2000] [--rounds 40]`.
"""
from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")   # the busy day's harness imports the display

from appliance import contract  # noqa: E402
from appliance import site as site_config  # noqa: E402
from appliance.core.link import Link  # noqa: E402
from appliance.dev.local_broker import LocalBroker  # noqa: E402
from tests.harness.busy_day import summary  # noqa: E402
from tests.harness.roles import site_text, wait_until  # noqa: E402

DESKS = 20
TURNERO = Path(sys.executable).with_name("turnero")
LETTERS = "RSFEVC"     # the example kiosk's normal buttons


def site_file(broker, path: Path) -> site_config.SiteConfig:
    """The example site on the bench's broker, with desks 4 to 20 attending every service."""
    extra = "".join(f'[[desks]]\nnumber = {n}\nname = "Módulo {n}"\nservices = {list(LETTERS)!r}\n'
                    f'advisor = "Asesor {n}"\n\n'.replace("'", '"') for n in range(4, DESKS + 1))
    path.write_text(site_text(broker).replace("[desk_pins]", extra + "[desk_pins]", 1), encoding="utf-8")
    return site_config.load(path)


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


class Devices:
    """The kiosk's and the desks' messages, and what the hub publishes back: its status, board and desk states."""

    def __init__(self, config: site_config.SiteConfig):
        self.config, self.inbox = config, queue.Queue()
        self.link = Link("banco", config.broker, self.inbox, subscriptions=(
            contract.status_topic("hub"), contract.BOARD_TOPIC, f"{contract.ROOT}/desk/+/state"))
        self.hub_online, self.waiting, self.answered = False, -1, set()

    def read(self) -> None:
        while not self.inbox.empty():
            item = self.inbox.get()
            if not hasattr(item, "topic"):
                continue
            if item.topic == contract.status_topic("hub"):
                self.hub_online = contract.is_online(item.payload)
            elif item.topic == contract.BOARD_TOPIC:
                board = contract.expect(item.payload, contract.Board)
                self.waiting = sum(w.normal + w.preferential for w in board.waiting)
            else:
                self.answered.add(contract.expect(item.payload, contract.DeskState).answered)

    def tickets(self, count: int) -> None:
        now = datetime.now(self.config.timezone)
        for n in range(1, count + 1):
            letter = LETTERS[n % len(LETTERS)]
            turn = f"{now.date().isoformat()}/kiosco-1/{letter}{n:04d}"
            event = contract.TicketIssued(id=f"ticket:{turn}", at=now.isoformat(), source="kiosco-1", turn_id=turn,
                                          number=f"{letter}-{n:04d}", service=letter, preferential=False)
            self.link.publish(contract.ticket_topic("kiosco-1"), event.to_json())

    def press(self, desks: list[int]) -> list[float]:
        """These desks press NEXT at once; each one's answer time in ms, from its own press."""
        pressed = {}
        for desk in desks:
            request = contract.DeskRequest(id=contract.new_id(), at=datetime.now(self.config.timezone).isoformat(),
                                           source=contract.desk_device(desk), desk=desk, action="next")
            pressed[request.id] = time.perf_counter()
            self.link.publish(contract.request_topic(desk), request.to_json(), expiry_s=60)
        answers = {}
        deadline = time.perf_counter() + 10
        while len(answers) < len(pressed) and time.perf_counter() < deadline:
            item = self.inbox.get(timeout=max(0.0, deadline - time.perf_counter()))
            if hasattr(item, "topic") and item.topic.endswith("/state"):
                answered = contract.expect(item.payload, contract.DeskState).answered
                if answered in pressed and answered not in answers:
                    answers[answered] = (time.perf_counter() - pressed[answered]) * 1000
        if len(answers) < len(pressed):
            raise SystemExit(f"{len(pressed) - len(answers)} desks had no answer within 10 s")
        return list(answers.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000, help="tickets waiting before the desks start")
    parser.add_argument("--rounds", type=int, default=40,
                        help="rounds of all the desks at once (and half as many presses of one desk at a time)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "broker") as broker:
        config_path = Path(tmp) / "site.toml"
        config = site_file(broker, config_path)
        hub = subprocess.Popen([str(TURNERO), "hub", "--config", str(config_path), "--state", str(Path(tmp) / "hub")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        devices = Devices(config)
        devices.link.start()
        try:
            wait_until(lambda: devices.read() or devices.hub_online, timeout=60, what="the hub online")
            memory = [("start", resident_mb(hub.pid))]
            began = time.perf_counter()
            devices.tickets(args.tickets)
            wait_until(lambda: devices.read() or devices.waiting == args.tickets, timeout=300,
                       what="every ticket waiting at the hub")
            loaded = time.perf_counter() - began
            memory.append((f"{args.tickets:,} waiting", resident_mb(hub.pid)))
            alone = [ms for n in range(args.rounds * DESKS // 2) for ms in devices.press([n % DESKS + 1])]
            together = [ms for _ in range(args.rounds) for ms in devices.press(list(range(1, DESKS + 1)))]
            memory.append((f"after {len(alone) + len(together):,} calls", resident_mb(hub.pid)))
        finally:
            devices.link.stop()
            hub.terminate()
            hub.wait(10)
    print("| figure | result |")
    print("|---|---|")
    print(f"| {args.tickets:,} tickets recorded and queued | {loaded:.1f} s, {args.tickets / loaded:,.0f} tickets/s |")
    print(f"| desk answer, ms: one desk at a time ({len(alone):,} NEXT, queues of {args.tickets:,} and less) "
          f"| {summary(alone)} |")
    print(f"| desk answer, ms: {DESKS} desks at the same moment ({len(together):,} NEXT) | {summary(together)} |")
    print("| hub's resident memory, MB | " + "; ".join(f"{label} {mb:.1f}" for label, mb in memory) + " |")


if __name__ == "__main__":
    main()
