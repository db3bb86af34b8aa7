"""The site's live picture for the central: what the site's coordinators' page shows now (queues, desks, devices,
alarms, the latest calls), retained by that page on `turnero/v1/central/picture` and carried by the bridge to
`turnero/central/v1/<site>/picture`, where the central's page shows it as the site sees it. The page computes it
from the board, the desk states, the devices' statuses and heartbeats and today's journal: the central reads one
message a site, and never recomputes what the site knows best.

Bounded: at most MAX_SERVICES queues, 99 desks, MAX_DEVICES devices, MAX_PICTURE_ALARMS alarms and
MAX_PICTURE_CALLS calls (the publisher cuts the alarms further if the whole would pass the payload limit).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from appliance.contract.fields import DEVICE, MAX_SERVICES, ContractError, check_int, check_pattern, shown
from appliance.contract.messages import PRINTER_STATES, Alarm, Call, Message, Record, parse_nested

MAX_DEVICES = 120           # a site of 99 desks has about 110
MAX_PICTURE_ALARMS = 40
MAX_PICTURE_CALLS = 10
DEVICE_STATES = ("online", "offline", "unknown")
DESK_VIEW_STATES = ("open", "paused", "closed", "unknown")


@dataclass(frozen=True, kw_only=True)
class QueueLine(Record):
    """One service's queue: who waits, and the longest wait so far in whole minutes (None: nobody waits)."""

    service: str
    service_name: str
    normal: int
    preferential: int
    longest_min: int | None = None
    minutes_per_turn: int | None = None


@dataclass(frozen=True, kw_only=True)
class DeskLine(Record):
    """One desk: open, paused, closed or unknown (the hub has not said), its advisor and the turn it serves."""

    desk: int
    desk_name: str
    status: str
    advisor: str | None = None
    number: str | None = None         # the turn it serves, with its service's name and the minutes so far
    service_name: str | None = None
    minutes: int | None = None
    overdue: bool = False

    def validate(self) -> None:
        if self.status not in DESK_VIEW_STATES:
            raise ContractError(f"field 'status' must be one of {', '.join(DESK_VIEW_STATES)}, "
                                f"got {shown(self.status)}")


@dataclass(frozen=True, kw_only=True)
class DeviceLine(Record):
    """One device of the site as the technician needs it: reachable or not, its printer, when it was last heard
    and how far its clock is from the hub's (seconds, ahead positive), the software it says it runs."""

    device: str
    role: str
    state: str
    printer: str | None = None
    heard_at: str | None = None
    skew_s: int | None = None
    software: str | None = None
    site_file: str | None = None

    def validate(self) -> None:
        check_pattern("device", self.device, DEVICE, "kiosco-1")
        if self.state not in DEVICE_STATES:
            raise ContractError(f"field 'state' must be one of {', '.join(DEVICE_STATES)}, got {shown(self.state)}")
        if self.printer is not None and self.printer not in PRINTER_STATES:
            raise ContractError(f"field 'printer' must be one of {', '.join(PRINTER_STATES)}, "
                                f"got {shown(self.printer)}")


@dataclass(frozen=True, kw_only=True)
class SitePicture(Message):
    """Retained by the site's page whenever its picture changes, and at least every REPEAT_S: `at` says how
    fresh the central's copy is."""

    TYPE: ClassVar[str] = "site_picture"
    name: str                # the site's name
    target_min: int          # the site's wait target
    queues: list
    desks: list
    devices: list
    alarms: list
    calls: list

    REPEAT_S: ClassVar[float] = 30.0

    def validate(self) -> None:
        check_int("target_min", self.target_min, 1, 24 * 60)
        for name, items, cls, limit in (("queues", self.queues, QueueLine, MAX_SERVICES),
                                        ("desks", self.desks, DeskLine, 99),
                                        ("devices", self.devices, DeviceLine, MAX_DEVICES),
                                        ("alarms", self.alarms, Alarm, MAX_PICTURE_ALARMS),
                                        ("calls", self.calls, Call, MAX_PICTURE_CALLS)):
            if len(items) > limit:
                raise ContractError(f"field '{name}' lists {len(items)} items; at most {limit}")
            object.__setattr__(self, name, [parse_nested(cls, item, name) for item in items])


TYPES = {SitePicture.TYPE: SitePicture}
