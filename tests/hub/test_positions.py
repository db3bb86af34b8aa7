"""The positions the hub publishes for the "Mi turno" page: each turn's people ahead in the order the policy
calls them, a transfer under its ticket's code, shards published only when they change and never past their
bound, and a strict decode of what a reader receives."""
import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance import contract
from appliance import site as site_config
from appliance.core.public_code import public_code
from appliance.records.ledger import Turn
from appliance.site import PublicSettings, QueuePolicy
from appliance.web.mi_turno import PositionsBook
from hub.policy import choose_next, queue_order
from hub.service import Hub
from tests.harness.hub_feed import START, feed, request, ticket
from tests.harness.roles import SettableClock, Ticking

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 90)), max_size=14),
       st.sampled_from(["strict", "ratio"]), st.integers(1, 4), st.sampled_from([0, 45]))
def test_the_queue_order_is_the_order_a_desk_calls_them_in(turns, kind, ratio, max_wait):
    waiting = [Turn(f"2026-11-24/k/R{i:03d}", f"R-{i:03d}", "R", preferential, "k",
                    (NOW - timedelta(minutes=ago)).isoformat()) for i, (preferential, ago) in enumerate(turns)]
    policy = QueuePolicy(kind=kind, ratio=ratio, max_wait_min=max_wait)
    called, streak, left = [], 0, list(waiting)
    while left:
        turn = choose_next(left, ("R",), policy=policy, preferential_streak=streak, now=NOW)
        called.append(turn)
        left.remove(turn)
        streak = streak + 1 if turn.preferential else 0
    assert queue_order(waiting, policy=policy, now=NOW) == called


@pytest.fixture
def hub(tmp_path):
    secret = b"el secreto de esta sede de prueba, de 64 letras o mas, siempre el mismo"
    (tmp_path / "secret").write_bytes(secret)
    config = dataclasses.replace(site_config.load(site_config.EXAMPLE), public=PublicSettings(
        address="https://turno.cis-cali.example", secret_file=tmp_path / "secret"))
    clock = SettableClock(START)
    unit = Hub(config, tmp_path / "hub", now=clock, monotonic=Ticking())     # a second between two batches
    unit.clock, unit.secret, unit.published = clock, secret, []
    publish = unit.retained.publish
    unit.retained.publish = lambda topic, message: (unit.published.append((topic, message)), publish(topic, message))
    yield unit
    unit.store.close()


def position(hub, number: str) -> contract.Position:
    """The latest published position of the turn with this number, as a reader finds it by its ticket's code."""
    turn_id = next(t.turn_id for t in hub.ledger.turns.values() if t.number == number)
    code = public_code(hub.secret, turn_id)
    shard = [m for topic, m in hub.published if topic == contract.positions_topic(contract.shard_of(code))][-1]
    decoded = contract.expect(shard.to_json(), contract.Positions)
    return next(p for p in decoded.positions if p.public_code == code)


def test_people_ahead_follow_the_policy_and_a_transfer_keeps_its_ticket(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2), ticket(hub, 1, preferential=True))
    # The site's policy is "ratio": the preferential P-001, taken last, is called before both.
    assert [position(hub, n).ahead for n in ("P-001", "R-001", "R-002")] == [0, 1, 2]
    assert position(hub, "R-002").service_name == "Registro y Aportes"
    feed(hub, request(2, "r1"))
    assert position(hub, "P-001") == contract.Position(
        public_code=position(hub, "P-001").public_code, number="P-001", state="called",
        service_name="Registro y Aportes", desk_name="Módulo 2")
    assert position(hub, "R-002").ahead == 1
    feed(hub, request(2, "r2", "transfer", service="V"))
    moved = position(hub, "P-001")
    assert (moved.state, moved.service_name, moved.ahead) == ("waiting", "Vivienda", 0)
    feed(hub, request(2, "r3"), request(2, "r4"))
    assert position(hub, "P-001").state == "attended"


def test_a_shard_is_published_again_only_when_what_it_holds_changes(hub):
    feed(hub, *(ticket(hub, n) for n in range(1, 40)))
    before = len(hub.published)
    feed(hub, request(1, "r0", "pause"))            # the board changes, none of the turns' positions
    sent = {topic for topic, _ in hub.published[before:]}
    assert contract.BOARD_TOPIC in sent and not any("positions" in topic for topic in sent)
    before = len(hub.published)
    feed(hub, request(3, "r1"))                     # R-001 called: every waiting turn moves up one
    changed = {topic for topic, _ in hub.published[before:] if "positions" in topic}
    assert len(changed) > 1


def test_a_shard_keeps_its_open_turns_and_as_many_ended_ones_as_fit(hub, monkeypatch):
    monkeypatch.setattr(contract, "MAX_POSITIONS", 2)
    feed(hub, *(ticket(hub, n) for n in range(1, 101)))
    feed(hub, *(request(3, f"r{n}") for n in range(1, 100)))     # 98 attended, R-099 called, R-100 waiting
    shards = hub.positions.shards(hub.ledger, hub.board(), hub.clock.moment)
    kept = {p["number"]: p for held in shards.values() for p in held}
    assert all(len(held) <= 2 for held in shards.values()) and len(kept) < 100    # 100 codes in 32 shards
    assert (kept["R-099"]["state"], kept["R-100"]["state"]) == ("called", "waiting")


@pytest.mark.parametrize("change, why", [
    (lambda body: body.update(shard="b"), "another shard"),
    (lambda body: body.update(shard="I"), "field 'shard'"),
    (lambda body: body["positions"][0].update(public_code="a" * 17), "field 'public_code'"),
    (lambda body: body["positions"][0].update(ahead=None), "'ahead' is required"),
    (lambda body: body["positions"][0].update(state="called"), "'ahead' is required for a waiting turn, and only"),
    (lambda body: body["positions"][0].update(service_name="x" * 81), "field 'service_name'"),
    (lambda body: body.update(positions=body["positions"] * (contract.MAX_POSITIONS + 1)), "at most"),
])
def test_a_reader_refuses_positions_that_break_the_contract(change, why):
    good = contract.Positions(id="p1", at=START.isoformat(), source="hub", name="CIS Cali", day="2026-11-24",
                              shard="a", positions=[contract.Position(
                                  public_code="a" + "2" * 15, number="R-001", state="waiting",
                                  service_name="Registro y Aportes", ahead=0, minutes=None)])
    assert contract.expect(good.to_json(), contract.Positions).positions == good.positions
    body = json.loads(good.to_json())
    change(body)
    with pytest.raises(contract.ContractError, match=why):
        contract.expect(json.dumps(body).encode(), contract.Positions)


def test_a_book_of_several_sites_finds_each_code_in_its_own_and_nothing_of_another_day():
    today = ["2026-11-24"]
    book = PositionsBook(lambda: today[0])

    def shard(site_name: str, code: str, day: str = "2026-11-24") -> contract.Positions:
        return contract.Positions(id=contract.new_id(), at=START.isoformat(), source="hub", name=site_name, day=day,
                                  shard=code[0], positions=[contract.Position(
                                      public_code=code, number="R-001", state="attended",
                                      service_name="Registro y Aportes")])

    book.take(shard("CIS Cali", "a" + "2" * 15), site="cali")
    book.take(shard("CIS Palmira", "a" + "3" * 15), site="palmira")      # the same shard, another site
    book.take(shard("CIS Tuluá", "b" + "2" * 15, day="2026-11-23"), site="tulua")
    assert book.find("a" + "2" * 15)[0] == "CIS Cali" and book.find("a" + "3" * 15)[0] == "CIS Palmira"
    assert book.find("b" + "2" * 15) is None and book.find("a" + "4" * 15) is None and book.find("a" * 40) is None
    today[0] = "2026-11-25"
    assert book.find("a" + "2" * 15) is None
