"""The hub as its own process (`turnero hub`): killed with SIGKILL in the middle of a burst, restarted, it has
every ticket the kiosk published, once, and serves the queue in order."""
import os
import queue
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.records.journal import DayStore
from tests.harness.roles import STEP_DEADLINE_S, site_text, wait_until

TURNERO = Path(sys.executable).with_name("turnero")


def start_hub(config_path: Path, state: Path) -> subprocess.Popen:
    return subprocess.Popen([str(TURNERO), "hub", "--config", str(config_path), "--state", str(state)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stored_tickets(state: Path) -> list[str]:
    store = DayStore(state / "days")   # a reader: what the hub has written whole, while it goes on writing
    return [r["number"] for day in store.days() for r in store.records(day) if r["kind"] == "ticket"]


def test_a_hub_killed_mid_burst_loses_no_ticket_and_duplicates_none(broker, tmp_path):
    config_path = tmp_path / "site.toml"
    # 300 tickets in a burst, faster than any button: a site without a press limit, which the hub then keeps too.
    config_path.write_text(site_text(broker).replace("press_limit = 10 ", "press_limit = 0  ", 1))
    config = site_config.load(config_path)
    state = tmp_path / "hub"
    statuses: queue.Queue = queue.Queue()
    kiosk = Link("kiosco-1", broker.address(), statuses,
                 subscriptions=(contract.status_topic("hub"),))
    kiosk.start()
    assert kiosk.wait_connected(STEP_DEADLINE_S)

    def hub_online() -> bool:
        while not statuses.empty():
            item = statuses.get()
            if getattr(item, "payload", None) == b"online":
                return True
        return False

    hub = start_hub(config_path, state)
    wait_until(hub_online, what="the hub online")
    today = datetime.now(config.timezone).date().isoformat()
    infos = []

    def publish(n: int):
        event = contract.TicketIssued(id=f"ticket:{n}", at=datetime.now(config.timezone).isoformat(),
                                      source="kiosco-1", turn_id=f"{today}/kiosco-1/R{n:03d}",
                                      number=f"R-{n:03d}", service="R", preferential=False)
        return kiosk.publish(contract.ticket_topic("kiosco-1"), event.to_json())

    for n in range(1, 301):
        infos.append(publish(n))
        if n == 150:
            os.kill(hub.pid, signal.SIGKILL)  # a power cut in the middle of the burst
            hub.wait()
    for info in infos:
        info.wait_for_publish(5)  # all 300 are with the broker, queued for the hub's session
    hub = start_hub(config_path, state)
    try:
        wait_until(lambda: len(stored_tickets(state)) >= 300, what="all tickets stored")
        # Redeliveries come first in the resumed session: once a later ticket is stored, none is pending.
        publish(301).wait_for_publish(5)
        wait_until(lambda: "R-301" in stored_tickets(state), what="a ticket after the burst")
        assert sorted(stored_tickets(state)) == [f"R-{n:03d}" for n in range(1, 302)]
    finally:
        hub.terminate()
        hub.wait(10)
        kiosk.stop()
