"""Structure fuzzing of the real roles, as a foreign MQTT client holding a device's own credentials would try it.

The hub (with its coordinators' page), a kiosk, a desk and a display run as their own `turnero` processes against
a real Mosquitto configured by `turnero broker-files` (users, passwords, ACL, client ids bound to users). A hostile
client publishes, on every topic a device may write, mutations of valid payloads: every field and every envelope
key given every wrong JSON type, lone surrogates, control and bidi characters, empty and oversized text; nesting
swept from 10 levels to past the recursion limit; payloads up to the broker's packet limit; bytes that are not
UTF-8, a byte-order mark, UTF-16; retained copies; ids reused across kinds; another device's client id.

After each batch every process is still running, the hub still answers a NEXT, no log line is unbounded and no
traceback was printed; at the end a restarted hub stays up with the retained poison still on the broker.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance import contract
from appliance import site as site_config
from appliance.dev.local_broker import LocalBroker, free_port
from appliance.ops.broker_files import MAX_PACKET_BYTES, MONITOR, write_broker_files
from appliance.site import CA_NAME
from tests.harness.page import page_text
from tests.harness.roles import STEP_DEADLINE_S, wait_until

TURNERO = Path(sys.executable).with_name("turnero")
LONGEST_LOG_LINE = 1_000          # a refusal is one bounded line, whatever the payload held
WRONG = [("null", None), ("true", True), ("zero", 0), ("minus one", -1), ("2**64", 2 ** 64), ("1.5", 1.5),
         ("a list", []), ("an object", {}), ("a list of objects", [{}]), ("empty text", ""), ("a lone surrogate",
         "R-\ud800"), ("a NUL", "S-3002\u0000"), ("an escape sequence", "\x1b[2J"), ("a bidi override", "\u202eabc"),
         ("20,000 characters", "x" * 20_000), ("60,000 digits", "1" * 60_000)]
DEPTHS = (10, 100, 500, 900, 990, 1_000, 1_100, 5_000, 20_000)


# --- the site ------------------------------------------------------------------------------------------------

class ProcessSite:
    """The broker, the site file and the four role processes, with their logs."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        text = site_config.EXAMPLE.read_text(encoding="utf-8")
        port, credentials = free_port(), tmp / "auth" / "credentials"
        text = text.replace("port = 8883", f'port = {port}\ncredentials_dir = "{credentials}"', 1)
        self.config_path = tmp / "site.toml"
        self.config_path.write_text(text, encoding="utf-8")
        write_broker_files(site_config.load(self.config_path), tmp / "auth")
        self.broker = LocalBroker(tmp / "broker", port=port, auth=tmp / "auth").start()
        self.config_path.write_text(page_text(text, self.broker, free_port()), encoding="utf-8")
        shutil.copy(self.broker.ca_file, credentials / CA_NAME)     # as the installer hands it to each device
        self.config = site_config.load(self.config_path)
        self.roles = {"hub": ["hub"], "kiosk": ["kiosk", "--id", "kiosco-1", "--simulated"],
                      "desk": ["desk", "--number", "1", "--simulated"],
                      "display": ["display", "--id", "pantalla-1", "--windowed"]}
        self.processes: dict[str, subprocess.Popen] = {}
        for role in self.roles:
            self.start(role)

    def log(self, role: str) -> Path:
        return self.tmp / f"{role}.log"

    def start(self, role: str) -> None:
        with open(self.log(role), "ab") as log:
            self.processes[role] = subprocess.Popen(
                [str(TURNERO), *self.roles[role][:1], "--config", str(self.config_path), "--state",
                 str(self.tmp / "state" / role), *self.roles[role][1:]],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def stop(self, role: str) -> None:
        process = self.processes.pop(role)
        process.send_signal(signal.SIGTERM)
        process.wait(STEP_DEADLINE_S)

    def password(self, device: str) -> str:
        return (self.config.broker.credentials_dir / device).read_text(encoding="utf-8").strip()

    def close(self) -> None:
        for role in list(self.processes):
            self.stop(role)
        self.broker.stop()


class Client:
    """A bare MQTT 5 client with a device's credentials: publishes anything and waits for the broker's PUBACK."""

    def __init__(self, site: ProcessSite, user: str, *, client_id: str = ""):
        self.messages: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self._acked: set[int] = set()
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.tls_set(ca_certs=str(site.broker.ca_file))
        self.client.username_pw_set(user, site.password(user))
        self.client.on_connect = lambda *args: self.connected.set()
        self.client.on_publish = lambda client, userdata, mid, reason, props: self._ack(mid)
        self.client.on_message = lambda client, userdata, message: self.messages.put(message)
        self.client.connect(site.broker.host, site.broker.port)
        self.client.loop_start()
        assert self.connected.wait(STEP_DEADLINE_S), f"{user} could not connect"

    def _ack(self, mid: int) -> None:
        with self._lock:
            self._acked.add(mid)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        wait_until(lambda: info.mid in self._acked, timeout=STEP_DEADLINE_S, what=f"the PUBACK on {topic}")

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    running = ProcessSite(tmp_path_factory.mktemp("fuzz-site"))
    desk2 = Client(running, contract.desk_device(2))   # answers are read on desk 2's state, which no process uses
    desk2.subscribe(contract.desk_state_topic(2))
    running.desk2 = desk2
    try:
        wait_until(lambda: answers_next(running, timeout=1), timeout=STEP_DEADLINE_S, what="the hub answering")
        yield running
    finally:
        desk2.close()
        running.close()


def answers_next(site: ProcessSite, timeout: float = STEP_DEADLINE_S) -> bool:
    """Desk 2 presses NEXT; whether the hub answers it within `timeout` (its retained desk state names the
    request)."""
    request = contract.DeskRequest(id=contract.new_id(), at=now(site), source=contract.desk_device(2), desk=2,
                                   action="next")
    site.desk2.publish(contract.request_topic(2), request.to_json())
    try:
        wait_until(lambda: answered(site.desk2, request.id), timeout=timeout, what="the answer")
    except AssertionError:
        return False
    return True


def answered(desk: Client, request_id: str) -> bool:
    while not desk.messages.empty():
        if json.loads(desk.messages.get().payload).get("answered") == request_id:
            return True
    return False


def now(site: ProcessSite) -> str:
    return datetime.now(site.config.timezone).isoformat(timespec="milliseconds")


def assert_all_well(site: ProcessSite, after: str) -> None:
    for role, process in site.processes.items():
        assert process.poll() is None, f"{role} ended after {after}:\n{tail(site.log(role))}"
    assert answers_next(site), f"the hub did not answer a NEXT after {after}:\n{tail(site.log('hub'))}"
    for role in site.processes:
        text = site.log(role).read_text(encoding="utf-8", errors="replace")
        assert "Traceback" not in text, f"{role} printed a traceback after {after}:\n{tail(site.log(role))}"
        longest = max((len(line) for line in text.splitlines()), default=0)
        assert longest <= LONGEST_LOG_LINE, f"{role} logged a line of {longest} characters after {after}"


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


# --- mutations --------------------------------------------------------------------------------------------

def as_json(value) -> bytes:
    # ensure_ascii: a lone surrogate travels as the escape "\ud800", which json.loads accepts.
    return json.dumps(value).encode()


def mutations(message: contract.Message) -> list[tuple[str, bytes]]:
    """Every field and envelope key given every wrong value, the nesting swept, sizes up to the packet limit,
    and bytes that are not the contract's encoding."""
    base = json.loads(message.to_json())
    found = [(f"{key} = {label}", as_json({**base, key: value})) for key in base for label, value in WRONG]
    found += [(f"{key} missing", as_json({k: v for k, v in base.items() if k != key})) for key in base]
    found += [("an unknown field", as_json({**base, "priority": 1})), ("a field twice",
              as_json(base)[:-1] + b', "id": "otra"}')]
    valid = as_json(base)
    marker = as_json(base["id"])
    found += [(f"the id nested {depth} deep", valid.replace(marker, b"[" * depth + b"]" * depth, 1)) for depth in DEPTHS]
    limit = MAX_PACKET_BYTES - 200 - len(valid)   # what the broker still takes, topic and header included
    found += [(f"{size} bytes of padding", as_json({**base, "id": "x" * size})) for size in (1_000, 30_000, limit)]
    found += [("empty", b""), ("not JSON", b"{\"v\": 1,"), ("not UTF-8", valid.replace(b'"', b'\xff', 1)),
              ("a surrogate in UTF-8 bytes", valid[:-1] + b', "x": "\xed\xa0\x80"}'),
              ("a byte-order mark", b"\xef\xbb\xbf" + valid), ("UTF-16", valid.decode().encode("utf-16")),
              ("a JSON list", b"[" + valid + b"]"), ("NaN", valid[:-1] + b', "x": NaN}'),
              ("the type a list", b'{"v":1,"type":[]}'), ("the type an object", b'{"v":1,"type":{}}')]
    return found


def valid_payloads(site: ProcessSite) -> dict[str, tuple[str, str, contract.Message]]:
    """name -> (the user who may publish it, topic, a valid message)."""
    today = datetime.now(site.config.timezone).date().isoformat()
    at, call = now(site), dict(turn_id=f"{today}/kiosco-1/R900", number="R-900", service="R")
    serving = {**call, "service_name": "Registro y Aportes", "preferential": False, "called_at": at}
    return {
        "ticket": ("kiosco-1", contract.ticket_topic("kiosco-1"), contract.TicketIssued(
            id="fuzz-ticket", at=at, source="kiosco-1", preferential=False, **call)),
        "void": ("kiosco-1", contract.ticket_topic("kiosco-1"), contract.TicketVoid(
            id="fuzz-void", at=at, source="kiosco-1", preferential=False, reason="sin papel", **call)),
        "printer": ("kiosco-1", contract.printer_topic("kiosco-1"), contract.PrinterStatus(
            id="fuzz-printer", at=at, source="kiosco-1", state="ok", detail="")),
        "heartbeat": ("kiosco-1", contract.heartbeat_topic("kiosco-1"), contract.Heartbeat(
            id="fuzz-beat", at=at, source="kiosco-1")),
        "request": ("escritorio-1", contract.request_topic(1), contract.DeskRequest(
            id="fuzz-request", at=at, source="escritorio-1", desk=1, action="recall")),
        "rating": ("escritorio-1", contract.rating_topic(1), contract.Rating(
            id="fuzz-rating", at=at, source="escritorio-1", desk=1, turn_id=call["turn_id"], value=5)),
        # What the displays, kiosks and desks read, as a forged hub would send it.
        "board": ("hub", contract.BOARD_TOPIC, contract.Board(
            id="fuzz-board", at=at, source="hub",
            calls=[contract.Call(id="fuzz-call", at=at, source="hub", service_name="Registro y Aportes",
                                 preferential=False, desk=1, desk_name="Módulo 1", **call)],
            waiting=[contract.Waiting(service="R", service_name="Registro y Aportes", normal=1, preferential=0)])),
        "desk state": ("hub", contract.desk_state_topic(1), contract.DeskState(
            id="fuzz-state", at=at, source="hub", desk=1, serving=serving, answered=None)),
    }


KINDS = ("ticket", "void", "printer", "heartbeat", "request", "rating", "board", "desk state")


@pytest.mark.parametrize("kind", KINDS)
def test_no_mutation_of_a_payload_stops_a_role(site, kind):
    user, topic, message = valid_payloads(site)[kind]
    forged_hub = user == "hub"
    if forged_hub:  # the hub's own credential would take the hub's session: the hub is away meanwhile
        site.stop("hub")
    attacker = Client(site, user)
    try:
        for label, payload in mutations(message):
            attacker.publish(topic, payload)
        # Nested records too: the board's call and the desk's serving, each field wrong in turn.
        if kind in ("board", "desk state"):
            body = json.loads(message.to_json())
            inner_key = "calls" if kind == "board" else "serving"
            inner = body[inner_key][0] if kind == "board" else body[inner_key]
            for key in inner:
                for label, value in WRONG:
                    changed = {**inner, key: value}
                    attacker.publish(topic, as_json({**body, inner_key: [changed] if kind == "board" else changed}))
    finally:
        attacker.close()
        if forged_hub:
            site.start("hub")
            wait_until(lambda: answers_next(site, timeout=1), timeout=STEP_DEADLINE_S, what="the hub back")
    assert_all_well(site, f"every mutation of a {kind}")


def test_retained_input_is_ignored_and_reported(site):
    kiosk = Client(site, "kiosco-1")
    today = datetime.now(site.config.timezone).date().isoformat()
    ticket = contract.TicketIssued(id="retained-ticket", at=now(site), source="kiosco-1",
                                   turn_id=f"{today}/kiosco-1/S901", number="S-901", service="S", preferential=False)
    try:
        kiosk.publish(contract.ticket_topic("kiosco-1"), ticket.to_json(), retain=True)
        kiosk.publish(contract.ticket_topic("kiosco-1"), b'{"v":1,"type":[]}', retain=True)  # left for the restart
    finally:
        kiosk.close()
    wait_until(lambda: "a retained copy" in site.log("hub").read_text(encoding="utf-8"), timeout=STEP_DEADLINE_S,
               what="the hub reporting the retained ticket")
    assert_all_well(site, "retained input")


def test_ids_reused_across_kinds_are_refused_with_their_reason(site):
    today = datetime.now(site.config.timezone).date().isoformat()
    kiosk, desk = Client(site, "kiosco-1"), Client(site, "escritorio-1")
    try:
        ticket = contract.TicketIssued(id="shared-id", at=now(site), source="kiosco-1",
                                       turn_id=f"{today}/kiosco-1/S902", number="S-902", service="S",
                                       preferential=False)
        kiosk.publish(contract.ticket_topic("kiosco-1"), ticket.to_json())
        press = contract.DeskRequest(id="shared-id", at=now(site), source="escritorio-1", desk=1, action="next")
        desk.publish(contract.request_topic(1), press.to_json())
        reused = contract.TicketIssued(id="shared-id", at=now(site), source="kiosco-1",
                                       turn_id=f"{today}/kiosco-1/S903", number="S-903", service="S",
                                       preferential=False)
        kiosk.publish(contract.ticket_topic("kiosco-1"), reused.to_json())
    finally:
        kiosk.close()
        desk.close()
    log = lambda: site.log("hub").read_text(encoding="utf-8")  # noqa: E731
    wait_until(lambda: "reuses the id of a ticket" in log() and "S-903 is NOT recorded" in log(),
               timeout=STEP_DEADLINE_S, what="both reuses refused by name")
    assert_all_well(site, "ids reused across kinds")


def test_another_devices_credential_cannot_take_the_hubs_session(site):
    monitor = Client(site, MONITOR)
    monitor.subscribe(contract.status_topic("hub"))
    intruder = Client(site, "escritorio-3", client_id="turnero-hub")   # the broker makes its id "escritorio-3"
    try:
        assert answers_next(site)
        statuses = []
        while not monitor.messages.empty():
            statuses.append(monitor.messages.get().payload)
        assert statuses and set(statuses) == {b"online"}, statuses   # the hub was never kicked off
    finally:
        intruder.close()
        monitor.close()
    assert_all_well(site, "a display connecting with the hub's client id")


def test_a_restarted_hub_stays_up_with_the_poison_still_retained(site):
    # Last in the module: the retained poison of the tests above is still on the broker.
    site.stop("hub")
    site.start("hub")
    wait_until(lambda: answers_next(site, timeout=1), timeout=STEP_DEADLINE_S, what="the restarted hub answering")
    assert_all_well(site, "a restart with retained poison")
