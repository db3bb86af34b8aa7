"""Every site's live picture at the central: the retained SitePicture each site's page publishes and its bridge
carries (appliance/contract/picture.py), from the page's own connection to the central's broker (user
central-web). Each message passes the contract's strict decode; a bad one is refused, logged once, and the
others go on.

How fresh a picture is, is told, never hidden: its age is its own time (the site's clock, kept by NTP) against
the central's, and a site whose bridge is down (the `sites` table, kept by the ingest) shows as old."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.contract import picture, shipping
from appliance.core.link import Link
from appliance.core.steps import refusing

log = logging.getLogger(__name__)
DEVICE = "central-web"
STALE_S = 3 * picture.SitePicture.REPEAT_S     # a picture older than this is old even with the bridge up


@dataclass(frozen=True)
class SiteLive:
    site: str
    picture: picture.SitePicture | None
    made_at: datetime | None            # when the site made it, never later than the central's now

    def age_s(self, now: datetime) -> float | None:
        return None if self.made_at is None else (now - self.made_at).total_seconds()


class Pictures:
    """The latest picture of every site, written by the link's messages, read by the page."""

    def __init__(self, broker, inbox, now):
        self.now = now
        self.link = Link(DEVICE, broker, inbox, now=now,
                         subscriptions=(shipping.central_topic("+", shipping.PICTURE),))
        self.rejected = contract.Refusals()
        self._sites: dict[str, SiteLive] = {}
        self._lock = threading.Lock()

    def take(self, item) -> None:
        if isinstance(item, mqtt.MQTTMessage):
            refusing(self.rejected, DEVICE, self._message, item)

    def _message(self, message: mqtt.MQTTMessage) -> None:
        site, leaf = shipping.parse_central_topic(message.topic)
        if leaf != shipping.PICTURE:
            raise contract.ContractError(f"{leaf} is not a picture")
        found = contract.expect(message.payload, picture.SitePicture)
        made = min(self.now(), datetime.fromisoformat(found.at))
        with self._lock:
            self._sites[site] = SiteLive(site, found, made)

    def of(self, sites) -> list[SiteLive]:
        with self._lock:
            return [self._sites.get(site) or SiteLive(site, None, None) for site in sites]
