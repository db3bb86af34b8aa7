"""The kiosk's thermal printer, through python-escpos: USB, serial, network, a device file, or simulated.

python-escpos traps this module takes care of (see FIELD_NOTES): a USB timeout of 0 blocks forever, so a
timeout is always set; `cut()` does nothing on a profile without a cutter, so the profile is named; and
`paper_status()` reports "plenty of paper" when the printer answered nothing, so `paper_state()` reads the
status byte itself and says "unknown" when there is none.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from escpos import printer as escpos_printer
from escpos.constants import RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError

from appliance.site import DEFAULT_CODE_PAGE

log = logging.getLogger(__name__)

# Bits of the DLE EOT 4 (paper sensor) status byte.
_NEAR_END, _OUT = 0x0C, 0x60


class PrinterError(Exception):
    """The printer cannot be opened or did not take the ticket; the text says what is wrong."""


@dataclass(frozen=True)
class PrinterConfig:
    kind: str                 # "simulated" | "file" | "usb" | "serial" | "network"
    profile: str = "TM-T20II"
    paper_mm: int = 80
    encoding: str = DEFAULT_CODE_PAGE
    path: str = ""            # file: /dev/usb/lp0 or a plain file
    vendor_id: int = 0
    product_id: int = 0
    timeout_ms: int = 2000    # usb and network: never 0, which means "wait forever"
    device: str = "/dev/serial0"
    baudrate: int = 9600
    host: str = ""
    port: int = 9100


class SimulatedPrinter(escpos_printer.Dummy):
    """A printer for the demo and the tests: keeps every byte, and has a paper state that can be set
    ("ok", "low", "out", "offline") and is reported through the same status read as a real one."""

    def __init__(self, profile: str = "TM-T20II"):
        super().__init__(profile=profile)
        self.paper = "ok"

    def _raw(self, msg: bytes) -> None:
        if self.paper in ("out", "offline"):
            raise PrinterError("sin papel" if self.paper == "out" else "la impresora no responde")
        super()._raw(msg)

    def query_status(self, mode: bytes) -> bytes:  # answered here: a status query is not part of a ticket
        if self.paper == "offline":
            raise PrinterError("la impresora no responde")
        return bytes([{"ok": 0x12, "low": 0x12 | _NEAR_END, "out": 0x12 | _NEAR_END | _OUT}[self.paper]])


def open_printer(cfg: PrinterConfig) -> Escpos:
    """The python-escpos printer for a configuration. Connections open on first use, so a printer that is
    switched off at boot makes the kiosk report "offline", not fail to start."""
    printer = _connection(cfg)
    if cfg.encoding not in printer.profile.get_code_pages():
        raise PrinterError(f"printer.encoding: the profile {cfg.profile} has no code page {cfg.encoding!r} "
                           f"(it has {', '.join(sorted(printer.profile.get_code_pages()))})")
    return printer


def _connection(cfg: PrinterConfig) -> Escpos:
    try:
        if cfg.kind == "simulated":
            return SimulatedPrinter(cfg.profile)
        if cfg.kind == "file":
            if not cfg.path:
                raise PrinterError("a file printer needs printer.path (e.g. /dev/usb/lp0)")
            return escpos_printer.File(devfile=cfg.path, profile=cfg.profile)
        if cfg.kind == "usb":
            if not (cfg.vendor_id and cfg.product_id):
                raise PrinterError("a USB printer needs printer.vendor_id and printer.product_id (see `lsusb`)")
            return escpos_printer.Usb(cfg.vendor_id, cfg.product_id, timeout=max(cfg.timeout_ms, 1),
                                      profile=cfg.profile)
        if cfg.kind == "serial":
            return escpos_printer.Serial(devfile=cfg.device, baudrate=cfg.baudrate, timeout=cfg.timeout_ms / 1000,
                                         profile=cfg.profile)
        if cfg.kind == "network":
            if not cfg.host:
                raise PrinterError("a network printer needs printer.host")
            return escpos_printer.Network(cfg.host, port=cfg.port, timeout=cfg.timeout_ms / 1000,
                                          profile=cfg.profile)
    except (EscposError, OSError) as exc:
        raise PrinterError(f"{cfg.kind} printer: {exc}") from None
    raise PrinterError(f"unknown printer kind {cfg.kind!r} (simulated, file, usb, serial or network)")


def paper_state(printer: Escpos) -> str:
    """"ok", "low", "out", "offline" (it does not answer) or "unknown" (the connection cannot read)."""
    try:
        status = printer.query_status(RT_STATUS_PAPER)
    except NotImplementedError:
        return "unknown"
    except Exception as exc:  # noqa: BLE001 - every transport raises its own kind (usb, serial, socket)
        log.debug("printer status read failed: %s", exc)
        return "offline"
    if not status:  # python-escpos would call this "plenty of paper"
        return "unknown"
    if status[0] & _OUT == _OUT:
        return "out"
    if status[0] & _NEAR_END:
        return "low"
    return "ok"
