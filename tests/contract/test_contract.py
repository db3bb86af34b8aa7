"""The MQTT contract: payloads round-trip, and anything else is refused with a reason."""
import json

import pytest

from appliance import contract
from appliance.contract import ContractError

AT = "2026-11-24T09:03:00.000-05:00"


def ticket(**changes) -> dict:
    body = {"v": 1, "type": "ticket_issued", "id": "e1", "at": AT, "source": "kiosco-1",
            "turn_id": "2026-11-24/kiosco-1/E007", "number": "E-007", "service": "E", "preferential": False}
    return {**body, **changes}


def test_a_ticket_round_trips_with_its_accents_intact():
    board = contract.Board(id="b", at=AT, source="hub", waiting=[], calls=[contract.Call(
        id="c", at=AT, source="hub", turn_id="2026-11-24/kiosco-1/E007", number="E-007", service="E",
        service_name="Educación", preferential=False, desk=2, desk_name="Módulo 2")])
    payload = board.to_json()
    assert "Educación".encode() in payload and "Módulo 2".encode() in payload
    assert contract.decode(payload) == board


def test_an_optional_field_with_nothing_to_say_is_left_out_so_an_older_receiver_takes_the_message():
    plain = contract.decode(json.dumps(ticket()).encode())
    assert plain.category is None and json.loads(plain.to_json()) == ticket()       # no "category": null
    categorised = contract.decode(json.dumps(ticket(turn_id="2026-11-24/kiosco-1/M007", number="M-007",
                                                    preferential=True, category="persona_mayor")).encode())
    assert json.loads(categorised.to_json())["category"] == "persona_mayor"
    # A field that must be there to be read, even when empty, is sent as null: a desk's state says "nobody".
    state = contract.DeskState(id="s", at=AT, source="hub", desk=1, serving=None, answered=None)
    assert json.loads(state.to_json())["serving"] is None


@pytest.mark.parametrize("payload, reason", [
    (b"\xff\xfe", "not UTF-8"),
    (b'{"v": 1,', "not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (json.dumps(ticket(v=2)).encode(), "unsupported schema version 2"),
    (json.dumps(ticket(type="teleport")).encode(), "unknown message type 'teleport'"),
    (json.dumps(ticket(preferential="yes")).encode(), "field 'preferential' must be true or false"),
    (json.dumps(ticket(at="ayer")).encode(), "field 'at' is not an ISO 8601 time"),
    (json.dumps(ticket(at="2026-11-24T09:00:00")).encode(), "has no UTC offset"),
    (json.dumps(ticket(turn_id="../../etc")).encode(), "field 'turn_id' must look like"),
    (json.dumps({k: v for k, v in ticket().items() if k != "number"}).encode(), "missing field 'number'"),
    (b"{" + b" " * contract.MAX_PAYLOAD_BYTES + b"}", "larger than"),
])
def test_a_bad_payload_is_refused_with_its_reason(payload, reason):
    with pytest.raises(ContractError, match=reason):
        contract.decode(payload)


def test_each_topic_carries_one_type():
    with pytest.raises(ContractError, match="message type ticket_issued where rating is expected"):
        contract.expect(json.dumps(ticket()).encode(), contract.Rating)


def test_topics_the_hub_reads():
    assert contract.parse_topic(contract.ticket_topic("kiosco-1")) == ("ticket", "kiosco-1")
    assert contract.parse_topic(contract.rating_topic(3)) == ("rating", "3")
    with pytest.raises(ContractError):
        contract.parse_topic("turnero/v1/desk/x/request")
