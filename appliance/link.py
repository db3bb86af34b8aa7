"""One device's connection to the broker, with the habits every role needs.

- Availability: a retained "offline" last will, "online" published on every connect, "offline" on a clean stop.
- Survives a broker that is down at boot or restarts: connect_async + loop_start, subscriptions made in
  on_connect so they come back after every reconnect.
- Durable sends go through the Outbox and are replayed after each reconnect; a file is deleted on PUBACK.
- paho's callbacks only enqueue into the role's inbox (an exception there would kill paho's thread), and the
  role's own loop does the work.
"""
from __future__ import annotations

import logging
import queue
import socket
import threading
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from . import contract
from .outbox import Outbox, Pending

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokerAddress:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    keepalive: int = 15


@dataclass(frozen=True)
class Connected:
    """Inbox item: the link is up (again); retained state is about to arrive."""


@dataclass(frozen=True)
class Disconnected:
    """Inbox item: the link is down; paho reconnects by itself."""


class Link:
    def __init__(self, device: str, broker: BrokerAddress, inbox: queue.Queue, *,
                 subscriptions: tuple[str, ...] = (), outbox: Outbox | None = None,
                 persistent_session: bool = False, manual_ack: bool = False):
        self.device = device
        self.inbox = inbox
        self.outbox = outbox
        self._subscriptions = subscriptions
        self._broker = broker
        self._persistent = persistent_session
        self._connected = threading.Event()
        # Never held while calling into paho: paho calls on_publish under its own lock.
        self._lock = threading.Lock()
        self._inflight: list[tuple[mqtt.MQTTMessageInfo, Pending]] = []

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"turnero-{device}",
                             protocol=mqtt.MQTTv5, manual_ack=manual_ack)
        if broker.username:
            client.username_pw_set(broker.username, broker.password)
        client.will_set(contract.status_topic(device), contract.OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._guard(self._on_connect)
        client.on_disconnect = self._guard(self._on_disconnect)
        client.on_message = self._guard(self._on_message)
        client.on_publish = self._guard(self._on_publish)
        self.client = client

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
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

    def send(self, topic: str, message: contract.Message) -> None:
        """Durable: kept on disk until the broker has it, whatever happens to the link or the process."""
        item = self.outbox.put(topic, message.to_json())
        if self.connected:
            self._publish_pending(item)

    def ack(self, mid: int, qos: int) -> None:
        self.client.ack(mid, qos)

    def _publish_pending(self, item: Pending) -> None:
        info = self.client.publish(item.topic, item.payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return  # stays on disk; replayed on the next connect
        with self._lock:
            self._inflight.append((info, item))
        self._settle()

    def _settle(self, acked_mid: int | None = None) -> None:
        """Deletes the files whose PUBACK has come. paho flags a message's info only after on_publish
        returns, so the message being acknowledged right now is matched by its id, which paho does not reuse
        while the message is outstanding."""
        with self._lock:
            done = [(info, item) for info, item in self._inflight
                    if info.mid == acked_mid or info.is_published()]
            self._inflight = [entry for entry in self._inflight if entry not in done]
        for _, item in done:
            self.outbox.done(item)

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
            log.error("%s: broker refused the connection: %s", self.device, reason_code)
            return
        sock = client.socket()
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # A call is two small packets (desk state, board): with Nagle's algorithm the second waits ~40 ms
            # for the first one's acknowledgement. paho leaves Nagle on.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.publish(contract.status_topic(self.device), contract.ONLINE, qos=1, retain=True)
        for topic in self._subscriptions:
            client.subscribe(topic, qos=1)
        self._connected.set()
        self.inbox.put(Connected())
        if self.outbox is not None:
            for item in self.outbox.pending():
                self._publish_pending(item)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        with self._lock:  # the files stay on disk and are replayed on the next connect
            self._inflight.clear()
        self.inbox.put(Disconnected())

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        self.inbox.put(message)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._settle(mid)
