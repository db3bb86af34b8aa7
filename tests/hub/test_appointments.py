"""Appointments fed straight into the hub's loop: booked, moved and cancelled by a coordinator, each refused with
its Spanish reason; checked in by a kiosk's scan, the first scan of a code winning; called first once their time
has come; missed when nobody came; the citizen's name and phone kept apart from the journal and deleted after the
retention period."""
import dataclasses
from datetime import datetime, timedelta

import pytest

from appliance import contract
from appliance.records.bookings import bookings_of
from hub.service import Hub
from tests.harness.hub_feed import START, TZ, command, feed, request, serving, ticket
from tests.harness.policy_replay import policy_problems
from tests.harness.roles import SettableClock

TOMORROW = "2026-11-25"


def at(day: str, hm: str) -> str:
    return datetime.fromisoformat(f"{day}T{hm}:00").replace(tzinfo=TZ).isoformat()


def answer(hub, rid: str) -> str | None:
    assert rid in hub.ledger.commands, f"order {rid} not recorded"
    return hub.ledger.commands[rid].get("refused")


def booked(hub, rid: str) -> str:
    """The code of the appointment an order booked, as the page reads it back from the order's record."""
    assert answer(hub, rid) is None, answer(hub, rid)
    return hub.ledger.commands[rid]["appointment"]


def scan(code: str, sid: str, kiosk: str = "kiosco-1", moment: datetime = START) -> contract.CheckIn:
    return contract.CheckIn(id=sid, at=moment.isoformat(), source=kiosk, appointment=code)


def said(hub, sid: str) -> dict:
    return hub.ledger.bookings.answers[sid]


def test_a_booking_is_filed_under_its_day_and_refused_where_it_cannot_be(hub):
    feed(hub, command("b1", "book", service="R", slot=at(TOMORROW, "10:30")))
    code = booked(hub, "b1")
    (record,) = [r for r in hub.store.day(TOMORROW) if r["kind"] == "booking"]
    assert (record["appointment"], record["service"], record["by"]) == (code, "R", "Marta Lucía Gómez")
    assert contract.APPOINTMENT.fullmatch(code)
    feed(hub, command("b2", "book", service="R", slot=at(TOMORROW, "10:30")))
    feed(hub, command("b3", "book", service="R", slot=at(TOMORROW, "10:30")))
    refusals = {
        "b3": "La hora 10:30 del miércoles 25 de noviembre de 2026 ya tiene 2 citas de Registro y Aportes, su cupo: "
              "elija otra.",
        "c1": "10:07 no es una hora de cita: las citas empiezan cada 15 minutos, lunes a viernes de 8:00 a 12:00 y "
              "de 14:00 a 16:00.",
        "c2": "12:30 no es una hora de cita: las citas empiezan cada 15 minutos, lunes a viernes de 8:00 a 12:00 y "
              "de 14:00 a 16:00.",
        "c3": "No se dan citas ese día: el martes 8 de diciembre de 2026 es festivo (La Inmaculada Concepción).",
        "c4": "No se dan citas ese día: el lunes 7 de diciembre de 2026 no se atiende (jornada de capacitación).",
        "c5": "No se dan citas ese día: el sábado 28 de noviembre de 2026 no se atiende.",
        "c6": "La hora 8:30 del martes 24 de noviembre de 2026 ya pasó.",
        "c7": "El servicio X no existe en este sitio.",
        "c8": "Vivienda no tiene citas: el archivo de sitio no le da cupo.",
        "c9": "Las citas se dan hasta 14 días adelante; el miércoles 9 de diciembre de 2026 está más lejos.",
    }
    feed(hub, command("c1", "book", service="R", slot=at(TOMORROW, "10:07")),
         command("c2", "book", service="R", slot=at(TOMORROW, "12:30")),
         command("c3", "book", service="R", slot=at("2026-12-08", "10:00")),
         command("c4", "book", service="R", slot=at("2026-12-07", "10:00")),
         command("c5", "book", service="R", slot=at("2026-11-28", "10:00")),
         command("c6", "book", service="R", slot=at("2026-11-24", "08:30")),
         command("c7", "book", service="X", slot=at(TOMORROW, "10:00")),
         command("c8", "book", service="V", slot=at(TOMORROW, "10:00")),
         command("c9", "book", service="R", slot=at("2026-12-09", "10:00")))
    assert {rid: answer(hub, rid) for rid in refusals} == refusals
    assert len(bookings_of(hub.store.day(TOMORROW)).live()) == 2      # nothing recorded for a refusal


def test_the_one_click_booking_takes_the_first_free_slot_of_the_next_open_day(hub):
    feed(hub, *(command(f"f{n}", "book_first", service="S") for n in range(3)))   # Salud: 1 a slot
    slots = [hub.ledger.commands[f"f{n}"]["slot"] for n in range(3)]
    assert slots == [at(TOMORROW, "08:00"), at(TOMORROW, "08:15"), at(TOMORROW, "08:30")]
    hub.clock.moment = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)              # a Friday: Monday is next
    feed(hub, command("f9", "book_first", service="S"))
    assert hub.ledger.commands["f9"]["slot"] == at("2026-11-30", "08:00")


def test_cancel_and_move_are_recorded_with_who_did_them_and_free_the_slot(hub):
    feed(hub, command("b1", "book", service="S", slot=at(TOMORROW, "09:00")))
    code = booked(hub, "b1")
    feed(hub, command("b2", "book", service="S", slot=at(TOMORROW, "09:00")))
    assert answer(hub, "b2").startswith("La hora 9:00 del miércoles 25 de noviembre de 2026 ya tiene 1 cita de Salud")
    feed(hub, command("m1", "move_booking", appointment=code, slot=at(TOMORROW, "14:00"), coordinator="Luis Pérez"))
    assert answer(hub, "m1") is None
    feed(hub, command("b3", "book", service="S", slot=at(TOMORROW, "09:00")))
    assert answer(hub, "b3") is None                                            # the old slot is free again
    feed(hub, command("m2", "move_booking", appointment=code, slot=at("2026-11-26", "08:00")))
    assert answer(hub, "m2") is None
    moved = bookings_of(hub.store.day("2026-11-26")).by_code[code]
    assert (moved.slot, moved.status) == (at("2026-11-26", "08:00"), "booked")
    assert bookings_of(hub.store.day(TOMORROW)).by_code[code].status == "moved"
    feed(hub, command("x1", "cancel_booking", appointment=code, coordinator="Ana Ruiz"))
    feed(hub, command("x2", "cancel_booking", appointment=code))
    assert answer(hub, "x1") is None
    assert answer(hub, "x2") == "La cita de las 8:00 del jueves 26 de noviembre de 2026 ya fue cancelada."
    by = {r["kind"]: r["by"] for r in [*hub.store.day(TOMORROW), *hub.store.day("2026-11-26")] if "by" in r}
    assert by == {"booking": "Marta Lucía Gómez", "booking_move": "Marta Lucía Gómez", "booking_cancel": "Ana Ruiz"}
    feed(hub, command("x3", "cancel_booking", appointment="A" * 16))
    assert answer(hub, "x3") == "Esa cita no existe en este sitio."


def test_a_name_and_phone_are_kept_only_with_consent_apart_from_the_journal_and_deleted_after_retention(tmp_path):
    for fields, refusal in (({"name": "Rosa Elena Díaz"}, "consent"), ({"phone": "3001234567"}, "consent"),
                            ({"name": "<b>Rosa</b>", "consent": True}, "not a person's name"),
                            ({"name": "Rosa\u0007", "consent": True}, "unprintable"),
                            ({"phone": "300-ABC", "consent": True}, "phone")):
        sent = command("n0", "book", service="R", slot=at(TOMORROW, "10:00"), **fields).to_json()
        with pytest.raises(contract.ContractError, match=refusal) as error:   # the hub's one way in refuses it
            contract.decode(sent)
        assert not any(str(value) in str(error.value) for value in fields.values() if value is not True)  # nor logs it
    clock = SettableClock(START)
    hub = Hub(_example(), tmp_path, now=clock)
    hub.clock = clock
    feed(hub, command("n3", "book", service="R", slot=at(TOMORROW, "10:00"), name="Rosa Elena Díaz",
                      phone="3001234567", consent=True))
    code = booked(hub, "n3")
    assert hub.calendar.contacts.of_day(TOMORROW) == {code: {"name": "Rosa Elena Díaz", "phone": "3001234567"}}
    journal = b"".join(path.read_bytes() for path in (tmp_path / "days").iterdir())
    assert "Rosa".encode() not in journal and b"3001234567" not in journal
    assert b'"consent":true' in journal                                           # the order says it was given
    clock.moment = datetime(2026, 12, 25, 9, 0, tzinfo=TZ)                      # 30 days after: still kept
    hub.step(timeout=0)
    assert hub.calendar.contacts.of_day(TOMORROW)
    clock.moment = datetime(2026, 12, 26, 9, 0, tzinfo=TZ)                      # 31 days after: deleted
    hub.step(timeout=0)
    assert hub.calendar.contacts.of_day(TOMORROW) == {}
    assert not (tmp_path / "contacts" / f"{TOMORROW}.json").exists()
    hub.store.close()


def _example():
    from appliance import site
    return site.load(site.EXAMPLE)


def test_an_appointment_checked_in_early_is_called_first_at_its_time_ahead_of_preferential_and_aged_turns(hub):
    feed(hub, command("b1", "book", service="R", slot=at("2026-11-24", "09:30")))
    code = booked(hub, "b1")
    feed(hub, ticket(hub, 1), ticket(hub, 2, preferential=True))                # 9:01, 9:02
    hub.clock.moment = START + timedelta(minutes=5)
    feed(hub, scan(code, "s1", moment=hub.clock.moment))
    assert {k: said(hub, "s1")[k] for k in ("number", "late", "slot")} == {
        "number": "RC-001", "late": False, "slot": at("2026-11-24", "09:30")}
    feed(hub, request(1, "n1"))                                                 # 9:05: not its time yet
    assert serving(hub, 1) == "P-002"
    feed(hub, ticket(hub, 3, preferential=True))
    hub.clock.moment = START + timedelta(minutes=55)                            # 9:55: R-001 has waited 54 min
    feed(hub, request(1, "n2"))
    assert serving(hub, 1) == "RC-001"                                          # before P-003 and the aged R-001
    feed(hub, request(1, "n3"), request(1, "n4"))
    problems, rules = policy_problems(hub.store.day(hub.today), hub.config)
    assert problems == [] and rules["appointment"] == 1


def test_only_appointments_waiting_the_earliest_is_called_before_its_time(hub):
    feed(hub, command("b1", "book", service="R", slot=at("2026-11-24", "11:00")),
         command("b2", "book", service="R", slot=at("2026-11-24", "10:00")))
    feed(hub, scan(booked(hub, "b1"), "s1"), scan(booked(hub, "b2"), "s2"))
    feed(hub, request(1, "n1"))
    assert serving(hub, 1) == "RC-002"                                          # its 10:00 comes first
    assert policy_problems(hub.store.day(hub.today), hub.config)[0] == []


def test_two_kiosks_scanning_one_slip_give_one_turn_and_a_resend_is_answered_the_same(tmp_path):
    config = _example()
    config = dataclasses.replace(config, kiosks={**config.kiosks, "kiosco-2": dataclasses.replace(
        config.kiosks["kiosco-1"], id="kiosco-2", buttons=())})
    clock = SettableClock(START)
    hub = Hub(config, tmp_path, now=clock)
    feed(hub, command("b1", "book", service="R", slot=at("2026-11-24", "09:30")))
    code = booked(hub, "b1")
    feed(hub, scan(code, "s1"), scan(code, "s2", "kiosco-2"))                   # one batch, both at once
    assert said(hub, "s1")["number"] == "RC-001"
    assert said(hub, "s2")["reason"] == "Esta cita ya se registró a las 9:00: su turno es el RC-001."
    feed(hub, scan(code, "s1"), scan(code, "s2", "kiosco-2"))                   # resent: the same answers
    kinds = [r["kind"] for r in hub.store.day(hub.today) if r["kind"].startswith("checkin")]
    assert kinds == ["checkin", "checkin_refused"]
    assert [t.number for t in hub.ledger.waiting()] == ["RC-001"]
    hub.store.close()


def test_late_unknown_cancelled_and_other_day_codes(hub):
    feed(hub, command("b1", "book", service="R", slot=at("2026-11-24", "09:15")),
         command("b2", "book", service="R", slot=at("2026-11-24", "09:30")),
         command("b3", "book", service="R", slot=at(TOMORROW, "09:30")),
         command("b4", "book", service="S", slot=at("2026-11-24", "10:00")))
    late, missed, tomorrow, cancelled = (booked(hub, f"b{n}") for n in range(1, 5))
    feed(hub, command("x", "cancel_booking", appointment=cancelled))
    hub.clock.moment = START + timedelta(minutes=26)                            # 9:26: 9:15 + 10 of grace passed
    feed(hub, scan(late, "s1"), scan("A" * 16, "s2"), scan(tomorrow, "s3"), scan(cancelled, "s4"))
    assert said(hub, "s1")["late"] is True and said(hub, "s1")["number"] == "RC-001"
    assert hub.ledger.turns[said(hub, "s1")["turn_id"]].appointment_at is None   # a walk-in now
    assert said(hub, "s2")["reason"] == "Este código no corresponde a ninguna cita de este sitio."
    assert said(hub, "s3")["reason"] == ("Su cita es el miércoles 25 de noviembre de 2026 a las 9:30: preséntese "
                                         "ese día con este comprobante.")
    assert said(hub, "s4")["reason"] == "Esta cita, del martes 24 de noviembre de 2026 a las 10:00, fue cancelada."
    hub.clock.moment = START + timedelta(minutes=41)                            # 9:41: 9:30's grace is over
    feed(hub)
    hub.step(timeout=0)
    assert [r["appointment"] for r in hub.store.day(hub.today) if r["kind"] == "missed"] == [missed]
    feed(hub, command("c1", "check_in", appointment=missed))                    # reception: late, a walk-in
    assert answer(hub, "c1") is None and hub.ledger.bookings.by_code[missed].number == "RC-002"
    assert hub.ledger.commands["c1"]["number"] == "RC-002"                     # what the page tells reception


def test_the_csv_marks_appointment_turns_and_the_informe_counts_booked_arrived_late_and_missed(hub):
    from hub.export import rows
    from hub.report.figures import build
    from hub.report.render import render_body

    feed(hub, *(command(f"b{n}", "book", service="R", slot=at("2026-11-24", hm))
                for n, hm in enumerate(("09:15", "09:30", "09:45", "10:00"))))
    on_time, early, late, missed = (booked(hub, f"b{n}") for n in range(4))
    feed(hub, command("x", "cancel_booking", appointment=missed))
    feed(hub, command("b9", "book", service="R", slot=at("2026-11-24", "10:15")))
    missed = booked(hub, "b9")
    feed(hub, ticket(hub, 1), scan(on_time, "s1", moment=hub.clock.moment), scan(early, "s2"))   # 9:01
    hub.clock.moment = START + timedelta(minutes=20)
    feed(hub, request(1, "n1"))                                    # 9:20: RC-001 (9:15), 5 minutes past its time
    hub.clock.moment = START + timedelta(minutes=58)
    feed(hub, scan(late, "s3"), request(1, "n2"))                  # 9:58: late for 9:45; RC-002 (9:30) called
    feed(hub, contract.Rating(id="r1", at=hub.clock.moment.isoformat(), source="escritorio-1", desk=1,
                              turn_id=hub.ledger.serving[1], value=5))
    hub.clock.moment = START + timedelta(hours=2)
    feed(hub, request(1, "n3"), request(1, "n4"))                  # R-001, then the late one as a walk-in
    table = {row["number"]: row for row in rows(hub.store, START.date(), START.date(), hub.config.service_names())}
    assert {n: (r["appointment"], r["appointment_local"]) for n, r in table.items()} == {
        "R-001": ("no", ""), "RC-001": ("sí", "2026-11-24 09:15:00"), "RC-002": ("sí", "2026-11-24 09:30:00"),
        "RC-003": ("sí", "2026-11-24 09:45:00")}
    assert table["RC-002"]["rating"] == 5
    report = build(hub.store, START.date(), START.date(), hub.config, now=hub.clock.moment)
    (label, registro), (_, total) = report.appointments
    assert label == "Registro y Aportes" and registro is not None
    assert (total.booked, total.arrived, total.on_time, total.late, total.no_show) == (4, 3, 2, 1, 1)
    assert sorted(total.waits) == [300.0, 1680.0]                  # 9:20 - 9:15; 9:58 - 9:30
    body = render_body(report)
    assert "<h2>Citas</h2>" in body and "No llegaron" in body and "Tarde (sin prioridad)" in body


def test_the_estimates_count_the_appointments_due_within_the_hour(hub):
    feed(hub, command("b1", "book", service="R", slot=at("2026-11-24", "09:30")),
         command("b2", "book", service="R", slot=at("2026-11-24", "11:00")),
         command("b3", "book", service="S", slot=at("2026-11-24", "09:45")))
    registro = next(w for w in hub.board().waiting if w.service == "R")
    assert (registro.normal, registro.booked) == (0, 1)                        # 11:00 is more than an hour away
    assert dataclasses.replace(registro, minutes_per_turn=4).estimated_minutes(2) == 16   # 2 ahead, 1 booked
    feed(hub, scan(booked(hub, "b1"), "s1"))
    registro = next(w for w in hub.board().waiting if w.service == "R")
    assert (registro.normal, registro.booked) == (1, None)                     # arrived: one of the queue now
    assert b'"booked"' not in hub.board().to_json().split(b'"service":"R"')[1].split(b"}")[0]


BOOKING_FORM = {"accion": ["book"], "servicio": ["R"], "fecha": ["2026-11-25"], "hora": ["10:30"]}


@pytest.mark.parametrize("changes, refusal", [
    ({"servicio": ["V"]}, "Elija uno de los servicios que dan citas."),
    ({"fecha": ["25/11/2026"]}, "Escriba el día de la cita como AAAA-MM-DD."),
    ({"hora": ["25:00"]}, "Elija la hora de la cita."),
    ({"nombre": ["Rosa"]}, "Sin la autorización del ciudadano (Ley 1581 de 2012) no se anotan su nombre ni su "
                           "teléfono: marque la autorización o deje los dos en blanco."),
    ({"telefono": ["3001234567"], "consentimiento": ["si"]},
     "De un menor de edad no se toman datos personales: agende la cita sin nombre ni teléfono."),
    ({"nombre": ["<script>alert(1)</script>"], "consentimiento": ["si"], "mayor": ["si"]},
     "El nombre solo puede tener letras, espacios, puntos, guiones y apóstrofos, hasta 120 caracteres."),
    ({"nombre": ["Rosa\u202eDíaz"], "consentimiento": ["si"], "mayor": ["si"]},
     "El nombre solo puede tener letras, espacios, puntos, guiones y apóstrofos, hasta 120 caracteres."),
    ({"telefono": ["300 123"], "consentimiento": ["si"], "mayor": ["si"]},
     "El teléfono debe tener 10 cifras (celular, o fijo con su indicativo) o 7 (fijo local)."),
    ({"accion": ["cancel_booking"], "cita": ["../../etc/passwd"]}, "Esa cita no existe en este sitio."),
])
def test_the_booking_form_refuses_in_spanish_what_the_hub_would_not_take(changes, refusal):
    from appliance.web.queries import BadRequest
    from hub.web.orders import command_from_form

    with pytest.raises(BadRequest) as error:
        command_from_form({**BOOKING_FORM, **changes}, _example(), "coordinacion", START)
    assert str(error.value) == refusal


def test_the_booking_form_takes_a_name_and_a_phone_with_consent_as_the_hub_reads_them():
    from hub.web.orders import command_from_form

    form = {**BOOKING_FORM, "nombre": ["  María-José  O'Neill "], "telefono": ["+57 (300) 123-4567"],
            "consentimiento": ["si"], "mayor": ["si"]}
    command = contract.decode(command_from_form(form, _example(), "coordinacion", START).to_json())
    assert (command.name, command.phone, command.consent, command.slot) == (
        "María-José O'Neill", "3001234567", True, at(TOMORROW, "10:30"))


def test_the_phone_page_counts_a_due_appointment_ahead_of_everyone_and_one_not_yet_due_behind(hub):
    from hub.policy import choose_next, queue_order

    feed(hub, command("b1", "book", service="R", slot=at("2026-11-24", "09:30")),
         command("b2", "book", service="R", slot=at("2026-11-24", "11:00")))
    feed(hub, ticket(hub, 1), ticket(hub, 2, preferential=True), scan(booked(hub, "b1"), "s1"),
         scan(booked(hub, "b2"), "s2"))
    for minutes, first in ((5, "P-002"), (31, "RC-001")):
        now = START + timedelta(minutes=minutes)
        order = [t.number for t in queue_order(hub.ledger.waiting(), policy=hub.config.queue, now=now)]
        assert order[0] == first == choose_next(hub.ledger.waiting(), ("R",), policy=hub.config.queue, now=now).number
        assert order[-1] == "RC-002"


def test_an_order_sent_again_books_once(hub):
    order = command("b1", "book", service="S", slot=at(TOMORROW, "09:00"))
    feed(hub, order, order)
    feed(hub, order)
    assert len(bookings_of(hub.store.day(TOMORROW)).by_code) == 1
    assert [r["id"] for r in hub.store.day(hub.today) if r["kind"] == "command"] == ["b1"]


def test_tomorrows_appointments_are_the_new_days_when_it_comes_and_a_restart_keeps_them(hub, tmp_path):
    feed(hub, command("b1", "book", service="R", slot=at(TOMORROW, "08:15")),
         command("b2", "book", service="R", slot=at(TOMORROW, "08:30")))
    assert hub.today == "2026-11-24"                           # tomorrow's file of bookings is no service day yet
    first, second = booked(hub, "b1"), booked(hub, "b2")
    hub.clock.moment = datetime(2026, 11, 25, 8, 0, tzinfo=TZ)
    feed(hub, scan(first, "s1"))
    assert hub.today == TOMORROW and said(hub, "s1")["number"] == "RC-001"
    hub.store.close()
    again = Hub(hub.config, tmp_path, now=hub.clock)           # a restart: the same day, the same appointments
    hub.clock.moment = datetime(2026, 11, 25, 8, 20, tzinfo=TZ)
    feed(again, scan(second, "s2"), request(1, "n1"))          # 8:20: the 8:15 appointment is due, 8:30 not yet
    assert (again.ledger.bookings.answers["s2"]["number"], serving(again, 1)) == ("RC-002", "RC-001")
    again.store.close()


def test_the_central_books_and_cancels_but_gives_no_other_order_no_personal_data_and_nothing_late(hub):
    central = lambda rid, action, **fields: dataclasses.replace(  # noqa: E731
        command(rid, action, coordinator="nacional", **fields), source=contract.CENTRAL_SOURCE,
        at=hub.clock.moment.isoformat())
    feed(hub, central("c1", "book_first", service="S"))
    code = booked(hub, "c1")
    feed(hub, central("c2", "cancel_booking", appointment=code))
    assert answer(hub, "c2") is None
    # A desk's work and a citizen's name never come from the central: refused, not recorded.
    feed(hub, central("c3", "desk_status", desk=1, status="closed"),
         central("c4", "book", service="S", slot=at(TOMORROW, "09:00"), name="Ana Pérez", consent=True))
    assert "c3" not in hub.ledger.commands and "c4" not in hub.ledger.commands
    # An order the WAN held back is recorded as refused: the coordinator saw no answer in time.
    late = dataclasses.replace(central("c5", "book_first", service="S"),
                               at=(hub.clock.moment - timedelta(seconds=contract.CENTRAL_ORDER_S + 1)).isoformat())
    feed(hub, late)
    assert "demasiado tarde" in answer(hub, "c5")
