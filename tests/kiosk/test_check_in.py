"""The kiosk's reader and its check-in: what a reader types becomes a code only when it is one (held keys, odd
keys and endless lines refused); the hub's answer printed as the appointment's ticket or as a slip that says why
there is none (late, unknown, cancelled, another day, no hub); never a ticket the hub did not give."""
import dataclasses
import queue
from datetime import datetime

from evdev import ecodes
from gpiozero.pins.mock import MockFactory

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.drivers.printer import SimulatedPrinter
from appliance.drivers.reader import GARBAGE, MAX_CODE, CodeReader, KeyTyping, SimulatedReader
from appliance.kiosk.arrivals import ANSWER_WAIT_S, MAX_PENDING, NO_ANSWER, NOT_A_SLIP
from appliance.kiosk.unit import SLIP_HOLD_S, KioskUnit
from hub.service import Hub
from tests.harness.escpos_text import printed_text
from tests.harness.roles import STEP_DEADLINE_S, Running, SettableClock, wait_until

CONFIG = site_config.load(site_config.EXAMPLE)
TUESDAY = datetime(2026, 11, 24, 9, 30, tzinfo=CONFIG.timezone)


def typed(events) -> list[str]:
    typing = KeyTyping()
    return [code for code in (typing.feed(key, value) for key, value in events) if code]


def test_a_held_key_types_once_an_odd_key_spoils_the_code_and_an_endless_line_is_cut():
    held = [(ecodes.KEY_A, 1), *[(ecodes.KEY_A, 2)] * 50, (ecodes.KEY_A, 0), (ecodes.KEY_ENTER, 1)]
    assert typed(held) == ["A"]
    assert typed([(ecodes.KEY_B, 1), (ecodes.KEY_SEMICOLON, 1), (ecodes.KEY_KP7, 1), (ecodes.KEY_ENTER, 1)]) == [
        f"B{GARBAGE}7"]
    endless = typed([(ecodes.KEY_Z, 1)] * 100_000 + [(ecodes.KEY_ENTER, 1)])
    assert len(endless[0]) == MAX_CODE + 1
    assert typed([(ecodes.KEY_ENTER, 1), (ecodes.KEY_ENTER, 0), (ecodes.KEY_LEFTSHIFT, 1)]) == []


def kiosk(tmp_path, config, clock, monotonic) -> KioskUnit:
    return KioskUnit(config, "kiosco-1", tmp_path / "kiosk", pin_factory=MockFactory(), printer=SimulatedPrinter(),
                     now=clock, monotonic=monotonic, reader=SimulatedReader)


def printed(unit) -> str:
    return " ".join(printed_text(unit.printer.output).split())


def test_without_the_hub_a_slip_says_the_appointment_cannot_be_confirmed_and_garbage_is_no_slip(tmp_path):
    monotonic = SettableClock(1000.0)
    unit = kiosk(tmp_path, CONFIG, lambda: TUESDAY, monotonic)
    unit.reader.scan("ABCDEFGHIJKLMNO2")
    unit.step(timeout=0)
    assert NO_ANSWER in printed(unit) and "Su turno" not in printed(unit)
    monotonic.moment += SLIP_HOLD_S
    unit.reader.scan("https://evil.example/x")
    unit.step(timeout=0)
    assert NOT_A_SLIP in printed(unit) and unit.issued == [] and not unit.arrivals.pending


def test_the_hub_s_answer_is_printed_late_unknown_cancelled_and_another_day(tmp_path, broker):
    config = CONFIG.with_broker(broker.host, broker.port, broker.ca_file)
    config = dataclasses.replace(config, kiosks={"kiosco-1": dataclasses.replace(
        config.kiosks["kiosco-1"], printer={"kind": "simulated"})})
    clock, monotonic = SettableClock(TUESDAY.replace(minute=0)), SettableClock(1000.0)
    unit = kiosk(tmp_path, config, clock, monotonic)
    page = Link("hub-web", config.broker, queue.Queue(), now=clock)
    with Running(Hub(config, tmp_path / "hub", now=clock)) as hub, Running(unit):
        page.start()
        assert unit.link.wait_connected(STEP_DEADLINE_S) and page.wait_connected(STEP_DEADLINE_S)
        wait_until(unit.hub_reachable, what="the hub's status at the kiosk")

        def order(action: str, **fields) -> dict:
            command = contract.Command(id=contract.new_id(), at=clock().isoformat(), source="hub-web",
                                       action=action, coordinator="Marta Lucía Gómez", **fields)
            page.publish(contract.COMMAND_TOPIC, command.to_json()).wait_for_publish(2)
            return wait_until(lambda: hub.ledger.commands.get(command.id), what=f"the hub's answer to {action}")

        codes = {name: order("book", service="R", slot=datetime.fromisoformat(f"{day}T{hm}:00").replace(
                     tzinfo=config.timezone).isoformat())["appointment"]
                 for name, day, hm in (("late", "2026-11-24", "09:15"), ("cancelled", "2026-11-24", "10:00"),
                                       ("tomorrow", "2026-11-25", "08:00"))}
        order("cancel_booking", appointment=codes["cancelled"])
        clock.moment = TUESDAY                       # 9:30: 9:15 and its 10 minutes of grace are past

        def scan(code: str, expected: str) -> str:
            monotonic.moment += SLIP_HOLD_S
            before = len(unit.printer.output)
            unit.reader.scan(code)
            wait_until(lambda: expected in " ".join(printed_text(unit.printer.output[before:]).split()),
                       what=expected)
            return " ".join(printed_text(unit.printer.output[before:]).split())

        late = scan(codes["late"], "RC-001")
        assert ("Cita de las 9:15 Llegó después de su cita de las 9:15: se le atenderá en orden de llegada, como a "
                "quien llega sin cita.") in late
        turn_id = hub.ledger.bookings.by_code[codes["late"]].turn_id
        assert hub.ledger.turns[turn_id].appointment_at is None          # a walk-in's turn
        scan("A" * 16, "Este código no corresponde a ninguna cita de este sitio. Si necesita ayuda, acérquese a "
                       "un asesor.")
        scan(codes["cancelled"], "Esta cita, del martes 24 de noviembre de 2026 a las 10:00, fue cancelada.")
        scan(codes["tomorrow"], "Su cita es el miércoles 25 de noviembre de 2026 a las 8:00: preséntese ese día "
                                "con este comprobante.")
        assert [t.number for t in unit.issued] == ["RC-001"]
        page.stop()


def test_a_kiosk_that_waits_too_long_gives_one_slip_and_sends_no_more_than_a_few_codes(tmp_path, broker, caplog):
    """The hub is down: the kiosk is told it is online (a stale retained status), sends, and hears nothing."""
    config = CONFIG.with_broker(broker.host, broker.port, broker.ca_file)
    monotonic = SettableClock(1000.0)
    unit = kiosk(tmp_path, config, lambda: TUESDAY, monotonic)
    with Running(unit):
        assert unit.link.wait_connected(STEP_DEADLINE_S)
        unit._hub_online = True
        unit.reader.scan("ABCDEFGHIJKLMNO2")
        wait_until(lambda: unit.arrivals.pending, what="the check-in sent")
        unit.reader.scan("ABCDEFGHIJKLMNO2")          # read again while waiting: the same citizen
        for letter in "BCDEF":                          # a reader typing codes without end
            unit.reader.scan(letter * 16)
        wait_until(lambda: sum("not sent" in r.message for r in caplog.records) == 3, what="the codes not sent")
        assert len(unit.arrivals.pending) == MAX_PENDING
        monotonic.moment += ANSWER_WAIT_S
        wait_until(lambda: NO_ANSWER in printed(unit), what="the slip after the wait")
        assert len(unit.arrivals.pending) == 0 and unit.issued == []
        assert printed(unit).count(NO_ANSWER) == 1        # one slip for the citizen, not one per code


def test_a_reader_that_is_not_there_is_said_in_the_log_and_reads_nothing(caplog):
    codes = []
    reader = CodeReader("/dev/input/by-id/usb-lector-que-no-esta-event-kbd", codes.append)
    reader.start()
    wait_until(lambda: "cannot be read" in caplog.text, what="the reader's error in the log")
    reader.stop()
    assert codes == [] and "the buttons still give tickets" in caplog.text
