"""The printer driver: each connection from the configuration, honest paper states, clear errors."""
import socket
import threading

import pytest
from escpos.printer import Dummy

from appliance.drivers.printer import PrinterConfig, PrinterError, SimulatedPrinter, open_printer, paper_state


class ReadingDummy(Dummy):
    """A connection that can read a status byte, or reads nothing at all."""

    def __init__(self, answer: bytes):
        super().__init__()
        self.answer = answer

    def _read(self) -> bytes:
        return self.answer


@pytest.mark.parametrize("answer, state", [(b"\x12", "ok"), (b"\x1e", "low"), (b"\x7e", "out"), (b"", "unknown")])
def test_the_paper_sensor_byte_and_an_empty_read(answer, state):
    assert paper_state(ReadingDummy(answer)) == state


def test_a_connection_that_cannot_read_is_unknown_and_a_dead_one_offline():
    assert paper_state(Dummy()) == "unknown"
    printer = SimulatedPrinter()
    printer.paper = "offline"
    assert paper_state(printer) == "offline"
    with pytest.raises(PrinterError, match="no responde"):
        printer.textln("x")


@pytest.mark.parametrize("config, message", [
    (PrinterConfig(kind="usb"), "needs printer.vendor_id and printer.product_id"),
    (PrinterConfig(kind="file"), "needs printer.path"),
    (PrinterConfig(kind="network"), "needs printer.host"),
    (PrinterConfig(kind="bluetooth"), "unknown printer kind 'bluetooth'"),
    (PrinterConfig(kind="simulated", profile="ZJ-5870"), "printer.encoding: the profile ZJ-5870 has no code page 'CP858'"),
])
def test_a_wrong_printer_configuration_names_what_is_missing(config, message):
    with pytest.raises(PrinterError, match=message):
        open_printer(config)


def test_a_usb_printer_that_is_not_there_is_reported_offline_not_a_crash():
    printer = open_printer(PrinterConfig(kind="usb", vendor_id=0x04B8, product_id=0x0E15, timeout_ms=200))
    assert paper_state(printer) == "offline"


def test_a_network_printer_receives_the_bytes_on_port_9100_style_tcp():
    server = socket.create_server(("127.0.0.1", 0))
    received, done = bytearray(), threading.Event()

    def serve():
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(4096):
                received.extend(chunk)
        done.set()

    threading.Thread(target=serve, daemon=True).start()
    printer = open_printer(PrinterConfig(kind="network", host="127.0.0.1", port=server.getsockname()[1]))
    printer.textln("Módulo 3")
    printer.close()
    assert done.wait(5)
    server.close()
    assert b"M\xa2dulo 3" in received  # ó in code page 437, selected by ESC t 0 before it


def test_a_file_printer_writes_to_its_device_file(tmp_path):
    device = tmp_path / "lp0"
    printer = open_printer(PrinterConfig(kind="file", path=str(device)))
    printer.textln("Señora")
    printer.close()
    assert b"Se\xa4ora" in device.read_bytes()
