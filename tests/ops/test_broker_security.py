"""The hub's Mosquitto with users, passwords and ACLs (appliance/ops/broker_files.py), checked against a real
broker running the generated files: LocalBroker with `auth=` uses the same lines as the hub's turnero.conf.

Refusals are observed, not waited for: with MQTT 5 Mosquitto answers a refused QoS 1 publish with PUBACK
reason code 0x87 (not authorized), and a message that must not arrive is published before an allowed one on
the same connection, so once the second has arrived the first would have too."""
import dataclasses
import logging
import queue
import socket
import ssl
import threading

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link, LinkSetupError
from appliance.dev.demo import DemoSite
from appliance.dev.local_broker import LocalBroker
from appliance.ops import site_ca
from appliance.ops.broker_files import BrokerFilesError, write_broker_files
from appliance.site import DEFAULT_CREDENTIALS_DIR
from tests.harness.faults.network import Cable
from tests.harness.page import make_page, page_config
from tests.harness.roles import STEP_DEADLINE_S, wait_until

NOT_AUTHORIZED = 0x87
TIMEOUT = 5.0


def secured_site_file(tmp_path):
    """The example site with its credentials directory where write_broker_files puts them."""
    text = site_config.EXAMPLE.read_text(encoding="utf-8")
    assert text.count("[broker]\n") == 1
    path = tmp_path / "site.toml"
    path.write_text(text.replace("[broker]\n", f'[broker]\ncredentials_dir = "{tmp_path / "auth" / "credentials"}"\n'),
                    encoding="utf-8")
    return path


@pytest.fixture
def secured(tmp_path):
    """(site configuration pointing at the broker, the broker): a real Mosquitto with the generated files."""
    config = site_config.load(secured_site_file(tmp_path))
    write_broker_files(config, tmp_path / "auth")
    with LocalBroker(tmp_path / "broker", auth=tmp_path / "auth") as broker:
        yield config.with_broker(broker.host, broker.port, broker.ca_file), broker


def password(config, device: str) -> str:
    return (config.broker.credentials_dir / device).read_text(encoding="utf-8").strip()


class Client:
    """A bare MQTT 5 client: what the broker answers to each packet, as it answers it."""

    def __init__(self, broker: LocalBroker, user: str | None, secret: str | None, *, client_id: str = "",
                 will: str | None = None):
        self.connack: queue.Queue = queue.Queue()
        self.messages: queue.Queue = queue.Queue()
        self.acks: dict[int, int] = {}
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.tls_set(ca_certs=str(broker.ca_file))
        if user:
            self.client.username_pw_set(user, secret)
        if will:
            self.client.will_set(will, contract.OFFLINE, qos=1, retain=True)
        self.client.on_connect = lambda client, userdata, flags, reason, props: self.connack.put(reason)
        self.client.on_publish = lambda client, userdata, mid, reason, props: self.acks.__setitem__(mid, reason.value)
        self.client.on_subscribe = lambda client, userdata, mid, reasons, props: self.subscribed.set()
        self.client.on_message = lambda client, userdata, message: self.messages.put(message)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.reason = self.connack.get(timeout=TIMEOUT)

    def publish(self, topic: str, payload: bytes = b"x") -> int:
        """The reason code of the broker's PUBACK."""
        info = self.client.publish(topic, payload, qos=1)
        wait_until(lambda: info.mid in self.acks, what=f"the PUBACK for {topic}")
        return self.acks[info.mid]

    def subscribe(self, topic: str) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(TIMEOUT)

    def topics_until(self, sentinel: str) -> list[str]:
        """The topics received up to and including `sentinel` (which must come)."""
        seen = []
        while not seen or seen[-1] != sentinel:
            try:
                seen.append(self.messages.get(timeout=TIMEOUT).topic)
            except queue.Empty:
                raise AssertionError(f"{sentinel} never arrived (got {seen})") from None
        return seen

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect(secured):
    config, broker = secured
    made = []

    def make(device: str | None, secret: str | None = None, **options) -> Client:
        made.append(Client(broker, device, secret if secret is not None or device is None
                           else password(config, device), **options))
        assert made[-1].reason.value == 0, f"{device} could not connect: {made[-1].reason}"
        return made[-1]
    yield make
    for client in made:
        client.close()


def test_anonymous_clients_and_wrong_passwords_are_refused(secured):
    config, broker = secured
    for user, secret in ((None, None), ("kiosco-1", "not-its-password"), ("kiosco-1", password(config, "hub")),
                         ("nadie", password(config, "kiosco-1"))):
        client = Client(broker, user, secret)
        client.client.loop_stop()
        assert client.reason.value == NOT_AUTHORIZED, (user, client.reason)


@pytest.mark.parametrize("file_text, expected", [
    ("not-the-password-of-this-device", "and the password in"),
    (None, "was found and [broker] has no username: anonymous"),
])
def test_a_refused_device_says_which_credentials_it_used_and_what_to_do(secured, tmp_path, caplog, file_text,
                                                                        expected):
    config, broker = secured
    credentials = tmp_path / "on-the-pi"
    credentials.mkdir()
    if file_text:
        (credentials / "kiosco-1").write_text(file_text + "\n", encoding="utf-8")
    link = Link("kiosco-1", broker.address(credentials_dir=credentials), queue.Queue())
    with caplog.at_level(logging.ERROR, logger="appliance.core.link"):
        link.start()
        try:
            record = wait_until(lambda: next((r for r in caplog.records if "credentials" in r.getMessage()), None),
                                what="the refusal in the log")
        finally:
            link.stop()
    text = record.getMessage()
    assert not link.connected
    assert "kiosco-1: the broker refused this device's credentials" in text
    assert expected in text and str(credentials / "kiosco-1") in text
    assert "turnero broker-files" in text and "credentials/kiosco-1" in text


WRITES = {  # device: (topics it must not publish on, its own topics)
    "kiosco-1": ([contract.BOARD_TOPIC, contract.desk_state_topic(1), contract.ticket_topic("kiosco-2"),
                  contract.printer_topic("kiosco-2"), contract.status_topic("hub"), contract.request_topic(1),
                  contract.COMMAND_TOPIC, contract.check_in_topic("kiosco-2"), contract.slip_topic("kiosco-1"),
                  contract.check_in_answer_topic("kiosco-1")],
                 [contract.ticket_topic("kiosco-1"), contract.check_in_topic("kiosco-1")]),
    "escritorio-1": ([contract.BOARD_TOPIC, contract.desk_state_topic(1), contract.request_topic(2),
                      contract.rating_topic(2), contract.ticket_topic("kiosco-1"),
                      contract.status_topic("escritorio-2"), contract.COMMAND_TOPIC],
                     [contract.request_topic(1), contract.rating_topic(1)]),
    # A display writes nothing but its own availability.
    "pantalla-1": ([contract.BOARD_TOPIC, contract.status_topic("hub"), contract.ticket_topic("kiosco-1"),
                    contract.request_topic(1), contract.ALARMS_TOPIC],
                   [contract.status_topic("pantalla-1")]),
    "hub-web": ([contract.BOARD_TOPIC, contract.desk_state_topic(1), contract.status_topic("hub"),
                 contract.check_in_answer_topic("kiosco-1")],
                [contract.ALARMS_TOPIC, contract.COMMAND_TOPIC, contract.slip_topic("kiosco-1"),
                 contract.status_topic("hub-web")]),
}


@pytest.mark.parametrize("device", WRITES)
def test_a_device_publishes_only_its_own_facts(secured, connect, device):
    forged, own = WRITES[device]
    watcher = connect("monitor")
    watcher.subscribe("turnero/#")
    client = connect(device)
    assert [client.publish(topic) for topic in forged] == [NOT_AUTHORIZED] * len(forged)
    assert all(client.publish(topic) < 0x80 for topic in own)
    # The refused ones never reached a subscriber: the allowed ones, sent after them, arrive alone.
    assert watcher.topics_until(own[-1]) == own


def test_a_last_will_on_another_devices_status_is_dropped(secured, connect):
    """Each connection is taken over by the next with the same client id, which sends its will: the forged one
    (the display claiming the hub is offline) is dropped, the display's own one goes out."""
    watcher = connect("monitor")
    watcher.subscribe("turnero/#")
    forger = connect("pantalla-1", client_id="turnero-pantalla-1", will=contract.status_topic("hub"))
    forger.client.loop_stop()
    honest = connect("pantalla-1", client_id="turnero-pantalla-1", will=contract.status_topic("pantalla-1"))
    honest.client.loop_stop()
    last = connect("pantalla-1", client_id="turnero-pantalla-1")
    sentinel = contract.heartbeat_topic("pantalla-1")
    assert last.publish(sentinel) < 0x80
    assert watcher.topics_until(sentinel) == [contract.status_topic("pantalla-1"), sentinel]


def test_devices_receive_only_what_they_may_read(secured, connect):
    kiosk, display, desk = connect("kiosco-1"), connect("pantalla-1"), connect("escritorio-1")
    for client in (kiosk, display):
        client.subscribe("turnero/#")
    desk.subscribe(contract.desk_state_topic("+"))
    hub = connect("hub")
    for topic in (contract.desk_state_topic(2), contract.desk_state_topic(1), contract.BOARD_TOPIC):
        assert hub.publish(topic) < 0x80
    assert kiosk.topics_until(contract.BOARD_TOPIC) == [contract.BOARD_TOPIC]
    assert display.topics_until(contract.BOARD_TOPIC) == [contract.BOARD_TOPIC]
    assert desk.topics_until(contract.desk_state_topic(1)) == [contract.desk_state_topic(1)]
    # A check-in's answer reaches its kiosk; a slip order from the page too.
    answers = contract.check_in_answer_topic("kiosco-1")
    assert hub.publish(answers) < 0x80
    assert kiosk.topics_until(answers) == [answers]
    # A kiosk's printer state reaches the screens (a line for the room when it has no paper), not the desks.
    assert kiosk.publish(contract.printer_topic("kiosco-1")) < 0x80
    assert display.topics_until(contract.printer_topic("kiosco-1")) == [contract.printer_topic("kiosco-1")]


def test_the_largest_payload_of_the_contract_goes_through(secured, connect):
    hub, display = connect("hub"), connect("pantalla-1")
    display.subscribe(contract.BOARD_TOPIC)
    assert hub.publish(contract.BOARD_TOPIC, b"x" * contract.MAX_PAYLOAD_BYTES) < 0x80
    assert len(display.messages.get(timeout=TIMEOUT).payload) == contract.MAX_PAYLOAD_BYTES


def test_a_morning_with_every_role_on_its_own_credentials(secured, tmp_path, monkeypatch):
    """The demo's roles (hub, kiosk, two desks, display) and the coordinators' page, each with its own user."""
    config, broker = secured
    monkeypatch.setattr(site_config, "EXAMPLE", secured_site_file(tmp_path))  # the demo's site, secured
    site = DemoSite(tmp_path / "site", broker, headless=True)
    web = make_page(page_config(site.config, broker), tmp_path / "site" / "state" / "hub")
    site.start()
    web.start()
    try:
        units = (site.hub, site.kiosk, *site.desks.values(), site.display)
        assert [u.link.login.username for u in (*units, web)] == [u.link.device for u in (*units, web)]
        assert all(u.link.wait_connected(TIMEOUT) for u in (*units, web))

        site.take_turn(0)
        wait_until(lambda: len(site.kiosk.issued) == 1, what="the ticket")
        wait_until(lambda: len(site.hub.ledger.waiting()) == 1, what="the hub to queue it")
        number = site.hub.ledger.waiting()[0].number
        desk = next(n for n in site.desks if site.config.kiosks[site.kiosk.kiosk.id].buttons[0].service
                    in site.config.desks[n].services)
        site.next_at(desk)
        wait_until(lambda: site.desks[desk].serving, what="the desk's answer")
        assert site.desks[desk].serving["number"] == number

        def on_screen():
            site.display.step(0.01)
            return site.display.announced
        wait_until(on_screen, what="the display's announcement")
        assert site.display.scene().headline.number == number
        leds = [site.desk_pins[desk].pin(pin) for pin in site.config.desk_pins.rating_leds]
        wait_until(lambda: all(led.state for led in leds), what="the pad inviting a rating")
        site.rate_at(desk, 5)
        wait_until(lambda: any(t.rating == 5 for t in site.hub.ledger.turns.values()), what="the rating at the hub")
        wait_until(lambda: [c["number"] for c in web.live.snapshot().get("calls", [])] == [number],
                   what="the call on the coordinators' page")
    finally:
        web.stop()
        site.stop()


def test_running_it_again_keeps_passwords_adds_new_devices_and_drops_removed_ones(tmp_path):
    config = site_config.load(site_config.EXAMPLE)
    first = write_broker_files(config, tmp_path)
    before = {a.device: first.credential(a.device).read_text() for a in first.accounts}
    assert set(first.added) == set(before) and "escritorio-3" in before
    assert all(oct(first.credential(d).stat().st_mode & 0o777) == "0o600" for d in before)

    desks = {n: d for n, d in config.desks.items() if n != 3}
    desks[4] = dataclasses.replace(config.desks[1], number=4, name="Módulo 4")
    second = write_broker_files(dataclasses.replace(config, desks=desks), tmp_path)
    assert (second.added, second.removed) == (("escritorio-4",), ("escritorio-3",))
    assert not second.credential("escritorio-3").exists()
    after = {a.device: second.credential(a.device).read_text() for a in second.accounts}
    assert {d: p for d, p in after.items() if d != "escritorio-4"} == {d: p for d, p in before.items()
                                                                       if d != "escritorio-3"}
    users = [line.split(":")[0] for line in second.passwd_file.read_text().splitlines()]
    assert sorted(users) == sorted(after)
    acl = second.acl_file.read_text()
    assert "user escritorio-4\n" in acl and "escritorio-3" not in acl and contract.request_topic(4) in acl

    # The kept passwords and the new one open the broker that reads the rewritten files.
    with LocalBroker(tmp_path / "broker", auth=tmp_path) as broker:
        for device in ("kiosco-1", "escritorio-4"):
            client = Client(broker, device, after[device].strip())
            client.close()
            assert client.reason.value == 0, device
        client = Client(broker, "escritorio-3", before["escritorio-3"].strip())
        client.client.loop_stop()
        assert client.reason.value == NOT_AUTHORIZED


def test_the_hub_snippet_listens_on_every_interface_over_tls_only_and_fits_debians_mosquitto_conf(tmp_path):
    files = write_broker_files(site_config.load(site_config.EXAMPLE), tmp_path)
    lines = files.config_file.read_text().splitlines()
    assert [line for line in lines if line.startswith("listener")] == ["listener 8883"]   # nothing in clear
    assert f"certfile {tmp_path.absolute() / 'server.crt'}" in lines and "allow_anonymous false" in lines
    assert f"password_file {tmp_path.absolute() / 'passwd'}" in lines
    assert f"acl_file {tmp_path.absolute() / 'acl'}" in lines
    # Debian's mosquitto.conf sets these: a second one in conf.d stops Mosquitto ("Duplicate ... value").
    keys = {line.split()[0] for line in lines if line and not line.startswith("#")}
    assert not keys & {"persistence_location", "persistence_file", "pid_file", "log_dest"}


def test_the_hub_snippet_listens_on_the_port_of_the_site_file(tmp_path):
    text = site_config.EXAMPLE.read_text(encoding="utf-8").replace("port = 8883", "port = 8884")
    files = write_broker_files(site_config.parse(text), tmp_path)
    assert [line for line in files.config_file.read_text().splitlines() if line.startswith("listener")] == [
        "listener 8884"]


def test_two_devices_with_one_name_are_refused(tmp_path):
    config = site_config.load(site_config.EXAMPLE)
    display = next(iter(config.displays.values()))
    clash = dataclasses.replace(config, displays={"hub": dataclasses.replace(display, id="hub")})
    with pytest.raises(BrokerFilesError, match="display hub and the hub"):
        write_broker_files(clash, tmp_path)


def test_credentials_dir_must_be_an_absolute_path():
    example = site_config.EXAMPLE.read_text(encoding="utf-8")
    text = example.replace("[broker]\n", '[broker]\ncredentials_dir = "creds"\n')
    with pytest.raises(site_config.ConfigError, match="broker.credentials_dir: must be an absolute path"):
        site_config.parse(text)
    default = site_config.parse(example)
    assert default.broker.credentials_dir == DEFAULT_CREDENTIALS_DIR


def test_the_command_says_which_credential_goes_to_which_pi(tmp_path, capsys):
    from appliance.cli import main
    assert main(["broker-files", "--config", str(site_config.EXAMPLE), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for device, what in (("hub", "the hub"), ("kiosco-1", "kiosk kiosco-1"), ("escritorio-2", "desk 2"),
                         ("pantalla-1", "display pantalla-1")):
        line = next(line for line in out.splitlines() if line.split()[:1] == [device])
        assert what in line and line.endswith(str(tmp_path / "credentials" / device))
    assert "/etc/turnero/credentials/<device>" in out and "/etc/mosquitto/conf.d/turnero.conf" in out


# --- TLS: nothing in clear, and only the site's broker is believed --------------------------------------------

def test_nothing_a_device_says_crosses_the_site_network_in_clear(secured, tmp_path):
    config, broker = secured
    secret = password(config, "kiosco-1").encode()
    captures = {}
    for name, target in (("tls", broker), ("plain", LocalBroker(tmp_path / "plain", tls=False).start())):
        cable = Cable(target.port, tap=True)
        address = dataclasses.replace(target.address(username="kiosco-1", password=secret.decode()), port=cable.port)
        link = Link("kiosco-1", address, queue.Queue())
        link.start()
        try:
            assert name == "plain" or link.wait_connected(STEP_DEADLINE_S)
            wait_until(lambda: len(cable.tapped) > 40, what="the device's first bytes on the wire")
        finally:
            link.stop()
            cable.close()
            if target is not broker:
                target.stop()
        captures[name] = bytes(cable.tapped)
    assert secret in captures["plain"]            # the capture does see a password sent in clear...
    assert secret not in captures["tls"] and b"MQTT" not in captures["tls"] and b"kiosco-1" not in captures["tls"]


def test_the_broker_is_believed_only_with_the_site_cas_certificate_for_the_name_dialled(secured, tmp_path):
    _config, broker = secured
    other_ca = site_ca.ensure_ca(tmp_path / "other", "otra sede")

    def handshake(ca_file, name: str) -> None:
        context = ssl.create_default_context(cafile=str(ca_file))
        with socket.create_connection((broker.host, broker.port), timeout=TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname=name):
                pass

    handshake(broker.ca_file, broker.host)
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        handshake(other_ca, broker.host)          # a device given another site's CA, or a forged broker
    with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch|Hostname mismatch"):
        handshake(broker.ca_file, "127.0.0.2")    # the certificate is for the hub's own name and addresses


def test_a_device_without_tls_gets_no_answer_from_the_broker(secured):
    _config, broker = secured
    connect = bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 0])   # MQTT 3.1.1 CONNECT, empty id
    with socket.create_connection((broker.host, broker.port), timeout=TIMEOUT) as plain:
        plain.sendall(connect)
        try:
            answer = plain.recv(16)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"\x20")          # never a CONNACK: the TLS listener hangs up on it


def test_a_device_without_the_site_ca_says_what_to_copy(tmp_path):
    link = Link("kiosco-1", site_config.BrokerAddress("127.0.0.1", 8883, ca_file=tmp_path / "ca.crt"), queue.Queue())
    with pytest.raises(LinkSetupError, match=r"kiosco-1: the site CA certificate .*ca.crt cannot be read .* copy it"):
        link.start()
