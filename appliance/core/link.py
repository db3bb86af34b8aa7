"""One device's connection to the broker, with the habits every role needs.

- Availability: a retained "offline" last will, "online" published on every connect, "offline" on a clean stop.
- Survives a broker that is down at boot or restarts: connect_async + loop_start, subscriptions made in
  on_connect so they come back after every reconnect; the link counts as connected once the broker has taken
  them all.
- Durable sends go through the Outbox and are replayed after each reconnect; a file is deleted when the hub
  names the event as recorded (its retained contract.Applied for this device), not on the broker's PUBACK.
- A heartbeat with the device's clock on every connect and every HEARTBEAT_S, so the hub can flag a clock
  that is off (a Pi has no clock battery).
- paho's callbacks only enqueue into the role's inbox (an exception there would kill paho's thread), and the
  role's own loop does the work; the link settles its own outbox there (a few file deletions).
"""
from __future__ import annotations

import logging
import queue
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from appliance import contract
from appliance.core.outbox import Outbox, Pending
from appliance.core.version import software
from appliance.site.model import DEFAULT_CREDENTIALS_DIR, BrokerAddress, SetupError

log = logging.getLogger(__name__)


class LinkSetupError(SetupError):
    """What this device needs to reach the broker is missing on its Pi; the message says what to copy."""


REFUSED_LOGIN = (0x86, 0x87)   # MQTT 5 CONNACK: bad user name or password, not authorized
HEARTBEAT_S = 30.0        # how often a device tells its clock
HEARTBEAT_EXPIRY_S = 10   # a heartbeat the broker could not deliver by then says nothing true about the clock
# Dropped this often within FLAPPING_S, a connection is being refused something (a packet over the limit, its
# client id taken by another): the role's watchdog stops being fed.
FLAPPING_DROPS, FLAPPING_S = 3, 60.0


@dataclass(frozen=True)
class Connected:
    """Inbox item: the link is up (again); retained state is about to arrive."""


@dataclass(frozen=True)
class Disconnected:
    """Inbox item: the link is down; paho reconnects by itself."""


class Link:
    def __init__(self, device: str, broker: BrokerAddress, inbox: queue.Queue, *,
                 subscriptions: tuple[str, ...] = (), outbox: Outbox | None = None,
                 persistent_session: bool = False, manual_ack: bool = False, facts_only: bool = False, now=None,
                 site_file: str | None = None):
        """`site_file`: the version of the site file the role read (SiteConfig.version), told in the heartbeat
        with the software's."""
        self.device, self.site_file = device, site_file or None
        self.now = now or (lambda: datetime.now().astimezone())   # the clock the heartbeat tells
        self._last_beat = float("-inf")
        self._problem: str | None = None
        self._drops: deque[float] = deque(maxlen=FLAPPING_DROPS)
        self.inbox = inbox
        self.outbox = outbox
        self._subscriptions = subscriptions
        # The hub reads facts and commands, never state: a retained copy on such a topic would come back at every
        # subscribe. The broker is asked not to send stored ones, and to flag live ones, which the hub refuses.
        self._options = SubscribeOptions(qos=1)
        if facts_only:
            self._options = SubscribeOptions(qos=1, retainAsPublished=True,
                                             retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)
        self._broker = broker
        self._persistent = persistent_session
        self._connected = threading.Event()
        self._subscribing: set[int] = set()   # subscriptions of this connection the broker has not taken yet
        # A device with an outbox learns from the hub which of its facts are recorded.
        self._applied = contract.applied_topic(device) if outbox is not None else None

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"turnero-{device}",
                             protocol=mqtt.MQTTv5, manual_ack=manual_ack)
        self.login = broker.login(device)
        if self.login.username:
            client.username_pw_set(self.login.username, self.login.password)
        client.will_set(contract.status_topic(device), contract.OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._guard(self._on_connect)
        client.on_subscribe = self._guard(self._on_subscribe)
        client.on_disconnect = self._guard(self._on_disconnect)
        client.on_message = self._guard(self._on_message)
        self.client = client

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._broker.ca_file is not None:
            # The broker is believed only with a certificate the site CA signed for the name or address dialled:
            # nobody on the site network reads the password or plays the hub.
            try:
                self.client.tls_set(ca_certs=str(self._broker.ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise LinkSetupError(f"{self.device}: the site CA certificate {self._broker.ca_file} cannot be read "
                                     f"({exc}); copy it from the hub with the device's credential "
                                     "(docs/broker.md)") from None
        properties = None
        if self._persistent:
            # The broker keeps the hub's subscriptions and queues its QoS 1 messages while it is away.
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 7 * 24 * 3600
        self.client.connect_async(self._broker.host, self._broker.port, keepalive=self._broker.keepalive,
                                  clean_start=not self._persistent, properties=properties)
        self.client.loop_start()

    def stop(self, timeout: float = 2.0) -> None:
        """Clean stop: say "offline" ourselves (the will only fires on an unclean drop)."""
        if self._connected.is_set():
            info = self.client.publish(contract.status_topic(self.device), contract.OFFLINE, qos=1, retain=True)
            info.wait_for_publish(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # --- sending -------------------------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False, qos: int = 1,
                expiry_s: int | None = None) -> mqtt.MQTTMessageInfo:
        """Best effort: for state that is republished anyway and for requests that are retried."""
        properties = None
        if expiry_s is not None:
            properties = Properties(PacketTypes.PUBLISH)
            properties.MessageExpiryInterval = expiry_s
        return self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)

    def heartbeat(self, *, every: float = HEARTBEAT_S) -> None:
        """Tells the device's clock if `every` seconds have passed since the last time; called from the role's
        loop, it costs a clock reading otherwise."""
        if self.connected and time.monotonic() - self._last_beat >= every:
            self._beat()

    def _beat(self) -> None:
        self._last_beat = time.monotonic()
        beat = contract.Heartbeat(id=contract.new_id(), at=self.now().isoformat(timespec="milliseconds"),
                                  source=self.device, problem=self._problem, software=software(),
                                  site_file=self.site_file)
        self.publish(contract.heartbeat_topic(self.device), beat.to_json(), qos=0, expiry_s=HEARTBEAT_EXPIRY_S)

    def report_problem(self, problem: str | None) -> None:
        """What keeps this role from doing its work (None: nothing), told in the heartbeat at once if it changed."""
        if problem != self._problem:
            self._problem = problem
            if self.connected:
                self._beat()

    @property
    def flapping(self) -> bool:
        """Whether the broker keeps dropping this connection (FLAPPING_DROPS times within FLAPPING_S)."""
        return len(self._drops) == FLAPPING_DROPS and time.monotonic() - self._drops[0] < FLAPPING_S

    def send(self, topic: str, message: contract.Message) -> None:
        """Durable: kept on disk until the hub has recorded it, whatever happens to the link or the process."""
        item = self.outbox.put(topic, message.to_json(), message.id)
        if self.connected:
            self._publish_pending(item)

    def ack(self, mid: int, qos: int) -> None:
        self.client.ack(mid, qos)

    def _publish_pending(self, item: Pending) -> None:
        self.client.publish(item.topic, item.payload, qos=1)  # stays on disk until the hub names it

    def _confirm(self, payload: bytes) -> None:
        """The hub names the facts it has recorded: their files go. A fact older than the newest one named that
        is still here was lost on the way, or confirmed while this device was away: it is sent again (the hub
        applies it once, and names it again)."""
        try:
            applied = contract.expect(payload, contract.Applied)
        except contract.ContractError as exc:
            log.warning("%s: ignored the hub's confirmation: %s", self.device, exc)
            return
        named = set(applied.ids)
        pending = self.outbox.pending()
        newest = max((i for i, item in enumerate(pending) if item.id in named), default=-1)
        for i, item in enumerate(pending):
            if item.id in named:
                self.outbox.done(item)
            elif i < newest and self.connected:
                self._publish_pending(item)

    # --- paho callbacks (paho's network thread) ----------------------------------------------------

    def _guard(self, callback):
        def guarded(*args):
            try:
                callback(*args)
            except Exception:  # an exception escaping here would kill paho's network thread
                log.exception("%s: error in MQTT callback %s", self.device, callback.__name__)
        return guarded

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            if reason_code.value not in REFUSED_LOGIN:
                log.error("%s: broker refused the connection: %s", self.device, reason_code)
                return
            log.error("%s: the broker refused this device's credentials (%s); it connected with %s. On the hub, "
                      "`turnero broker-files` makes credentials/%s: copy that file to %s on this Pi (readable by "
                      "the service's user only); after running it, `systemctl reload mosquitto` on the hub",
                      self.device, reason_code, self.login.source, self.device,
                      Path(self._broker.credentials_dir or DEFAULT_CREDENTIALS_DIR) / self.device)
            return
        sock = client.socket()
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # A call is two small packets (desk state, board): with Nagle's algorithm the second waits ~40 ms
            # for the first one's acknowledgement. paho leaves Nagle on.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.publish(contract.status_topic(self.device), contract.ONLINE, qos=1, retain=True)
        self._beat()
        # Connected only once the broker has taken every subscription: a message published by another client
        # in between would not reach this one (and the hub's first session would never have it).
        self._subscribing = {client.subscribe(topic, options=self._options)[1] for topic in self._subscriptions}
        if self._applied:
            self._subscribing.add(client.subscribe(self._applied, qos=1)[1])
        if not self._subscribing:
            self._ready()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self._subscribing.discard(mid)
        if not self._subscribing and not self._connected.is_set():
            self._ready()

    def _ready(self) -> None:
        self._connected.set()
        self.inbox.put(Connected())
        if self.outbox is not None:
            for item in self.outbox.pending():
                self._publish_pending(item)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self._connected.is_set():
            self._drops.append(time.monotonic())
        self._connected.clear()  # the outbox's files stay on disk and are replayed on the next connect
        self.inbox.put(Disconnected())

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        if message.topic == self._applied:
            self._confirm(message.payload)
        else:
            self.inbox.put(message)
