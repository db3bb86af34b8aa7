"""Every topic of the contract: who publishes there, and whether it is retained (docs/protocol.md has the table)."""
from __future__ import annotations

from appliance.contract.fields import ContractError, shown

ROOT = "turnero/v1"
ONLINE = "online"
OFFLINE = "offline"


def status_topic(device: str) -> str:
    """Retained "online"/"offline" of a device, also its last will."""
    return f"{ROOT}/status/{device}"


def desk_device(number: int) -> str:
    """The device name of desk `number`'s unit: its MQTT client, status topic and broker user."""
    return f"escritorio-{number}"


def heartbeat_topic(device: str) -> str:
    """A device's clock, published now and then so the hub can flag one that is off (not retained)."""
    return f"{ROOT}/heartbeat/{device}"


def applied_topic(device: str) -> str:
    """Retained by the hub per device: which of the device's facts it has recorded (Applied)."""
    return f"{ROOT}/hub/applied/{device}"


def ticket_topic(kiosk: str) -> str:
    return f"{ROOT}/kiosk/{kiosk}/ticket"


def printer_topic(kiosk: str) -> str:
    """Retained PrinterStatus of a kiosk."""
    return f"{ROOT}/kiosk/{kiosk}/printer"


def check_in_topic(kiosk: str) -> str:
    """A kiosk's CheckIn, read by the hub."""
    return f"{ROOT}/kiosk/{kiosk}/checkin"


def check_in_answer_topic(kiosk: str) -> str:
    """The hub's CheckInAnswer to that kiosk (not retained: the answer is for the citizen at it now)."""
    return f"{ROOT}/kiosk/{kiosk}/answer"


def slip_topic(kiosk: str) -> str:
    """The coordinators' page's AppointmentSlip for that kiosk to print (not retained)."""
    return f"{ROOT}/kiosk/{kiosk}/slip"


def request_topic(desk: int) -> str:
    return f"{ROOT}/desk/{desk}/request"


def rating_topic(desk: int) -> str:
    return f"{ROOT}/desk/{desk}/rating"


def desk_state_topic(desk: int) -> str:
    return f"{ROOT}/desk/{desk}/state"


BOARD_TOPIC = f"{ROOT}/hub/board"
COMMAND_TOPIC = f"{ROOT}/hub/command"     # the coordinators' page's orders (Command), read by the hub
TICKETS_ALL = f"{ROOT}/kiosk/+/ticket"
CHECK_INS_ALL = f"{ROOT}/kiosk/+/checkin"
REQUESTS_ALL = f"{ROOT}/desk/+/request"
RATINGS_ALL = f"{ROOT}/desk/+/rating"

ALARMS_TOPIC = f"{ROOT}/hub/alarms"


def is_online(status: bytes) -> bool:
    """A retained status: "online", or "offline" (also when cleared: empty); anything else is refused."""
    if status in (ONLINE.encode(), OFFLINE.encode(), b""):
        return status == ONLINE.encode()
    raise ContractError(f"a status must be '{ONLINE}' or '{OFFLINE}', got {status[:40]!r}")


def parse_topic(topic: str) -> tuple[str, str]:
    """('ticket' | 'checkin', kiosk id), ('request' | 'rating', desk number as text), ('command', 'hub-web') or
    ContractError."""
    if topic == COMMAND_TOPIC:
        return "command", "hub-web"
    parts = topic.split("/")
    if len(parts) == 5 and "/".join(parts[:2]) == ROOT:
        role, device, leaf = parts[2:]
        if role == "kiosk" and leaf in ("ticket", "checkin"):
            return leaf, device
        if role == "desk" and leaf in ("request", "rating") and device.isascii() and device.isdigit():
            return leaf, device
    raise ContractError(f"topic {shown(topic, 80)} is not one the hub reads")
