"""A hub fed events straight into its loop (no broker), on a clock the test moves: the `hub` fixture and
the events it is fed."""
from __future__ import annotations

from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import pytest

from appliance import contract
from appliance import site as site_config
from hub.service import Hub
from tests.harness.roles import SettableClock

TZ = site_config.load(site_config.EXAMPLE).timezone
START = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)


def mqtt_message(topic: str, payload: bytes, mid: int = 1) -> mqtt.MQTTMessage:
    """A message as paho hands it to a role's inbox."""
    msg = mqtt.MQTTMessage(mid, topic.encode())
    msg.payload, msg.qos = payload, 1
    return msg


@pytest.fixture
def hub(tmp_path):
    clock = SettableClock(START)
    unit = Hub(site_config.load(site_config.EXAMPLE), tmp_path, now=clock)
    unit.clock = clock
    yield unit
    unit.store.close()


def ticket(hub, number: int, service: str = "R", preferential: bool = False) -> contract.TicketIssued:
    prefix = "P" if preferential else service
    hub.clock.moment += timedelta(minutes=1)
    return contract.TicketIssued(id=f"t{prefix}{number}", at=hub.clock.moment.isoformat(), source="kiosco-1",
                                 turn_id=f"2026-11-24/kiosco-1/{prefix}{number:03d}",
                                 number=f"{prefix}-{number:03d}", service=service, preferential=preferential)


def request(desk: int, rid: str, action: str = "next", on_counter: str | None = None,
            service: str | None = None, code: str | None = None) -> contract.DeskRequest:
    return contract.DeskRequest(id=rid, at=START.isoformat(), source=f"escritorio-{desk}", desk=desk, action=action,
                                on_counter=on_counter, service=service, code=code)


def command(rid: str, action: str, coordinator: str = "Marta Lucía Gómez", **fields) -> contract.Command:
    """A coordinator's order from the page."""
    return contract.Command(id=rid, at=START.isoformat(), source="hub-web", action=action, coordinator=coordinator,
                            **fields)


def feed(hub, *events) -> None:
    for event in events:
        topic = (contract.ticket_topic(event.source) if isinstance(event, (contract.TicketIssued, contract.TicketVoid))
                 else contract.request_topic(event.desk) if isinstance(event, contract.DeskRequest)
                 else contract.COMMAND_TOPIC if isinstance(event, contract.Command)
                 else contract.check_in_topic(event.source) if isinstance(event, contract.CheckIn)
                 else contract.rating_topic(event.desk))
        hub.inbox.put(mqtt_message(topic, event.to_json()))
    while hub.step(timeout=0):
        pass


def serving(hub, desk: int) -> str | None:
    turn = hub.ledger.turns.get(hub.ledger.serving.get(desk, ""))
    return turn.number if turn else None
