"""The step every role's loop takes: what it takes from the inbox, and a message that breaks its handler."""
import logging
import queue

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.steps import arrived, refusing


def inbox_of(*items) -> queue.Queue:
    inbox = queue.Queue()
    for item in items:
        inbox.put(item)
    return inbox


def test_a_device_takes_one_item_a_step_the_hub_a_batch_the_page_everything():
    inbox = inbox_of(*range(7))
    assert arrived(inbox, 0.01) == [0]
    assert arrived(inbox, 0.01, 4) == [1, 2, 3, 4]
    assert arrived(inbox, 0.01, None) == [5, 6]
    assert arrived(inbox, 0.01, None) == [] and inbox.empty()


def test_a_message_that_breaks_its_handler_is_refused_once_and_the_next_one_is_handled(caplog):
    refusals, handled = contract.Refusals(), []

    def handle(message):
        payload = contract.expect(message.payload, contract.Board)
        handled.append(payload.id)
        return payload.id

    bad, good = mqtt.MQTTMessage(1, b"turnero/v1/hub/board"), mqtt.MQTTMessage(2, b"turnero/v1/hub/board")
    bad.payload = b'{"v": 1, "type": "board", "calls": [[[[[]]]]]}'
    good.payload = contract.Board(id="b1", at="2026-11-24T09:00:00-05:00", source="hub", calls=[],
                                  waiting=[]).to_json()
    with caplog.at_level(logging.WARNING):
        assert refusing(refusals, "pantalla-1", handle, bad) is None
        assert refusing(refusals, "pantalla-1", handle, good) == "b1"
    assert handled == ["b1"] and refusals == {"ContractError": 1}
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "pantalla-1: refused a message on turnero/v1/hub/board" in refused[0]


def test_a_fault_of_ours_in_a_handler_is_refused_with_where_it_happened(caplog):
    refusals = contract.Refusals()
    message = mqtt.MQTTMessage(1, b"turnero/v1/desk/1/state")

    def broken(_message):
        return {}["missing"]

    with caplog.at_level(logging.WARNING):
        assert refusing(refusals, "escritorio-1", broken, message) is None
    assert refusals == {"KeyError": 1}
    assert "KeyError at test_steps.py:" in caplog.text
