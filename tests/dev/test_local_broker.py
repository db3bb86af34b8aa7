"""The local broker the demo and the tests run on: a real Mosquitto, driven through paho-mqtt 2.x."""
import queue
import socket
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.dev import local_broker as broker_module
from appliance.dev.local_broker import BrokerError, LocalBroker, find_mosquitto, free_port

TIMEOUT = 5.0


class Probe:
    """One MQTT v5 client whose callbacks only signal events and enqueue messages."""

    def __init__(self, broker: LocalBroker, name: str):
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.subscribed = threading.Event()
        self.messages: queue.Queue = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv5)
        self.client.tls_set(ca_certs=str(broker.ca_file))
        self.client.on_connect = lambda client, userdata, flags, reason, props: (
            None if reason.is_failure else self.connected.set())
        self.client.on_disconnect = lambda client, userdata, flags, reason, props: self.disconnected.set()
        self.client.on_subscribe = lambda client, userdata, mid, reasons, props: self.subscribed.set()
        self.client.on_message = lambda client, userdata, message: self.messages.put(message)
        # paho sleeps out its reconnect delay before it notices a disconnect(); keep close() quick after a kill.
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=1)  # type: ignore[arg-type]
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self.connected.wait(TIMEOUT), f"{name} could not connect to {broker}"

    def publish_retained(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=True)
        info.wait_for_publish(TIMEOUT)
        assert info.is_published()

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(TIMEOUT)

    def next_message(self) -> mqtt.MQTTMessage:
        try:
            return self.messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("no message within the timeout") from None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def probes():
    made = []

    def make(broker: LocalBroker, name: str) -> Probe:
        made.append(Probe(broker, name))
        return made[-1]

    yield make
    for probe in made:
        probe.close()


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_it_runs_on_loopback_with_its_own_files(broker, tmp_path):
    assert broker.running and broker.host == "127.0.0.1" and accepts(broker.port)
    config = (tmp_path / "broker" / "mosquitto.conf").read_text()
    assert f"listener {broker.port} 127.0.0.1" in config
    assert f"persistence_location {tmp_path / 'broker'}" in config
    # Its log is writable, even as root. Mosquitto writes "running" only after it listens, so the test reads the
    # line it writes before it listens.
    assert f"listen socket on port {broker.port}" in (tmp_path / "broker" / "mosquitto.log").read_text()


def test_a_retained_message_reaches_a_later_subscriber(broker, probes):
    probes(broker, "publisher").publish_retained("turnero/test/estado", "En línea".encode())
    subscriber = probes(broker, "subscriber")
    subscriber.subscribe("turnero/test/#")
    message = subscriber.next_message()
    assert (message.topic, message.payload, message.retain) == ("turnero/test/estado", "En línea".encode(), True)


def test_a_restart_keeps_the_port_and_the_retained_messages(broker, probes):
    port = broker.port
    publisher = probes(broker, "publisher")
    publisher.publish_retained("turnero/test/pantalla", b"A-007 -> 2")
    publisher.close()
    broker.restart()
    assert broker.port == port and broker.running
    subscriber = probes(broker, "subscriber")
    subscriber.subscribe("turnero/test/pantalla")
    message = subscriber.next_message()
    assert (message.payload, message.retain) == (b"A-007 -> 2", True)


def test_kill_drops_the_clients_and_closes_the_port(broker, probes):
    probe = probes(broker, "victim")
    broker.kill()
    assert probe.disconnected.wait(TIMEOUT)
    probe.close()
    assert not broker.running and not accepts(broker.port)
    broker.restart()   # after a crash, on the same port
    assert broker.running and accepts(broker.port)


def test_stop_is_idempotent_and_the_context_manager_stops(tmp_path):
    with LocalBroker(tmp_path / "b") as local:
        port = local.port
        assert accepts(port)
    assert not local.running and not accepts(port)
    local.stop()


def test_a_taken_port_is_a_clear_error(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(BrokerError, match=f"port {port} .*already in use"):
            LocalBroker(tmp_path / "b", port=port).start(timeout=TIMEOUT)


def test_a_broker_that_cannot_start_reports_its_log(tmp_path, monkeypatch):
    local = LocalBroker(tmp_path / "b", port=free_port())
    monkeypatch.setattr(LocalBroker, "_config", lambda self: "no_such_option true\n")
    with pytest.raises(BrokerError, match="mosquitto exited with status .*\n.*--- .*mosquitto"):
        local.start(timeout=TIMEOUT)
    assert not local.running


def test_a_missing_mosquitto_says_how_to_install_it(monkeypatch):
    assert find_mosquitto()
    monkeypatch.setattr(broker_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(broker_module, "DEBIAN_PATH", "/nonexistent/mosquitto")
    with pytest.raises(BrokerError, match=r"apt-get install mosquitto"):
        find_mosquitto()
