"""A hub whose work no longer reaches the devices says so: in its log, in its heartbeat (the coordinators' page
raises an alarm) and to systemd, by no longer feeding the watchdog."""
import dataclasses
import json
import logging
import os
import signal
import socket
import time
from datetime import datetime

import paho.mqtt.client as mqtt

from appliance import contract
from appliance import site as site_config
from appliance.core.runtime import serve
from hub.service import Hub
from hub.web.live import LiveView
from tests.harness.roles import heartbeat

CONFIG = site_config.load(site_config.EXAMPLE)
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=CONFIG.timezone)


def test_state_over_the_packet_limit_is_not_published_and_makes_the_hub_unhealthy(tmp_path, monkeypatch, caplog):
    hub = Hub(CONFIG, tmp_path, now=lambda: NOW)
    sent = []
    monkeypatch.setattr(hub.link, "publish", lambda topic, payload, **kw: sent.append(topic))
    assert hub.healthy()
    monkeypatch.setattr(contract, "MAX_PAYLOAD_BYTES", 200)   # as if the board had outgrown the broker's limit
    with caplog.at_level(logging.ERROR):
        hub._publish_board()
        hub._publish_board()
    assert contract.BOARD_TOPIC not in sent
    assert caplog.text.count("over the broker's limit") == 1            # said once, not at every batch
    assert not hub.healthy()
    assert "cannot publish turnero/v1/hub/board" in hub.link._problem
    monkeypatch.setattr(contract, "MAX_PAYLOAD_BYTES", 64 * 1024)
    hub._publish_board()
    assert sent == [contract.BOARD_TOPIC] and hub.healthy() and hub.link._problem is None
    hub.store.close()


class StubLink:
    device, connected = "hub-web", False


def test_the_coordinators_page_raises_an_alarm_while_the_hub_reports_a_problem(tmp_path):
    from appliance.records.journal import DayStore
    live = LiveView(CONFIG, DayStore(tmp_path / "days"), StubLink(), lambda: NOW)
    live.status["hub"] = contract.ONLINE
    live.take(heartbeat("hub", NOW, problem="cannot publish turnero/v1/hub/board: over the broker's packet limit"))
    live.refresh()
    texts = [alarm["text"] for alarm in live.snapshot()["alarms"]]
    assert any("El equipo hub (servidor central) no logra enviar su estado" in text for text in texts), texts
    live.take(heartbeat("hub", NOW))
    live.refresh()
    assert not any("no logra enviar" in alarm["text"] for alarm in live.snapshot()["alarms"])


def test_the_page_refuses_a_wrong_typed_heartbeat_and_goes_on(tmp_path, caplog):
    from appliance.records.journal import DayStore
    live = LiveView(CONFIG, DayStore(tmp_path / "days"), StubLink(), lambda: NOW)
    bad = heartbeat("kiosco-1", NOW)
    bad.payload = json.dumps({**json.loads(bad.payload), "problem": []}).encode()
    with caplog.at_level(logging.WARNING):
        live.take(bad)
    assert "field 'problem' must be text or null" in caplog.text and live.rejected.total() == 1
    live.take(heartbeat("kiosco-1", NOW))
    assert "kiosco-1" in live.skews


class Unit:
    """A role that is healthy or not, as told; it sends SIGINT to itself after a number of steps."""

    def __init__(self, healthy: bool, steps: int = 40):
        self._healthy, self._steps = healthy, steps
        self.link = self

    device = "prueba"

    def start(self): pass
    def stop(self): pass
    def wait_connected(self, timeout): return True
    def heartbeat(self): pass
    def healthy(self): return self._healthy

    def step(self):
        time.sleep(0.005)
        self._steps -= 1
        if self._steps == 0:
            os.kill(os.getpid(), signal.SIGINT)


def notifications(tmp_path, monkeypatch, unit) -> list[str]:
    path = tmp_path / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "150000")   # a ping every 50 ms: a few in the unit's 0.2 s (a socket queues 10)
    previous = signal.getsignal(signal.SIGINT)
    try:
        serve(unit)
    finally:
        signal.signal(signal.SIGINT, previous)
    received = []
    while True:
        try:
            received.append(listener.recv(100).decode())
        except BlockingIOError:
            listener.close()
            return received


def test_the_watchdog_is_fed_only_while_the_role_is_healthy(tmp_path, monkeypatch):
    assert "WATCHDOG=1" in notifications(tmp_path, monkeypatch, Unit(healthy=True))
    (tmp_path / "notify").unlink()
    sick = notifications(tmp_path, monkeypatch, Unit(healthy=False))
    assert "READY=1" in sick and "WATCHDOG=1" not in sick


def test_a_batch_that_records_more_ids_than_one_packet_holds_names_them_in_several(tmp_path, monkeypatch):
    hub = Hub(CONFIG, tmp_path, now=lambda: NOW)
    sent = []
    monkeypatch.setattr(hub.link, "publish", lambda topic, payload, **kw: sent.append((topic, payload)))
    monkeypatch.setattr(hub.link, "ack", lambda mid, qos: None)
    for n in range(1, 451):
        ticket = contract.TicketIssued(id=f"ticket:{'x' * 100}{n}", at=NOW.isoformat(), source="kiosco-1",
                                       turn_id=f"{NOW.date()}/kiosco-1/R{n:03d}", number=f"R-{n:03d}", service="R",
                                       preferential=False)
        message = mqtt.MQTTMessage(n, contract.ticket_topic("kiosco-1").encode())
        message.payload, message.qos = ticket.to_json(), 1
        hub.inbox.put(message)
    assert hub.step(timeout=0) == 450
    applied = [contract.expect(payload, contract.Applied) for topic, payload in sent
               if topic == contract.applied_topic("kiosco-1")]
    assert [len(a.ids) for a in applied] == [200, 200, 50]
    assert len({i for a in applied for i in a.ids}) == 450
    assert max(len(payload) for _, payload in sent) <= contract.MAX_PAYLOAD_BYTES
    hub.store.close()


def test_a_site_with_a_central_watches_its_shipper_like_any_device(tmp_path):
    from appliance.records.journal import DayStore
    central = site_config.CentralLink("cali", "central.example.org", 8883, tmp_path / "ca.crt", tmp_path / "central")
    live = LiveView(dataclasses.replace(CONFIG, central=central), DayStore(tmp_path / "days"), StubLink(), lambda: NOW)
    live.status["hub-ship"] = contract.OFFLINE
    live.refresh()
    devices = {device["id"]: device for device in live.snapshot()["devices"]}
    assert devices["hub-ship"]["role"] == "Envío del registro a la central"
    assert any("hub-ship" in alarm["text"] for alarm in live.snapshot()["alarms"])
