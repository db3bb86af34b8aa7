"""`turnero ship`: the hub's journal, shipped to the organisation's central through the Mosquitto bridge.

A process of its own beside the hub, reading the files the hub appends to (never writing them): however far
behind the central is, catching up costs the hub's loop nothing, and a NEXT at the site is answered the same
with the central down, up or three days behind.

Store and forward, from the journal: nothing depends on what a broker keeps. Each day's journal is sent in order,
in batches within the packet limit, each batch naming the bytes of the file it covers (contract.shipping). The
central acknowledges, retained, how far it has stored each day; that is the cursor, kept on disk. At most WINDOW
bytes are in flight, and only while the bridge says it is up, so the bridge queues a window, never an outage.
What the bridge loses shows as a gap at the central, which names the day, and the shipper sends again from
where the central stands; a lost tail shows as no progress, and is sent again after ACK_WAIT_S.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.contract import shipping
from appliance.core.link import Connected, Link
from appliance.core.steps import arrived
from appliance.core.version import software
from appliance.records.journal import DayStore
from appliance.site import SetupError, SiteConfig

log = logging.getLogger(__name__)
DEVICE = "hub-ship"
BATCH_BYTES = 48 * 1024     # the records of one batch, JSON: the contract's 64 KiB with room for the envelope
WINDOW = 4 * 1024 * 1024    # journal bytes sent and not yet acknowledged
ACK_WAIT_S = 20.0           # sent, bridge up, and no acknowledgement since: what was sent was lost
REWIND_AGAIN_S = 5.0        # the gaps a lost batch opens are named once per batch after it: one resend for all
STATUS_S = 10.0             # how often the site tells the central its version and how far behind it is
CURSOR_SAVE_S = 5.0         # the cursor is written at most this often (an SD card wears by writes)
# Days older than this are finished: the hub appends to a day up to 31 days back (a manual contingency's
# attentions), and a shipped and acknowledged day older than this is not looked at again.
SETTLED_DAYS = 40
CURSOR_NAME = "cursor.json"
LINE_OVERHEAD = len("01234567 + \n")   # a journal line is its checksum, its mark and the record's JSON


class Shipper:
    device = DEVICE

    def __init__(self, config: SiteConfig, days: Path, state: Path, *, now=None, monotonic=time.monotonic):
        if config.central is None:
            raise SetupError("the site file has no [central]: there is nowhere to ship the record (docs/central.md)")
        self.site = config.central.site
        self.store = DayStore(days)
        self.now = now or (lambda: datetime.now(config.timezone))
        self.monotonic = monotonic
        Path(state).mkdir(parents=True, exist_ok=True)
        self._cursor_path = Path(state) / CURSOR_NAME
        self.settled, self.acked = _load_cursor(self._cursor_path)
        self.sent = dict(self.acked)
        self._rewound: dict[str, tuple[int, float]] = {}
        self._progress_at = monotonic()
        self._saved_at = self._status_at = float("-inf")
        self._dirty = False
        self.bridge_up = False
        self._software, self._site_file = software(), config.version
        self._names = {"name": config.name, "services": config.service_names(),
                       "target_min": config.web.wait_target_min}
        self.inbox: queue.Queue = queue.Queue()
        self._ack_topic = shipping.site_topic(shipping.ACK)
        self._bridge_topic = shipping.central_topic(self.site, shipping.BRIDGE)
        self.link = Link(self.device, config.broker, self.inbox, subscriptions=(self._ack_topic, self._bridge_topic),
                         site_file=config.version)

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self._save_cursor(force=True)
        self.link.stop()
        self.store.close()

    # --- the loop ------------------------------------------------------------------------------------

    def step(self, timeout: float = 0.5) -> int:
        items = arrived(self.inbox, timeout, None)
        for item in items:
            if isinstance(item, Connected):
                self.sent = dict(self.acked)    # what paho held for the broker may be gone: from the cursor
                self._status_at = float("-inf")
            elif isinstance(item, mqtt.MQTTMessage):
                self._read(item)
        if self.link.connected and self.bridge_up:
            self._resend_lost()
            self._ship()
            if self.monotonic() - self._status_at >= STATUS_S:
                self._publish_status()
        self._save_cursor()
        return len(items)

    def _read(self, message: mqtt.MQTTMessage) -> None:
        if message.topic == self._bridge_topic:
            up = message.payload == b"1"
            if up != self.bridge_up:
                log.info("the bridge to the central is %s", "up" if up else "down: the record waits in the journal")
                self.bridge_up, self._progress_at = up, self.monotonic()
            return
        try:
            ack = contract.expect(message.payload, shipping.CentralAck)
            if ack.site != self.site:
                raise contract.ContractError(f"an acknowledgement for site {ack.site!r}, not {self.site!r}")
        except contract.ContractError as exc:
            log.warning("%s: ignored the central's acknowledgement: %s", self.device, exc)
            return
        self._acknowledged(ack)

    def _acknowledged(self, ack: shipping.CentralAck) -> None:
        """The central's word is the cursor: a day it stands further back on (its broker restored from an older
        save, its store from a backup) is sent again from there."""
        for day, end in ack.days.items():
            if day <= self.settled:
                continue
            if self.acked.get(day) != end:
                self.acked[day], self._dirty, self._progress_at = end, True, self.monotonic()
            if day in ack.gaps or self.sent.get(day, 0) < end:
                self._rewind(day, end)

    def _rewind(self, day: str, end: int) -> None:
        last = self._rewound.get(day)
        if last is not None and last[0] == end and self.monotonic() - last[1] < REWIND_AGAIN_S:
            return
        if self.sent.get(day, 0) > end:
            log.info("the central has %s up to byte %d: sending again from there", day, end)
        self.sent[day] = end
        self._rewound[day] = (end, self.monotonic())

    def _resend_lost(self) -> None:
        if self._in_flight() and self.monotonic() - self._progress_at > ACK_WAIT_S:
            log.warning("no acknowledgement from the central for %.0f s with %d byte(s) sent: sending again from "
                        "the cursor", ACK_WAIT_S, self._in_flight())
            self.sent, self._progress_at = dict(self.acked), self.monotonic()

    def _in_flight(self) -> int:
        return sum(end - self.acked.get(day, 0) for day, end in self.sent.items())

    # --- sending -------------------------------------------------------------------------------------

    def _ship(self) -> None:
        budget = WINDOW - self._in_flight()
        for day in self.store.days():
            if budget <= 0:
                return
            if day <= self.settled or self._size(day) <= self.sent.get(day, 0):
                continue
            if not self._in_flight():
                self._progress_at = self.monotonic()
            budget -= self._ship_day(day, budget)

    def _size(self, day: str) -> int:
        try:
            return self.store.journal(day).stat().st_size
        except FileNotFoundError:
            return 0

    def _ship_day(self, day: str, budget: int) -> int:
        """Sends the day's complete batches from where it was sent up to, at most `budget` bytes of them; returns
        how many bytes."""
        start = first = self.sent.get(day, 0)
        positions, records, size = [], [], 0
        for line_start, line_end, record in self.store.lines_from(day, start):
            text = line_end - line_start - LINE_OVERHEAD    # the record's JSON, as the batch will carry it
            if records and (size + text > BATCH_BYTES or len(records) == shipping.MAX_BATCH_RECORDS):
                self._publish(day, start, line_start, positions, records)
                start, positions, records, size = line_start, [], [], 0
                if line_start - first >= budget:
                    break
            positions.append(line_start)
            records.append(record)
            size += text
            end = line_end
        else:
            if records:
                self._publish(day, start, end, positions, records)
                start = end
        self.sent[day] = start
        return start - first

    def _publish(self, day: str, start: int, end: int, positions: list[int], records: list[dict]) -> None:
        batch = shipping.RecordBatch(id=contract.new_id(), at=self._stamp(), source=self.device, site=self.site,
                                     day=day, start=start, end=end, positions=positions, records=records)
        self.link.publish(shipping.site_topic(shipping.RECORDS), batch.to_json(), qos=1)

    # --- what the central shows of the site ----------------------------------------------------------

    def _publish_status(self) -> None:
        pending, oldest = self.pending()
        status = shipping.SiteStatus(id=contract.new_id(), at=self._stamp(), source=self.device, site=self.site,
                                     software=self._software, site_file=self._site_file, pending=pending,
                                     oldest_pending_at=oldest, **self._names)
        self.link.publish(shipping.site_topic(shipping.SITE), status.to_json(), qos=1, retain=True)
        self._status_at = self.monotonic()

    def pending(self) -> tuple[int, str | None]:
        """How many records the central has not acknowledged (lines of the journals after the cursor), and the
        time of the oldest of them."""
        count, oldest = 0, None
        for day in self.store.days():
            acked = self.acked.get(day, 0)
            if day <= self.settled or self._size(day) <= acked:
                continue
            with open(self.store.journal(day), "rb") as handle:
                handle.seek(acked)
                count += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            if oldest is None:
                oldest = next((record["at"] for _s, _e, record in self.store.lines_from(day, acked)), None)
        return count, oldest

    def _stamp(self) -> str:
        return self.now().isoformat(timespec="milliseconds")

    # --- the cursor ----------------------------------------------------------------------------------

    def _save_cursor(self, force: bool = False) -> None:
        if not self._dirty or (not force and self.monotonic() - self._saved_at < CURSOR_SAVE_S):
            return
        self._settle()
        # Replaced whole but not fsynced: a cursor a power cut loses costs a resend that the central stores once,
        # while an fsync here would queue on the card beside the hub's, which a NEXT waits for.
        partial = self._cursor_path.with_name(f".{CURSOR_NAME}.part")
        partial.write_text(json.dumps({"settled": self.settled, "days": self.acked}), encoding="utf-8")
        os.replace(partial, self._cursor_path)
        self._dirty, self._saved_at = False, self.monotonic()

    def _settle(self) -> None:
        """Days old enough never to change again, all shipped: the cursor forgets them."""
        horizon = (date.fromisoformat(self.now().date().isoformat()) - timedelta(days=SETTLED_DAYS)).isoformat()
        for day in sorted(self.acked):
            if day > horizon or self.acked[day] < self._size(day):
                break
            self.settled = day
            del self.acked[day]
            self.sent.pop(day, None)

    def healthy(self) -> bool:
        return not self.link.flapping


def _load_cursor(path: Path) -> tuple[str, dict[str, int]]:
    """(the last settled day, {day: byte acknowledged}); an unreadable cursor costs a resend, never a loss."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        days = {str(day): int(end) for day, end in data["days"].items()}
        return str(data["settled"]), days
    except FileNotFoundError:
        return "", {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.error("%s cannot be read (%s): the record is sent again from the start; the central stores it once",
                  path, exc)
        return "", {}
