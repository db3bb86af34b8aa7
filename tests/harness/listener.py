"""A technician's client on the broker: overhears what devices send, replays copies, keeps desk states."""
from __future__ import annotations

import json
import queue
import random
import threading

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.link import Link
from appliance.dev.local_broker import LocalBroker

DESK_STATES = f"{contract.ROOT}/desk/+/state"   # every desk's (the contract names one desk's)


class Listener:
    """A technician's client on the broker (straight, no cable): overhears tickets, ratings and requests, which
    it can replay as copies in any order, and keeps the latest retained state of each desk."""

    def __init__(self, broker: LocalBroker):
        self.inbox: queue.Queue = queue.Queue()
        self.link = Link("oyente", broker.address(), self.inbox,
                         subscriptions=(contract.TICKETS_ALL, contract.RATINGS_ALL, contract.REQUESTS_ALL,
                                        DESK_STATES))
        self.overheard: list[tuple[str, bytes]] = []
        self.desk_states: dict[int, dict | None] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True, name="oyente")
        self._stop = threading.Event()

    def start(self) -> None:
        self.link.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.link.stop()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                item = self.inbox.get(timeout=0.05)
            except queue.Empty:
                continue
            if not isinstance(item, mqtt.MQTTMessage):
                continue
            with self._lock:
                if item.topic.endswith("/state"):
                    self.desk_states[int(item.topic.split("/")[-2])] = json.loads(item.payload)["serving"]
                else:
                    self.overheard.append((item.topic, bytes(item.payload)))

    def serving(self, desk: int) -> str | None:
        with self._lock:
            serving = self.desk_states.get(desk)
        return serving["turn_id"] if serving else None

    def replay(self, rng: random.Random, answered: set[str]) -> int:
        """Copies of a few overheard facts, shuffled. A request is copied only once the hub has answered it: a
        copy of one it never had would be a new press, not a duplicate."""
        with self._lock:
            candidates = [(t, p) for t, p in self.overheard
                          if "/request" not in t or json.loads(p)["id"] in answered]
        copies = rng.sample(candidates, min(len(candidates), rng.randint(3, 8)))
        for topic, payload in copies:
            self.link.publish(topic, payload)
        return len(copies)
