"""A desk's status and a coordinator's orders, fed straight into the hub's loop: what each does, what it refuses
and why, and that the day's record names the coordinator."""
import json
from datetime import timedelta

from appliance import contract
from appliance.records.ledger import fold
from hub.export import rows
from hub.retained import build_desk_state
from tests.harness.hub_feed import START, command, feed, request, serving, ticket

DAY = START.date()


def answer(hub, rid: str) -> str | None:
    """What the page reads back: None when the order was carried out, else the reason it was refused."""
    assert rid in hub.ledger.commands, f"order {rid} not recorded"
    return hub.ledger.commands[rid].get("refused")


def records(hub, kind: str) -> list[dict]:
    return [r for r in hub.store.day(hub.today) if r["kind"] == kind]


def test_a_desk_nobody_opened_is_closed_and_its_next_opens_it(hub):
    assert hub.ledger.desk_status(1) == "closed"
    feed(hub, ticket(hub, 1), request(1, "a"))
    assert hub.ledger.desk_status(1) == "open" and serving(hub, 1) == "R-001"
    assert [(r["status"], r["advisor"]) for r in records(hub, "desk")] == [("open", "Ana María Peña")]


def test_pause_ends_the_attention_calls_nobody_and_takes_the_desk_out_of_the_estimate(hub):
    feed(hub, command("o2", "desk_status", desk=2, status="open"))
    feed(hub, *(ticket(hub, n) for n in range(1, 7)))
    for rid in "abcd":                       # three 6-minute attentions at desk 1
        hub.clock.moment += timedelta(minutes=6)
        feed(hub, request(1, rid))
    registro = next(w for w in hub.board().waiting if w.service == "R")
    assert registro.minutes_per_turn == 3    # desks 1 and 2 open
    hub.clock.moment += timedelta(minutes=6)
    feed(hub, request(1, "break", "pause"))
    assert serving(hub, 1) is None and hub.ledger.desk_status(1) == "paused"
    assert hub.ledger.turns[f"{DAY}/kiosco-1/R004"].outcome == "attended"
    assert [t.number for t in hub.ledger.waiting()] == ["R-005", "R-006"]   # nobody called to the paused desk
    registro = next(w for w in hub.board().waiting if w.service == "R")
    assert registro.minutes_per_turn == 6    # desk 2 alone
    assert {d.desk: d.status for d in hub.board().desks} == {1: "paused", 3: "closed"}   # the open one left out
    feed(hub, command("c1", "call", desk=1, number="R-005"))
    assert answer(hub, "c1") == "Módulo 1 está en pausa: ábralo antes."
    feed(hub, request(1, "back"))            # the advisor is back: NEXT opens the desk and calls
    assert hub.ledger.desk_status(1) == "open" and serving(hub, 1) == "R-005"
    feed(hub, request(1, "home", "close"))
    assert hub.ledger.desk_status(1) == "closed" and serving(hub, 1) is None


def test_an_advisor_set_from_the_page_is_recorded_with_every_call_from_then_on(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2), request(1, "a"))
    feed(hub, command("s1", "advisor", desk=1, advisor="Carlos Andrés Núñez"))
    assert answer(hub, "s1") is None
    feed(hub, request(1, "b"))
    assert [(r["turn_id"][-4:], r["advisor"]) for r in records(hub, "call")] == [
        ("R001", "Ana María Peña"), ("R002", "Carlos Andrés Núñez")]
    feed(hub, command("s2", "advisor", desk=1, advisor="Carlos Andrés Núñez"))
    assert answer(hub, "s2") == "Carlos Andrés Núñez ya está en Módulo 1."
    (order,) = [r for r in records(hub, "command") if r["id"] == "s1"]
    assert order["coordinator"] == "Marta Lucía Gómez" and order["order"]["advisor"] == "Carlos Andrés Núñez"


def test_an_advisor_signs_in_at_the_desk_with_a_code_and_closing_the_desk_signs_out(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2))
    feed(hub, request(1, "s1", "sign_in", code="5213"))       # typed on the pad of the closed desk
    assert hub.ledger.signed_in[1] == "Carlos Andrés Núñez" and hub.ledger.refused.get(1) is None
    feed(hub, request(1, "a"), request(1, "b", "close"), request(1, "c"))
    assert [(r["turn_id"][-4:], r["advisor"]) for r in records(hub, "call")] == [
        ("R001", "Carlos Andrés Núñez"), ("R002", "Ana María Peña")]          # after closing, the site file's
    feed(hub, request(1, "s2", "sign_in", code="5555"))
    assert hub.ledger.refused[1] == "Código desconocido" and 1 not in hub.ledger.signed_in


def test_a_coordinator_calls_a_number_to_an_open_desk_that_serves_nobody(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2), ticket(hub, 3))
    feed(hub, command("c1", "call", desk=1, number="R-003"))
    assert answer(hub, "c1") == "Módulo 1 está cerrado: ábralo antes."
    feed(hub, command("o1", "desk_status", desk=1, status="open"), command("c2", "call", desk=1, number="R-003"))
    assert answer(hub, "c2") is None and serving(hub, 1) == "R-003"
    (call,) = records(hub, "call")
    assert call["by"] == "Marta Lucía Gómez" and hub.board().calls[0].number == "R-003"
    feed(hub, command("c3", "call", desk=1, number="R-001"))
    assert answer(hub, "c3") == "Módulo 1 atiende el turno R-003: ciérrelo antes de llamar otro."
    feed(hub, command("c4", "call", desk=2, number="R-009"), command("c5", "call", desk=9, number="R-001"))
    assert answer(hub, "c4") == "Módulo 2 está cerrado: ábralo antes."
    assert answer(hub, "c5") == "El módulo 9 no existe en este sitio."


def test_a_call_to_a_desk_that_does_not_serve_the_turns_service_is_refused_naming_the_desks_that_do(hub):
    feed(hub, ticket(hub, 1, "E"), ticket(hub, 1, "S"), command("o1", "desk_status", desk=2, status="open"))
    feed(hub, command("c1", "call", desk=2, number="S-001"))
    assert answer(hub, "c1") == "Módulo 2 no atiende Salud: llame el turno S-001 a Módulo 1 o Módulo 3."
    assert serving(hub, 2) is None and [t.number for t in hub.ledger.waiting()] == ["E-001", "S-001"]
    feed(hub, command("c2", "call", desk=2, number="E-001"))
    assert answer(hub, "c2") is None and serving(hub, 2) == "E-001"


def test_a_no_show_who_comes_back_waits_again_in_their_place(hub):
    feed(hub, ticket(hub, 1), ticket(hub, 2), ticket(hub, 3), request(1, "a"), request(1, "b", "no_show"))
    feed(hub, command("r1", "reinstate", number="R-001"))
    assert answer(hub, "r1") is None
    assert sorted(t.number for t in hub.ledger.waiting()) == ["R-001", "R-002", "R-003"]
    feed(hub, request(1, "c"))
    assert serving(hub, 1) == "R-001"    # by the time on the ticket: before R-002
    feed(hub, command("r2", "reinstate", number="R-001"), command("r3", "reinstate", number="R-009"))
    assert answer(hub, "r2") == "El turno R-001 ya está en espera o en atención."
    assert answer(hub, "r3") == "El turno R-009 no figura hoy como ausente."


def test_undo_the_last_next_serves_the_closed_turn_again_and_puts_the_called_one_back(hub):
    feed(hub, *(ticket(hub, n) for n in range(1, 5)))
    for rid in "abc":
        hub.clock.moment += timedelta(minutes=6)
        feed(hub, request(1, rid))
    assert hub.ledger.attention["R"] == (2, 720.0)
    feed(hub, command("u1", "undo_next", desk=1))
    assert answer(hub, "u1") is None
    assert serving(hub, 1) == "R-002" and sorted(t.number for t in hub.ledger.waiting()) == ["R-003", "R-004"]
    assert hub.ledger.attention["R"] == (1, 360.0)        # the pace forgets the attention that had not ended
    assert [c.number for c in hub.board().calls] == ["R-002", "R-001"]   # R-003 is no longer announced
    feed(hub, command("u2", "undo_next", desk=1))
    assert answer(hub, "u2").startswith("Módulo 1 no tiene un SIGUIENTE que deshacer")
    hub.clock.moment += timedelta(minutes=6)
    feed(hub, request(1, "d"))
    assert serving(hub, 1) == "R-003" and hub.ledger.turns[f"{DAY}/kiosco-1/R002"].outcome == "attended"
    # The record read again after a restart gives the same day.
    again = fold(hub.store.day(hub.today))
    assert {t.turn_id: (t.status, t.outcome) for t in again.turns.values()} == {
        t.turn_id: (t.status, t.outcome) for t in hub.ledger.turns.values()}


def manual(rid: str, number: str, day: str = "2026-11-23", outcome: str = "attended", **fields) -> contract.Command:
    times = {"issued_at": f"{day}T10:02:00-05:00", "called_at": f"{day}T10:20:00-05:00",
             "closed_at": f"{day}T10:31:00-05:00"}
    return command(rid, "manual", number=number, service="S", desk=2, advisor="José Muñoz", outcome=outcome,
                   **{**times, **fields})


def test_attentions_of_a_manual_contingency_are_filed_under_their_day_and_reach_the_csv(hub):
    feed(hub, manual("m1", "TM-001"), manual("m2", "TM-002", outcome="no_show"), manual("m3", "TM-001"))
    assert (answer(hub, "m1"), answer(hub, "m2")) == (None, None)
    assert answer(hub, "m3") == "El número TM-001 ya está registrado el 2026-11-23."
    feed(hub, manual("m4", "TM-003", day="2026-12-25"), manual("m5", "TM-004", day="2026-10-01"))
    assert answer(hub, "m4").startswith("Las atenciones manuales se registran para los últimos 31 días")
    assert answer(hub, "m5").startswith("Las atenciones manuales se registran")
    names = hub.config.service_names()
    (first, second) = rows(hub.store, START.date() - timedelta(days=1), START.date() - timedelta(days=1), names)
    assert (first["number"], first["kiosk"], first["manual"], first["desk"], first["advisor"]) == (
        "TM-001", "manual", "sí", 2, "José Muñoz")
    assert (first["wait_seconds"], first["service_seconds"], first["outcome"]) == (18 * 60, 11 * 60, "attended")
    assert (second["outcome"], second["service_seconds"]) == ("no_show", "")
    assert not hub.ledger.turns   # today's queue is untouched


def test_while_every_desk_is_open_the_board_and_desk_states_are_what_devices_of_before_read(hub):
    """The hub is updated first on a site: a display or desk of before refuses a field it does not know, so the
    new ones are left out while they have nothing to say."""
    feed(hub, *(command(f"o{n}", "desk_status", desk=n, status="open") for n in (1, 2, 3)))
    feed(hub, ticket(hub, 1), request(1, "a"))
    board = json.loads(hub.board().to_json())
    state = json.loads(build_desk_state(hub.ledger, hub.config, 1, {"id": "s", "at": START.isoformat(),
                                                                    "source": "hub"}, overdue=False).to_json())
    assert "desks" not in board and not {"status", "advisor", "refused"} & set(state)
    feed(hub, request(2, "b", "pause"), command("s1", "advisor", desk=1, advisor="Carlos Andrés Núñez"))
    assert [d.status for d in hub.board().desks] == ["paused"]
    state = build_desk_state(hub.ledger, hub.config, 1, {"id": "s", "at": START.isoformat(), "source": "hub"},
                             overdue=False)
    assert (state.status, state.advisor) == (None, "Carlos Andrés Núñez")
