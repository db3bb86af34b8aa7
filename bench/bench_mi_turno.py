"""The "Mi turno" page under its followers, as deployed on a hub: `turnero hub` and `turnero mi-turno` in processes of
their own, a real Mosquitto, the real nginx in front of the guest listener. 2,000 tickets wait; 1,000 phones follow
one each, every phone from a loopback address of its own with its own kept-alive TLS connection.

- The desk's answer (NEXT → the desk's new state) one desk at a time, without followers and then with the 1,000
  refreshing every 5 s as the page asks (200 requests/s): the p99 of each and their ratio, in one run.
- The page's throughput: the same 1,000 followers asking as fast as they can, one request each in turn (each
  address stays within nginx's per-address limit), for --seconds.

The load comes from CLIENTS processes of this bench. Run by hand: `.venv/bin/python -m bench.bench_mi_turno`.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import secrets
import ssl
import subprocess
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from appliance import site as site_config
from appliance.core.public_code import PATH, public_code
from appliance.dev.local_broker import LocalBroker, free_port
from appliance.dev.local_front import LocalFront
from bench.bench_hub_process import LETTERS, TURNERO, Devices, site_file
from tests.harness.busy_day import summary
from tests.harness.page import page_certificate
from tests.harness.roles import wait_until

FOLLOWERS = 1000
CLIENTS = 2                 # load processes
THREADS = 16                # per load process
REFRESH_S = 5               # the page's own refresh while a turn waits


def addresses(count: int) -> list[str]:
    """A loopback address per follower: 127.0.1.1, 127.0.1.2, …"""
    return [f"127.0.{1 + n // 250}.{1 + n % 250}" for n in range(count)]


def follow(port: int, ca_file: str, followers: list[tuple[str, str]], paced: bool, stop, results) -> None:
    """One load process: THREADS threads, each asking for its followers' pages in turn, every REFRESH_S for each
    when `paced`, else as fast as it can, until `stop` is set. Puts the answers' statuses counted on `results`."""
    if paced:   # the phones are not on the hub: the CPU goes first to the hub, nginx and the page
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    context = ssl.create_default_context(cafile=ca_file)
    counts, lock = Counter(), threading.Lock()

    def worker(mine: list[tuple[str, str]]) -> None:
        connections = {source: http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30,
                                                           source_address=(source, 0)) for source, _ in mine}
        gap = REFRESH_S / len(mine) if paced else 0.0
        mine_counts, due = Counter(), time.monotonic()
        while not stop.is_set():
            for source, path in mine:
                if paced:
                    due += gap
                    time.sleep(max(0.0, due - time.monotonic()))
                connection = connections[source]
                try:
                    connection.request("GET", path)
                    answer = connection.getresponse()
                    answer.read()
                    mine_counts[answer.status] += 1
                except (OSError, http.client.HTTPException) as exc:
                    mine_counts[type(exc).__name__] += 1
                    connection.close()
                if stop.is_set():
                    break
        with lock:
            counts.update(mine_counts)

    threads = [threading.Thread(target=worker, args=(followers[n::THREADS],)) for n in range(THREADS)
               if followers[n::THREADS]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(counts))


class Load:
    """CLIENTS processes following the pages until `stop()`, which gives (pages served a second, and every answer's
    status and every error counted: a 429 is nginx refusing an address past its limit, not a page)."""

    def __init__(self, port: int, ca_file: Path, followers: list[tuple[str, str]], *, paced: bool):
        self.results, self._stop = multiprocessing.Queue(), multiprocessing.Event()
        self.processes = [multiprocessing.Process(target=follow, args=(port, str(ca_file), followers[n::CLIENTS],
                                                                       paced, self._stop, self.results))
                          for n in range(CLIENTS)]
        self.began = time.perf_counter()
        for process in self.processes:
            process.start()

    def stop(self) -> tuple[float, Counter]:
        self._stop.set()
        elapsed = time.perf_counter() - self.began
        statuses = Counter()
        for _ in self.processes:
            statuses.update(self.results.get(timeout=120))
        for process in self.processes:
            process.join()
        return sum(n for status, n in statuses.items() if status in (200, 404)) / elapsed, statuses


def public_site(broker, folder: Path) -> tuple[Path, bytes]:
    """The example site on the bench's broker, its page on a guest listener of the loopback; its secret. The
    kiosk's press limits are off: the bench's 2,000 tickets come from one button in a second."""
    path = folder / "site.toml"
    site_file(broker, path)
    cert, key = page_certificate(broker)
    secret = secrets.token_hex(32).encode()
    (folder / "secret").write_bytes(secret)
    port = free_port()
    text = path.read_text(encoding="utf-8").replace("press_limit = 10", "press_limit = 0", 1).replace(
        "kiosk_limit = 20", "kiosk_limit = 0", 1).replace(
        "port = 8443", f"port = {free_port()}\ncert_file = \"{cert}\"\nkey_file = \"{key}\"", 1).replace(
        "http_port = 8080", "http_port = 0", 1).replace("app_port = 8081", f"app_port = {free_port()}", 1)
    text += (f'\n[public]\naddress = "https://127.0.0.1:{port}"\nsecret_file = "{folder / "secret"}"\nlisten = true\n'
             f'host = "127.0.0.1"\nport = {port}\nhttp_port = 0\napp_port = {free_port()}\ncert_file = "{cert}"\n'
             f'key_file = "{key}"\n')
    path.write_text(text, encoding="utf-8")
    return path, secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--presses", type=int, default=600, help="NEXT one desk at a time, without and with load")
    parser.add_argument("--seconds", type=float, default=15, help="length of the throughput run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LocalBroker(Path(tmp) / "broker") as broker:
        path, secret = public_site(broker, Path(tmp))
        config = site_config.load(path)
        # The page's process yields to the hub as its unit says (Nice=10 in systemd/turnero-mi-turno.service).
        roles = [subprocess.Popen([*nice, str(TURNERO), role, "--config", str(path), "--state", str(Path(tmp) / role)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for role, nice in (("hub", []), ("mi-turno", ["nice", "-n", "10"]))]
        devices = Devices(config)
        devices.link.start()
        try:
            # Each phone's connection and its request's to the page: Debian's 768 a worker would refuse some.
            with LocalFront(Path(tmp) / "front", config, connections=4 * FOLLOWERS):
                wait_until(lambda: devices.read() or devices.hub_online, timeout=60, what="the hub online")
                devices.tickets(args.tickets)
                wait_until(lambda: devices.read() or devices.waiting == args.tickets, timeout=300,
                           what="every ticket waiting at the hub")
                day = datetime.now(config.timezone).date().isoformat()    # as Devices.tickets numbers them
                followers = [(source, PATH + public_code(secret, f"{day}/kiosco-1/{LETTERS[n % 6]}{n:04d}"))
                             for source, n in zip(addresses(FOLLOWERS), range(1, FOLLOWERS + 1))]
                alone = [ms for n in range(args.presses) for ms in devices.press([n % 3 + 1])]
                following = Load(config.public.port, broker.ca_file, followers, paced=True)
                time.sleep(2 * REFRESH_S)   # every follower has asked, its connection open
                loaded = [ms for n in range(args.presses) for ms in devices.press([n % 3 + 1])]
                paced_rate, paced_statuses = following.stop()
                flood = Load(config.public.port, broker.ca_file, followers, paced=False)
                time.sleep(args.seconds)
                rate, statuses = flood.stop()
        finally:
            devices.link.stop()
            for role in roles:
                role.terminate()
                role.wait(10)

    p99 = lambda values: sorted(values)[int(0.99 * (len(values) - 1))]   # noqa: E731
    print("| figure | result |")
    print("|---|---|")
    print(f"| desk answer, ms, no phone following ({len(alone)} NEXT, one desk at a time) | {summary(alone)} |")
    print(f"| desk answer, ms, {FOLLOWERS:,} phones refreshing every {REFRESH_S} s ({paced_rate:,.0f} requests/s; "
          f"answers {dict(sorted(paced_statuses.items(), key=str))}) | {summary(loaded)} |")
    print(f"| p99 with / without | {p99(loaded) / p99(alone):.2f} |")
    print(f"| page throughput, {FOLLOWERS:,} followers as fast as they can, {args.seconds:.0f} s | {rate:,.0f} "
          f"pages/s; {dict(sorted(statuses.items(), key=str))} |")


if __name__ == "__main__":
    main()
