"""The record check the central applies to what a site ships (contract.records): every record a real hub writes
passes it, of every kind, and a record with any one field of the wrong shape is refused naming that field."""
from datetime import timedelta

import pytest

from appliance import contract
from appliance.contract.records import KINDS, check_record
from tests.harness.hub_feed import START, command, feed, request, ticket


def every_kind(hub) -> list[dict]:
    """A day at a hub that writes a record of every kind, and one late ticket for an earlier day."""
    late = contract.TicketIssued(id="late", at=(START - timedelta(days=1)).isoformat(), source="kiosco-1",
                                 turn_id="2026-11-23/kiosco-1/R050", number="R-050", service="R", preferential=False)
    void = contract.TicketVoid(id="void", at=START.isoformat(), source="kiosco-1", turn_id="2026-11-24/kiosco-1/R099",
                               number="R-099", service="R", preferential=False, reason="Sin papel: ¿cambió el rollo?")
    burst = [contract.TicketIssued(id=f"burst{n}", at=START.isoformat(), source="kiosco-1",
                                   turn_id=f"2026-11-24/kiosco-1/S{n:03d}", number=f"S-{n:03d}", service="S",
                                   preferential=False) for n in range(1, 100)]   # more than a button can give
    feed(hub, *(ticket(hub, n) for n in range(1, 6)), ticket(hub, 1, preferential=True), void, late)
    feed(hub, request(1, "n1"), request(1, "r1", "recall"), request(1, "n2"), request(1, "x1", "no_show"))
    feed(hub, request(1, "n3"), request(1, "t1", "transfer", service="V"), request(1, "n4"))
    rating = contract.Rating(id="rate", at=START.isoformat(), source="escritorio-1", desk=1,
                             turn_id=hub.ledger.serving[1], value=5)
    feed(hub, rating, request(1, "p1", "pause"), request(1, "n5"), request(1, "c1", "close"))
    feed(hub, command("o1", "desk_status", desk=2, status="open"),
         command("o2", "advisor", desk=2, advisor="Carlos Andrés Núñez"), request(2, "d2"),
         command("o3", "undo_next", desk=2), command("o4", "call", desk=2, number="R-005"),
         command("o5", "reinstate", number="R-001"), command("o6", "call", desk=9, number="R-002"),
         command("o7", "manual", number="TM-001", service="R", desk=2, advisor="Ñoño Pérez",
                 issued_at=START.isoformat(), called_at=(START + timedelta(minutes=5)).isoformat(),
                 closed_at=(START + timedelta(minutes=9)).isoformat(), outcome="attended"))
    feed(hub, *burst)
    feed(hub, *(command(f"a{n}", "book", service="R", slot=(START + timedelta(minutes=30 + 15 * n)).isoformat())
                for n in range(3)), command("a3", "book_first", service="R", name="Rosa Díaz", consent=True))
    first, second, third, tomorrow = (hub.ledger.commands[f"a{n}"]["appointment"] for n in range(4))
    moved = (START + timedelta(days=1, hours=5)).isoformat()
    feed(hub, command("a4", "move_booking", appointment=tomorrow, slot=moved),
         command("a5", "cancel_booking", appointment=second), command("a6", "check_in", appointment=first),
         contract.CheckIn(id="scan", at=START.isoformat(), source="kiosco-1", appointment=first))
    hub.clock.moment = START + timedelta(hours=2)
    hub.step(timeout=0)
    feed(hub, command("a7", "check_in", appointment=third))     # missed first, then checked in late
    return [record for day in hub.store.days() for record in hub.store.day(day)]


def test_every_record_a_hub_writes_passes_the_central_s_check(hub):
    written = every_kind(hub)
    assert {r["kind"] for r in written} == set(KINDS)
    for record in written:
        assert check_record(record) is record


WRONG = [None, True, 3.5, -1, "", "x" * 400, "\u202e", [], {}, {"a": 1}]


# What a field may be besides what the hub wrote: null where the hub writes null, an empty text where a person's
# words may be empty, true for a flag, any number of seconds for an attention undone.
MAY_BE = {("desk", None), ("request_id", None), ("closed_turn", None), ("called_turn", None), ("seconds", None),
          ("seconds", 3.5), ("seconds", -1), ("preferential", True), ("recall", True), ("late", True),
          ("contact", True), ("advisor", ""), ("by", ""),
          ("reason", ""), ("refused", ""), ("coordinator", "")}


def test_a_record_with_any_field_of_the_wrong_shape_is_refused_naming_it(hub):
    refused, passed = 0, set()
    for record in every_kind(hub):
        for name in record:
            for value in WRONG:
                try:
                    check_record({**record, name: value})
                except contract.ContractError as exc:
                    assert f"'{name}'" in str(exc) or f"{name}." in str(exc), (name, value, str(exc))
                    refused += 1
                else:
                    passed.add((name, value if not isinstance(value, (list, dict)) else repr(value)))
    assert passed <= MAY_BE and refused > 1000


@pytest.mark.parametrize("value", ["not an object", 7, None, []])
def test_what_is_not_an_object_is_not_a_record(value):
    with pytest.raises(contract.ContractError, match="must be an object"):
        check_record(value)


def test_a_record_must_have_its_envelope_its_kind_s_fields_and_no_others():
    good = {"id": "r", "kind": "request", "day": "2026-11-24", "at": "2026-11-24T09:00:00-05:00", "desk": 1,
            "action": "next"}
    assert check_record(good) is good
    for missing in ("id", "kind", "day", "at", "desk", "action"):
        with pytest.raises(contract.ContractError, match=f"'{missing}'"):
            check_record({k: v for k, v in good.items() if k != missing})
    with pytest.raises(contract.ContractError, match="unknown field 'extra'"):
        check_record({**good, "extra": 1})
    with pytest.raises(contract.ContractError, match="not a real day"):
        check_record({**good, "day": "2026-02-30"})
    with pytest.raises(contract.ContractError, match="'kind' must be one of"):
        check_record({**good, "kind": "delete"})
