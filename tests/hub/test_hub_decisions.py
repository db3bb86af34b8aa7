"""The hub's decisions, fed straight into its loop (no broker): who is called, idempotency, bad input."""
import dataclasses
import json
import logging
import os
from datetime import timedelta

import pytest

from appliance import contract
from appliance import site as site_config
from appliance.records.journal import DayStore
from appliance.records.ledger import Turn
from appliance.records.turns_csv import write_csv
from appliance.site import QueuePolicy
from hub.export import rows
from hub.policy import choose_next
from hub.service import Hub
from tests.harness.hub_feed import START, command, feed, mqtt_message, request, serving, ticket
from tests.harness.roles import SettableClock


def test_preferential_first_then_first_come_first_served(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2), ticket(hub, 1, preferential=True))
    feed(hub, request(1, "a"))
    assert serving(hub, 1) == "P-001"
    feed(hub, request(2, "b"))
    assert serving(hub, 2) == "R-001"


def test_a_desk_only_gets_the_services_it_attends(hub):
    feed(hub, ticket(hub, 1, service="E"), ticket(hub, 1, service="S"))
    feed(hub, request(1, "a"))  # desk 1 attends R, S, F
    assert serving(hub, 1) == "S-001"


def test_two_desks_pressing_at_the_same_instant_get_different_turns(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2))
    feed(hub, request(1, "a"), request(2, "b"))  # one batch
    assert {serving(hub, 1), serving(hub, 2)} == {"R-001", "R-002"}


def test_a_repeated_request_gets_the_same_answer_and_calls_nobody_else(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2))
    feed(hub, request(1, "a"))
    feed(hub, request(1, "a"))
    assert serving(hub, 1) == "R-001"
    assert [t.number for t in hub.ledger.waiting()] == ["R-002"]


def test_next_closes_the_turn_served_as_attended_and_no_show_as_absent(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2))
    feed(hub, request(1, "a"), request(1, "b"))
    feed(hub, request(1, "c", "no_show"))
    outcomes = {t.number: t.outcome for t in hub.ledger.turns.values()}
    assert outcomes == {"R-001": "attended", "R-002": "no_show"}
    assert serving(hub, 1) is None


def test_a_press_for_another_turn_than_the_one_served_closes_nobody_and_calls_nobody(hub):
    """The desk's counter showed an older state (a broker restored from its last save): the press is answered with
    the turn the desk serves, which stays called; a press for that turn then closes it."""
    feed(hub, ticket(hub, 1), ticket(hub, 2), ticket(hub, 3))
    feed(hub, request(1, "a", on_counter=""))
    first = hub.ledger.serving[1]
    feed(hub, request(1, "b", on_counter=first))
    second = hub.ledger.serving[1]
    for rid, action in (("c", "next"), ("d", "no_show"), ("e", "recall")):
        feed(hub, request(1, rid, action, on_counter=first))
        assert hub.ledger.answered[1] == rid and serving(hub, 1) == "R-002"
    feed(hub, request(1, "f", on_counter=""))  # a counter that showed nobody
    assert serving(hub, 1) == "R-002" and hub.ledger.turns[second].recalls == 0
    assert [t.number for t in hub.ledger.waiting()] == ["R-003"]
    feed(hub, request(1, "g", "no_show", on_counter=second))
    assert hub.ledger.turns[second].outcome == "no_show" and serving(hub, 1) is None
    assert [t.number for t in hub.ledger.waiting()] == ["R-003"]


def test_a_rating_counts_once_and_only_for_a_turn_served_at_that_desk(hub, caplog):
    feed(hub, ticket(hub, 1))
    feed(hub, request(1, "a"))
    turn_id = hub.ledger.serving[1]
    rate = lambda rid, desk, value: contract.Rating(id=rid, at=START.isoformat(), source=f"escritorio-{desk}", desk=desk,
                                                     turn_id=turn_id, value=value)
    with caplog.at_level(logging.WARNING):
        feed(hub, rate("x1", 1, 4), rate("x1", 1, 4), rate("x2", 1, 1), rate("x3", 2, 5))
    assert hub.ledger.turns[turn_id].rating == 4
    assert "already rated 4" in caplog.text and "desk 2 has not served" in caplog.text


def test_replaying_every_event_changes_nothing(hub, tmp_path):
    turn_one = ticket(hub, 1)
    events = [turn_one, ticket(hub, 1, preferential=True), request(1, "a"), request(2, "b"), request(1, "c"),
              contract.Rating(id="x", at=START.isoformat(), source="escritorio-2", desk=2, turn_id=turn_one.turn_id, value=4)]
    feed(hub, *events)
    names = hub.config.service_names()
    csv_before = write_csv(tmp_path / "before.csv", rows(hub.store, START.date(), START.date(), names))
    before = {t: vars(turn).copy() for t, turn in hub.ledger.turns.items()}
    records = len(hub.store.day("2026-11-24"))
    feed(hub, *events)
    assert {t: vars(turn) for t, turn in hub.ledger.turns.items()} == before
    assert len(hub.store.day("2026-11-24")) == records
    write_csv(tmp_path / "after.csv", rows(hub.store, START.date(), START.date(), names))
    assert csv_before == 2 and (tmp_path / "after.csv").read_bytes() == (tmp_path / "before.csv").read_bytes()


def test_advisors_changed_in_the_site_file_are_recorded_without_a_restart(tmp_path):
    site_file = tmp_path / "site.toml"
    site_file.write_text(site_config.EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    clock = SettableClock(START)
    unit = Hub(site_config.load(site_file), tmp_path / "hub", now=clock, config_path=site_file)
    unit.clock = clock
    site_file.write_text(site_file.read_text(encoding="utf-8").replace("Ana María Peña", "Óscar Ibáñez"),
                         encoding="utf-8")
    os.utime(site_file, (1, 1))  # a different modification time, whatever the file system's resolution
    feed(unit, ticket(unit, 1), request(1, "a"))
    assert unit.ledger.turns[unit.ledger.serving[1]].advisor == "Óscar Ibáñez"
    unit.store.close()


def test_a_restarted_hub_rebuilds_the_day_from_its_store(hub, tmp_path):
    feed(hub, ticket(hub, 1), ticket(hub, 2), request(1, "a"))
    hub.store.close()
    again = Hub(hub.config, tmp_path, now=hub.clock)
    assert serving(again, 1) == "R-001"
    assert [t.number for t in again.ledger.waiting()] == ["R-002"]
    again.store.close()


@pytest.mark.parametrize("topic, payload, reason", [
    (contract.ticket_topic("kiosco-1"), b"not json", "not JSON"),
    (contract.request_topic(1), json.dumps({"v": 1, "type": "desk_request"}).encode(), "missing field"),
    (contract.request_topic(9), request(9, "z").to_json(), "request for desk 9"),
    (contract.ticket_topic("kiosco-9"), b"", "not JSON"),
    ("turnero/v1/desk/1/other", b"{}", "is not one the hub reads"),
])
def test_a_malformed_message_is_logged_with_its_reason_and_the_hub_keeps_serving(hub, caplog, topic, payload, reason):
    with caplog.at_level(logging.WARNING):
        hub.inbox.put(mqtt_message(topic, payload))
        hub.step(timeout=0)
    assert reason in caplog.text
    feed(hub, ticket(hub, 1), request(1, "a"))
    assert serving(hub, 1) == "R-001"


# --- the queue policy, with scripted arrivals ---------------------------------------------------------------


def arrivals(*kinds: str) -> list[Turn]:
    """'n' and 'p' turns for service R, one minute apart from 9:00, in the order given."""
    return [Turn(f"t{i}", f"{k.upper()}-{i:03d}", "R", k == "p", "kiosco-1",
                 (START + timedelta(minutes=i)).isoformat()) for i, k in enumerate(kinds)]


def calls(waiting: list[Turn], policy: QueuePolicy, *, now=START) -> list[str]:
    """Serves everything at one desk and returns the order of the calls."""
    order, streak, waiting = [], 0, list(waiting)
    while (turn := choose_next(waiting, ("R",), policy=policy, preferential_streak=streak, now=now)) is not None:
        waiting.remove(turn)
        order.append(turn.number[0])
        streak = streak + 1 if turn.preferential else 0
    return order


def test_strict_priority_calls_every_preferential_turn_first():
    assert calls(arrivals("n", "n", "p", "p", "p", "p"), QueuePolicy("strict")) == list("PPPPNN")


def test_ratio_lets_a_normal_turn_through_after_n_preferential_calls():
    assert calls(arrivals("n", "n", "p", "p", "p", "p", "p"), QueuePolicy("ratio", ratio=2)) == list("PPNPPNP")


def test_aging_sends_a_turn_that_waited_too_long_before_everyone():
    turns = arrivals("n", "p", "p")  # the normal turn arrived at 9:00
    assert calls(turns, QueuePolicy("strict", max_wait_min=30), now=START + timedelta(minutes=20))[0] == "P"
    assert calls(turns, QueuePolicy("strict", max_wait_min=30), now=START + timedelta(minutes=31))[0] == "N"


def test_the_hub_applies_the_sites_ratio_across_calls(hub):
    hub.config = dataclasses.replace(hub.config, queue=QueuePolicy("ratio", ratio=1))
    feed(hub, ticket(hub, 1), ticket(hub, 2), ticket(hub, 1, preferential=True), ticket(hub, 2, preferential=True))
    numbers = []
    for rid in "abcd":
        feed(hub, request(1, rid))
        numbers.append(serving(hub, 1))
    assert numbers == ["P-001", "R-001", "P-002", "R-002"]


def test_a_void_number_is_recorded_closed_and_never_called(hub):
    event = ticket(hub, 1)
    void = contract.TicketVoid(id="v1", at=event.at, source="kiosco-1", turn_id=event.turn_id, number=event.number,
                               service="R", preferential=False, reason="sin papel")
    feed(hub, void, request(1, "a"))
    assert hub.ledger.turns[event.turn_id].outcome == "void"
    assert serving(hub, 1) is None


def test_the_board_gives_the_pace_of_a_service_once_three_attentions_are_measured(hub):
    feed(hub, *(ticket(hub, n) for n in range(1, 6)))
    for rid in "abcd":
        hub.clock.moment += timedelta(minutes=6)
        feed(hub, request(1, rid))
    registro = next(w for w in hub.board().waiting if w.service == "R")
    assert (registro.normal, registro.minutes_per_turn) == (1, 6)  # 6-minute attentions, desk 1 the only one open
    salud = next(w for w in hub.board().waiting if w.service == "S")
    assert salud.minutes_per_turn is None
    feed(hub, command("o2", "desk_status", desk=2, status="open"), command("o3", "desk_status", desk=3, status="open"))
    registro = next(w for w in hub.board().waiting if w.service == "R")
    assert registro.minutes_per_turn == 2   # three open desks attend R


def test_the_retained_board_follows_every_change_of_the_queues_and_the_pace(hub, monkeypatch):
    """What a display and a kiosk show comes from the last board published: a transfer adds a citizen to another
    queue, and a NEXT with nobody waiting closes an attention that changes the pace; both must be published,
    though neither calls anybody."""
    published = []
    monkeypatch.setattr(hub.link, "publish", lambda topic, payload, **_: published.append((topic, payload)))

    def shown(service: str) -> contract.Waiting:
        board = contract.expect([p for t, p in published if t == contract.BOARD_TOPIC][-1], contract.Board)
        return next(w for w in board.waiting if w.service == service)

    feed(hub, command("o2", "desk_status", desk=2, status="open"), command("o3", "desk_status", desk=3, status="open"))
    feed(hub, *(ticket(hub, n) for n in range(1, 5)))
    for rid in "abcd":
        hub.clock.moment += timedelta(minutes=6)
        feed(hub, request(1, rid))
    assert (shown("R").normal, shown("R").minutes_per_turn) == (0, 2)   # three 6-minute attentions, 3 open desks
    hub.clock.moment += timedelta(minutes=30)
    feed(hub, request(1, "e"))   # R-004 attended for 30 minutes; nobody waits, nobody is called
    assert shown("R").minutes_per_turn == hub.board().waiting[0].minutes_per_turn == 4
    feed(hub, ticket(hub, 5), request(2, "f"))
    feed(hub, contract.DeskRequest(id="g", at=START.isoformat(), source="escritorio-2", desk=2, action="transfer",
                                   service="V", on_counter=None))
    assert shown("V").normal == 1   # R-005 waits for Vivienda now


def test_a_transfer_the_hub_will_not_make_is_answered_with_the_reason_and_moves_nobody(hub, monkeypatch):
    """The desk shows the reason on its counter display instead of waiting for an answer that never comes."""
    published = []
    monkeypatch.setattr(hub.link, "publish", lambda topic, payload, **_: published.append((topic, payload)))

    def answer() -> contract.DeskState:
        return contract.expect([p for t, p in published if t == contract.desk_state_topic(1)][-1], contract.DeskState)

    feed(hub, request(1, "a", "transfer", service="V"))
    assert (answer().answered, answer().refused) == ("a", "Nadie en atención")
    feed(hub, ticket(hub, 1), request(1, "b"))
    for rid, service, reason in (("c", "R", "Es el mismo servicio"), ("d", "Z", "Servicio desconocido")):
        feed(hub, request(1, rid, "transfer", service=service))
        assert (answer().answered, answer().refused, answer().serving["number"]) == (rid, reason, "R-001")
    feed(hub, request(1, "e", "transfer", service="V"))
    assert (answer().answered, answer().refused, answer().serving) == ("e", None, None)
    assert [(t.number, t.service) for t in hub.ledger.waiting()] == [("R-001", "V")]


def test_two_copies_of_a_ticket_of_an_earlier_day_in_one_batch_are_recorded_once(hub):
    """A kiosk's outbox replayed after an outage, its last send repeated: both copies reach one batch."""
    late = contract.TicketIssued(id="late-7", at="2026-11-23T15:50:00-05:00", source="kiosco-1",
                                 turn_id="2026-11-23/kiosco-1/R007", number="R-007", service="R", preferential=False)
    feed(hub, late, late)
    assert [r["kind"] for r in hub.store.day("2026-11-23")] == ["ticket", "close"]


def test_before_today_has_measured_a_service_its_pace_is_that_of_the_same_weekday_and_hour_of_past_weeks(hub,
                                                                                                       tmp_path):
    """A week ago, Tuesday at 9, three 6-minute attentions of Registro: this Tuesday at 9 the first tickets have
    that pace, marked as other days'."""
    feed(hub, *(ticket(hub, n) for n in range(1, 4)))
    for rid in "abc":
        feed(hub, request(1, rid))
        hub.clock.moment += timedelta(minutes=6)
    feed(hub, request(1, "d"))                           # R-003 closes: three attentions of 6 minutes
    week_ago = (START - timedelta(weeks=1)).date().isoformat()
    past = DayStore(tmp_path / "tuesday" / "days")
    past.append([json.loads(json.dumps(r).replace(hub.today, week_ago)) for r in hub.store.day(hub.today)])
    past.close()
    clock = SettableClock(START.replace(minute=30))
    today = Hub(site_config.load(site_config.EXAMPLE), tmp_path / "tuesday", now=clock)
    today.clock = clock
    feed(today, *(ticket(today, n) for n in range(1, 4)), request(1, "x"))   # desk 1 opens and calls R-001
    registro = next(w for w in today.board().waiting if w.service == "R")
    assert (registro.normal, registro.minutes_per_turn, registro.from_history) == (2, 6, True)
    assert registro.estimated_minutes(2) == 18
    clock.moment = START.replace(hour=15)                # no attentions at 15 h in the past weeks: no guess
    assert next(w for w in today.board().waiting if w.service == "R").minutes_per_turn is None
    today.store.close()
