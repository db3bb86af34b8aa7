"""A device's durable outbox: what it must tell the hub survives a broker outage and a power cut.

Each event is one small file, written atomically before any attempt to publish it, and removed only when the
hub says it has recorded the event (contract.Applied): the broker's acknowledgement is not enough, as the broker
keeps what it queues for an absent hub in memory until its next save. After a restart or reconnect every file
left is published again, oldest first; the hub applies events idempotently by id, so a repeat is harmless and
nothing is lost.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from appliance.core.durable import write_json_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    path: Path
    topic: str
    payload: bytes
    id: str          # the event's id, which the hub names when it has recorded the event


class Outbox:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        existing = [int(p.stem) for p in self.directory.glob("*.json") if p.stem.isdigit()]
        self._next = max(existing, default=0) + 1

    def put(self, topic: str, payload: bytes, event_id: str) -> Pending:
        with self._lock:
            seq = self._next
            self._next += 1
        path = self.directory / f"{seq:012d}.json"
        write_json_atomic(path, {"topic": topic, "payload": payload.decode(), "id": event_id})
        return Pending(path, topic, payload, event_id)

    def pending(self) -> list[Pending]:
        """Everything the hub has not confirmed yet, oldest first. An unreadable file is kept aside, not dropped."""
        items = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                body = json.loads(path.read_text())
                items.append(Pending(path, body["topic"], body["payload"].encode(), body["id"]))
            except FileNotFoundError:
                continue  # confirmed meanwhile (the link removes files from paho's thread)
            except (OSError, ValueError, KeyError) as exc:
                log.error("outbox file %s is unreadable (%s); kept as %s.bad", path.name, exc, path.name)
                path.rename(path.with_suffix(".bad"))
        return items

    def done(self, item: Pending) -> None:
        item.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json"))
