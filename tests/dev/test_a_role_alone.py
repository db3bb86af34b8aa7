"""A technician tries one role alone: `turnero kiosk --simulated` and `turnero desk --simulated` say which key is
which and take the terminal's keys as button presses; the simulated kiosk keeps each ticket as .bin and .png in
its state folder. The README's demo key table names every key the demo answers."""
import os
import queue
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from gpiozero import Button
from gpiozero.pins.mock import MockFactory

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.dev.demo import RATING_KEYS
from appliance.drivers.keys import Key, TerminalKeys
from tests.harness.escpos_text import printed_text
from tests.harness.roles import STEP_DEADLINE_S, site_text, wait_until

TURNERO = Path(sys.executable).with_name("turnero")
README = Path(__file__).resolve().parents[2] / "README.md"
SITE = site_config.load(site_config.EXAMPLE)
# Open every hour of every day: the kiosk gives its ticket whenever the test runs.
ALWAYS_OPEN = {'days = ["lunes", "martes", "miércoles", "jueves", "viernes"]':
               'days = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]',
               'periods = ["08:00-12:00", "14:00-16:00"]': 'periods = ["00:00-23:59"]',
               'holidays = "CO"': 'holidays = ""'}


def readme_keys() -> set[str]:
    table = README.read_text(encoding="utf-8").split("| key | button |")[1].split("\n\n")[0]
    keys = set()
    for row in table.splitlines()[2:]:
        for first, last in re.findall(r"`F(\d+)`–`F(\d+)`", row):      # "`F1`–`F5` … `F6`–`F10` …"
            keys |= {f"f{n}" for n in range(int(first), int(last) + 1)}
        if "–" not in row.split("|")[1]:
            keys |= {key.lower() for key in re.findall(r"`([^`]+)`", row.split("|")[1])}
    return keys


def test_the_readmes_key_table_names_every_key_of_the_demo():
    kiosk = next(iter(SITE.kiosks.values()))
    assert readme_keys() == {b.prefix.lower() for b in kiosk.buttons} | {"1", "2"} | set(RATING_KEYS) | {"esc"}


def test_keys_read_from_a_pipe_press_their_buttons():
    pins, pressed = MockFactory(), []
    buttons = {pin: Button(pin, pull_up=True, pin_factory=pins) for pin in (5, 6)}
    for pin, button in buttons.items():
        button.when_pressed = lambda _device, pin=pin: pressed.append(pin)
    reading, writing = os.pipe()
    with open(reading, "rb") as stream, TerminalKeys([Key("r", 5, "Registro"), Key("s", 6, "Salud")], pins,
                                                     stream=stream):
        os.write(writing, b"rxs\nr")
        wait_until(lambda: len(pressed) == 3, what="three presses")
        os.close(writing)                        # the end of the pipe ends the reading
    assert pressed == [5, 6, 5]                  # "x" and the new line press nothing


@contextmanager
def role_alone(broker, tmp_path, keys: bytes, *args):
    """Runs `turnero ROLE --simulated` on an always-open site; once it has said which key is which, types `keys`.
    Yields what it said."""
    text = site_text(broker)
    for old, new in ALWAYS_OPEN.items():
        text = text.replace(old, new)
    text = text.replace('last_ticket = "15:45"', "").replace("closed = {", "# closed = {")
    config_path = tmp_path / "site.toml"
    config_path.write_text(text, encoding="utf-8")
    role = subprocess.Popen([str(TURNERO), *args, "--config", str(config_path), "--simulated",
                             "--state", str(tmp_path / "state")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        help_line = role.stdout.readline().decode()
        role.stdin.write(keys)
        role.stdin.flush()
        yield help_line
    finally:
        role.terminate()
        role.wait(10)


def test_a_simulated_kiosk_says_its_keys_takes_them_and_keeps_each_ticket(broker, tmp_path):
    with role_alone(broker, tmp_path, b"s", "kiosk", "--id", "kiosco-1") as help_line:
        assert help_line.startswith("Teclas: r Registro y Aportes · s Salud · f Servicios Financieros")
        assert "m Registro y Aportes (preferencial, persona mayor)" in help_line
        tickets = tmp_path / "state" / "tickets"
        wait_until(lambda: list(tickets.glob("*.png")), what="the ticket kept")
        (kept,) = tickets.glob("*.bin")
        assert kept.name.endswith("-S-001.bin") and kept.with_suffix(".png").stat().st_size > 0
        assert "S-001" in printed_text(kept.read_bytes()) and "Salud" in printed_text(kept.read_bytes())


def test_a_simulated_desk_says_its_keys_and_its_next_reaches_the_broker(broker, tmp_path):
    requests: queue.Queue = queue.Queue()
    listener = Link("escucha", broker.address(), requests, subscriptions=(contract.request_topic(1),))
    listener.start()
    assert listener.wait_connected(STEP_DEADLINE_S)
    with role_alone(broker, tmp_path, b"n", "desk", "--number", "1") as help_line:
        assert help_line.startswith("Teclas: n siguiente · r llamar de nuevo · a ausente · t trasladar · p pausa")
        assert "5 calificar 5 · Ctrl+C salir" in help_line
        received = []

        def next_arrived() -> bool:
            while not requests.empty():
                item = requests.get()
                if hasattr(item, "payload"):
                    received.append(contract.expect(item.payload, contract.DeskRequest))
            return any(r.action == "next" for r in received)

        wait_until(next_arrived, what="NEXT from the desk")
    listener.stop()
