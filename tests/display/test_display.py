"""The display role: which calls it announces, and what it shows after a restart or a broker blip. (The
scene, the painter and the sound have their own tests.)"""
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt import subscribe

from appliance import contract
from appliance import site as site_config
from appliance.dev.always_open import AlwaysOpen
from appliance.display.spoken import announcement
from appliance.display.unit import DisplayUnit

CONFIG = site_config.load(site_config.EXAMPLE)
NOW = datetime(2026, 11, 24, 9, 3, tzinfo=CONFIG.timezone)
AT = NOW.isoformat()


def call(i: int, number: str, desk: int, *, preferential=False, recall=False, call_id=None) -> contract.Call:
    return contract.Call(id=call_id or f"c{i}", at=AT, source="hub",
                         turn_id=f"2026-11-24/kiosco-1/{number.replace('-', '')}",
                         number=number, service="S", service_name="Salud", preferential=preferential, desk=desk,
                         desk_name=f"Módulo {desk}", recall=recall)


def board(*calls, waiting=()) -> contract.Board:
    return contract.Board(id="b", at=AT, source="hub", calls=list(calls), waiting=list(waiting))


def retained_board(config) -> contract.Board:
    """What a display connecting now would be handed first."""
    message = subscribe.simple(contract.BOARD_TOPIC, hostname=config.broker.host, port=config.broker.port,
                               tls={"ca_certs": str(config.broker.ca_file)},
                               retained=True)
    return contract.expect(message.payload, contract.Board)


class FakeAnnouncer:
    def __init__(self):
        self.said = []

    def start(self):
        pass

    def stop(self):
        pass

    def announce(self, text):
        self.said.append(text)


def test_the_display_announces_each_new_call_once_and_not_the_board_it_finds_at_start():
    unit = DisplayUnit(CONFIG, "pantalla-1", announcer=FakeAnnouncer(), now=lambda: NOW)

    def deliver(b):
        message = mqtt.MQTTMessage(topic=contract.BOARD_TOPIC.encode())
        message.payload = b.to_json()
        unit.inbox.put(message)
        unit.step(0)

    deliver(board(call(1, "R-001", 1)))                       # retained, from before the restart
    deliver(board(call(3, "S-002", 2), call(2, "R-002", 1), call(1, "R-001", 1)))   # two calls at once
    deliver(board(call(4, "S-002", 2, recall=True), call(3, "S-002", 2), call(2, "R-002", 1)))
    assert [c.number for c in unit.announced] == ["R-002", "S-002", "S-002"]
    assert unit.announcer.said[-1] == announcement("S-002", "Módulo 2", True)
    assert unit.scene().highlight


def test_an_older_board_coming_back_does_not_announce_a_call_again():
    # A broker restored from its last save after a power cut hands out an older retained board; then the hub
    # republishes the current one.
    unit = DisplayUnit(CONFIG, "pantalla-1", announcer=FakeAnnouncer(), now=lambda: NOW)
    older, current = board(call(1, "R-001", 1)), board(call(2, "R-002", 2), call(1, "R-001", 1))
    for b in (older, current, older, current):
        message = mqtt.MQTTMessage(topic=contract.BOARD_TOPIC.encode())
        message.payload = b.to_json()
        unit.inbox.put(message)
        unit.step(0)
    assert [c.number for c in unit.announced] == ["R-002"]


def test_a_rebooted_display_does_not_announce_again_what_it_announced_before(tmp_path):
    # The display and the broker lose power together: the broker comes back with an older retained board.
    def deliver(unit, *boards):
        for b in boards:
            message = mqtt.MQTTMessage(topic=contract.BOARD_TOPIC.encode())
            message.payload = b.to_json()
            unit.inbox.put(message)
            unit.step(0)

    older = board(call(1, "R-001", 1))
    current = board(call(2, "R-002", 2), call(1, "R-001", 1))
    before = DisplayUnit(CONFIG, "pantalla-1", announcer=FakeAnnouncer(), now=lambda: NOW, state_dir=tmp_path)
    deliver(before, older, current)
    assert [c.number for c in before.announced] == ["R-002"]
    after = DisplayUnit(CONFIG, "pantalla-1", announcer=FakeAnnouncer(), now=lambda: NOW, state_dir=tmp_path)
    deliver(after, older, current, board(call(3, "S-001", 1), *current.calls))
    assert [c.number for c in after.announced] == ["S-001"]


def test_a_display_shows_the_retained_board_at_start_and_follows_it_after_a_broker_restart(broker, tmp_path):
    from hub.service import Hub
    from tests.harness.roles import STEP_DEADLINE_S, Running, wait_until

    config = CONFIG.with_broker(broker.host, broker.port, broker.ca_file)
    with Running(Hub(config, tmp_path / "hub")) as hub:
        assert hub.link.wait_connected(STEP_DEADLINE_S)
        event = contract.TicketIssued(id="t1", at=hub.now().isoformat(), source="kiosco-1",
                                      turn_id=f"{hub.today}/kiosco-1/R001", number="R-001", service="R",
                                      preferential=False)
        hub.link.publish(contract.ticket_topic("kiosco-1"), event.to_json())
        request = contract.DeskRequest(id="q1", at=hub.now().isoformat(), source="escritorio-2", desk=2,
                                       action="next")
        hub.link.publish(contract.request_topic(2), request.to_json())
        wait_until(lambda: hub.ledger.serving.get(2), what="the call")
        wait_until(lambda: retained_board(config).calls, what="the board with the call, retained")
        with Running(DisplayUnit(config, "pantalla-1", announcer=FakeAnnouncer(), opening=AlwaysOpen())) as display:
            wait_until(lambda: display.board and display.hub_online, what="the retained board and hub status")
            assert display.scene().headline.number == "R-001" and display.announced == []  # shown, not re-announced
            broker.restart()
            wait_until(lambda: display.link.connected and hub.link.connected, what="reconnection")
            event = contract.TicketIssued(id="t2", at=hub.now().isoformat(), source="kiosco-1",
                                          turn_id=f"{hub.today}/kiosco-1/R002", number="R-002", service="R",
                                          preferential=False)
            hub.link.publish(contract.ticket_topic("kiosco-1"), event.to_json())
            hub.link.publish(contract.request_topic(2), contract.DeskRequest(
                id="q2", at=hub.now().isoformat(), source="escritorio-2", desk=2, action="next").to_json())
            wait_until(lambda: display.scene().headline.number == "R-002", what="the new call")
            assert [c.number for c in display.announced] == ["R-002"]
