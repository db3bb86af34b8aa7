"""What a site ships to the central through the Mosquitto bridge, and what the central answers.

On the site, the shipper (`turnero ship`, beside the hub) publishes under `turnero/v1/central/`; the bridge
remaps that prefix to `turnero/central/v1/<site>/` on the central's broker, whose ACL lets each site write only
there. A day's journal is shipped in order: each batch says where in that day's file it starts and ends (byte
offsets, the same for every reading of the file), so the central stores a batch only if it continues what it has
of that day, and says in its retained acknowledgement how far each day has come. A batch the bridge lost leaves
a hole the central sees at the next one: it names the day in `gaps`, and the site sends again from there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from appliance.contract.fields import (DEVICE, MAX_OFFSET, MAX_SERVICES, ContractError, check_day, check_field,
                                       check_int, check_kind, shown)
from appliance.contract.messages import Message
from appliance.contract.positions import SHARDS
from appliance.contract.topics import ROOT

CENTRAL_ROOT = "turnero/central/v1"
LOCAL_PREFIX = f"{ROOT}/central/"            # on the site's broker
RECORDS, SITE, ACK, BRIDGE = "records", "site", "ack", "bridge"
PICTURE = "picture"                          # the site page's live picture (contract/picture.py)
# A site whose "Mi turno" page the central serves bridges the hub's retained positions (contract/positions.py)
# from under POSITIONS_PREFIX to `turnero/central/v1/<site>/positions/<shard>`.
POSITIONS, POSITIONS_PREFIX = "positions", f"{ROOT}/hub/"
# The central's page books appointments at a site: its orders go from `turnero/central/v1/<site>/command` to the
# site's command topic (POSITIONS_PREFIX + ORDERS), where the hub takes them as the site page's (CENTRAL_ACTIONS).
ORDERS = "command"
MAX_BATCH_RECORDS = 1000
MAX_ACK_DAYS = 400


def site_topic(leaf: str) -> str:
    """The topic on the site's broker: `turnero/v1/central/records`."""
    return LOCAL_PREFIX + leaf


def remote_prefix(site: str) -> str:
    """What the bridge puts in front of a site's topics on the central's broker."""
    return f"{CENTRAL_ROOT}/{site}/"


def central_topic(site: str, leaf: str) -> str:
    """The topic on the central's broker: `turnero/central/v1/cali/records` (`+` for every site)."""
    return remote_prefix(site) + leaf


def parse_central_topic(topic: str) -> tuple[str, str]:
    """(site, leaf) of a topic on the central's broker, or ContractError."""
    parts = topic.split("/")
    if len(parts) == 5 and "/".join(parts[:3]) == CENTRAL_ROOT and parts[4] in (RECORDS, SITE, BRIDGE, PICTURE) \
            and DEVICE.fullmatch(parts[3]):
        return parts[3], parts[4]
    raise ContractError(f"topic {shown(topic, 80)} is not one the central reads")


def central_positions_topic(site: str, shard: str) -> str:
    """A site's positions of one shard on the central's broker (`+` for every site or shard)."""
    return central_topic(site, f"{POSITIONS}/{shard}")


def parse_central_positions_topic(topic: str) -> tuple[str, str]:
    """(site, shard) of a site's positions on the central's broker, or ContractError."""
    parts = topic.split("/")
    if len(parts) == 6 and "/".join(parts[:3]) == CENTRAL_ROOT and DEVICE.fullmatch(parts[3]) \
            and parts[4] == POSITIONS and len(parts[5]) == 1 and parts[5] in SHARDS:
        return parts[3], parts[5]
    raise ContractError(f"topic {shown(topic, 80)} is not a site's positions at the central")


def _offset(name: str, value) -> None:
    check_kind(name, value, (int,))
    check_int(name, value, 0, MAX_OFFSET)


@dataclass(frozen=True, kw_only=True)
class RecordBatch(Message):
    """Records of one day's journal, in the order written: the lines from byte `start` to byte `end` of the
    day's file, each record with the offset of its line (`positions`). A record is checked on its own at the
    central (contract.records), so one bad record does not cost the others."""

    TYPE: ClassVar[str] = "record_batch"
    site: str
    day: str
    start: int
    end: int
    positions: list
    records: list

    def validate(self) -> None:
        if not len(self.records) == len(self.positions) <= MAX_BATCH_RECORDS:
            raise ContractError(f"a batch has {len(self.positions)} positions for {len(self.records)} records; "
                                f"at most {MAX_BATCH_RECORDS}, one each")
        before = self.start - 1
        for position in (*self.positions, self.end):
            _offset("positions[]", position)
            if position <= before:
                raise ContractError(f"positions must rise from start to end, got {shown(position)} after "
                                    f"{shown(before)}")
            before = position


@dataclass(frozen=True, kw_only=True)
class CentralAck(Message):
    """Retained by the central per site: for each day, the byte of its journal up to which every record is stored
    (`days`), and the days whose last batch did not continue what the central had (`gaps`: send again from
    there). `days` lists the days stored in the last batch and the site's newest days."""

    TYPE: ClassVar[str] = "central_ack"
    site: str
    days: dict
    gaps: list

    def validate(self) -> None:
        if len(self.days) > MAX_ACK_DAYS or len(self.gaps) > MAX_ACK_DAYS:
            raise ContractError(f"an acknowledgement names at most {MAX_ACK_DAYS} days")
        for day, end in self.days.items():
            check_day("days", day)
            _offset(f"days.{day}", end)
        for day in self.gaps:
            check_kind("gaps[]", day, (str,))
            check_day("gaps[]", day)


@dataclass(frozen=True, kw_only=True)
class SiteStatus(Message):
    """Retained by a site's shipper: what the central shows about the site besides its records."""

    TYPE: ClassVar[str] = "site_status"
    site: str
    name: str                       # the site's name ([site] name)
    services: dict                  # letter -> name of each service, for the central's CSV and Informe
    software: str                   # the turnero version the hub runs
    site_file: str                  # the site file's version: the start of its SHA-256
    pending: int                    # records written at the site and not yet acknowledged by the central
    oldest_pending_at: str | None = None    # the time of the oldest of them
    target_min: int | None = None           # the site's wait target ([web] wait_target_min), for the Informe

    def validate(self) -> None:
        if self.target_min is not None:
            check_int("target_min", self.target_min, 1, 24 * 60)
        if len(self.services) > MAX_SERVICES:
            raise ContractError(f"field 'services' lists {len(self.services)} services; at most {MAX_SERVICES}")
        for letter, name in self.services.items():
            check_field("service", letter)
            check_kind(f"services.{letter}", name, (str,))
            check_field("service_name", name)


TYPES = {cls.TYPE: cls for cls in (RecordBatch, CentralAck, SiteStatus)}
