"""The site's live picture for the central (appliance/contract/picture.py), made from the live view's snapshot:
published retained when it changes, and at least every SitePicture.REPEAT_S so that the central can say how
fresh it is. Only where the site file has [central]: the bridge carries it there."""
from __future__ import annotations

import logging
import time
from datetime import datetime

from appliance import contract
from appliance.contract import picture, shipping
from appliance.contract.codec import MAX_PAYLOAD_BYTES

log = logging.getLogger(__name__)
TOPIC = shipping.site_topic(shipping.PICTURE)


def picture_of(view: dict, calls: list, *, name: str, source: str, at: datetime) -> picture.SitePicture:
    """The snapshot (and the board's calls) as the contract's message, bounded: the latest calls and the first
    alarms only."""
    return picture.SitePicture(
        id=contract.new_id(), at=at.isoformat(timespec="seconds"), source=source, name=name,
        target_min=view["target_min"],
        queues=[{"service": q["service"], "service_name": q["name"], "normal": q["normal"],
                 "preferential": q["preferential"], "longest_min": q["longest_min"],
                 "minutes_per_turn": q["pace"]} for q in view["queues"]],
        desks=[{"desk": d["desk"], "desk_name": d["name"], "status": d["status"] or "unknown",
                "advisor": d["advisor"] or None, "number": d["number"], "service_name": d["service"],
                "minutes": d["minutes"], "overdue": d["overdue"]} for d in view["desks"]],
        devices=[{"device": d["id"], "role": d["role"], "state": d["state"], "printer": d["printer_state"],
                  "heard_at": d["heard_at"], "skew_s": d["skew_s"], "software": d["versions"][0],
                  "site_file": d["versions"][1]} for d in view["devices"]][:picture.MAX_DEVICES],
        alarms=[{"kind": a["kind"], "subject": a["subject"], "text": a["text"]}
                for a in view["alarms"]][:picture.MAX_PICTURE_ALARMS],
        calls=calls[:picture.MAX_PICTURE_CALLS])


class PicturePublisher:
    """Called by the live view after each refresh; publishes only what changed, or again after REPEAT_S."""

    def __init__(self, link, name: str):
        self.link, self.name = link, name
        self._last: tuple | None = None
        self._sent_at = 0.0

    def offer(self, view: dict, calls: list, at: datetime) -> None:
        if not self.link.connected:
            self._last = None        # a new connection gets the picture again at once
            return
        message = picture_of(view, calls, name=self.name, source=self.link.device, at=at)
        # A heartbeat's time alone is no change: it is sent with the next one, or after REPEAT_S.
        same = (message.queues, message.desks, [{**d, "heard_at": None} for d in message.devices], message.alarms,
                message.calls)
        if same == self._last and time.monotonic() - self._sent_at < picture.SitePicture.REPEAT_S:
            return
        payload = message.to_json()
        while len(payload) > MAX_PAYLOAD_BYTES and message.alarms:   # only pathological sites get here
            message = picture_of({**view, "alarms": view["alarms"][:len(message.alarms) // 2]}, calls,
                                 name=self.name, source=self.link.device, at=at)
            payload = message.to_json()
        self.link.publish(TOPIC, payload, retain=True)
        self._last, self._sent_at = same, time.monotonic()
