"""The printed ticket and the slip printed outside hours: what they say (one content model each) and how they are
sent to an ESC/POS printer.

The same lines feed the printer and the PNG preview, so the picture in the docs is what the paper shows.
Accents: every ticket selects one code page (ESC t n), the printer's from the site file (CP858 unless it says
otherwise, a page that holds every Spanish letter), and all its text is encoded in it. python-escpos would
otherwise choose a page character by character ("Ó" selects CP857), and the clone printers many centres buy map
those pages differently: the site's check makes sure the texts fit the chosen page.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos

from appliance.core.slots import slip_advice
from appliance.core.spanish import clock, duration, long_date, plural
from appliance.drivers.printer import PrinterError
from appliance.site import DEFAULT_CODE_PAGE

# Text sizes: the ESC/POS character magnification (width, height) on each paper width.
SIZES = {80: {"huge": 4, "large": 2, "normal": 1}, 58: {"huge": 3, "large": 2, "normal": 1}}
LINE_CHARACTERS = {80: 48, 58: 32}   # font A characters per line
HISTORY_NOTE = "(calculado con la atención de otros días)"   # today has not measured its own pace yet
FOLLOW = "Siga su turno desde su celular:"                  # above the QR code of the turn's page
QR_MODULE_DOTS = {80: 6, 58: 5}     # a QR module's side in printer dots: about 20 mm for a 30-character address
# A number stays on one line with the words beside it: "12 minutos", "a las 8:00", "de 2026".
_BESIDE_A_NUMBER = re.compile(r"(?<=\d) (?=\S)|(?<=\S) (?=\d)")
_KEPT = "\xa0"                                    # textwrap breaks at ASCII spaces only


@dataclass(frozen=True)
class Ticket:
    entity: str
    number: str
    service_name: str
    preferential: bool
    issued_at: datetime
    people_ahead: int | None        # None: unknown, and the line is left out (never a wrong number)
    estimated_wait_min: int | None  # None: unknown, left out
    notice: str                     # the data-treatment notice (Ley 1581)
    hours: str                      # "Horario: lunes a viernes de 8:00 a 12:00." (site.Hours.line)
    footer: str                     # [ticket] footer: the site's last line
    category: str | None = None     # whom the preferential line serves ("Persona mayor"), when the button says
    estimate_from_history: bool = False   # the wait rests on other days' pace: the ticket says so
    qr: str | None = None           # the address of the turn's "Mi turno" page; None: the site has none
    logo: Path | None = None
    appointment: tuple[str, ...] = ()   # a checked-in appointment's lines: its time, and when it is called

    @property
    def label(self) -> str:
        return self.number

    def lines(self, layout: TicketLayout) -> list[Line]:
        return ticket_lines(self, layout)


@dataclass(frozen=True)
class Slip:
    """What a press prints when no ticket is given: no number, why not, and when the site attends."""

    entity: str
    reason: str                     # "Hoy es festivo, Día de la Independencia: no estamos atendiendo."
    reopening: str | None           # "Volvemos a atender el martes 21 de julio de 2026 a las 8:00."
    hours: str | None               # as on a ticket; None where the hours are not why (a press limit)
    last_ticket: str | None         # "15:45" when the site stops issuing before it closes
    issued_at: datetime
    label: ClassVar[str] = "aviso"
    qr: ClassVar[None] = None
    logo: ClassVar[None] = None

    def lines(self, layout: TicketLayout) -> list[Line]:
        lines = [Line(self.entity, bold=True), Line("", rule=True), Line(self.reason, "large", True)]
        if self.reopening:
            lines.append(Line(self.reopening, bold=True))
        if self.hours:
            lines.append(Line(self.hours))
        if self.last_ticket:
            lines.append(Line(f"El último turno del día se entrega a las {self.last_ticket}."))
        lines += _when(self.issued_at, layout)
        return [wrapped for line in lines for wrapped in _wrap(line, layout)]


@dataclass(frozen=True)
class BookingSlip:
    """An appointment's slip: when and where, what to bring, and the QR code of its code, which the kiosk's reader
    checks it in by (printed under the code too, for reception)."""

    entity: str
    service_name: str
    slot: datetime
    address: str
    hours: str
    bring: str
    grace_min: int
    code: str
    issued_at: datetime
    label: ClassVar[str] = "cita"
    logo: ClassVar[None] = None

    @property
    def qr(self) -> str:
        return self.code

    def lines(self, layout: TicketLayout) -> list[Line]:
        lines = [Line(self.entity, bold=True), Line("", rule=True), Line("Su cita"),
                 Line(clock(self.slot), "huge", True), Line(long_date(self.slot.date()), bold=True),
                 Line(self.service_name, "large", True), Line("", rule=True),
                 Line(f"Dirección: {self.address}"), Line(self.hours), Line(self.bring), Line("", rule=True),
                 *(Line(text) for text in slip_advice(self.grace_min))]
        return [wrapped for line in lines for wrapped in _wrap(line, layout)]


def limit_slip(entity: str, service_name: str | None, wait_s: float, issued_at: datetime) -> Slip:
    """The slip of a press refused by a limit: its button's, which names the service, or (None) the kiosk's."""
    where = f"el botón de {service_name}" if service_name else "este dispensador"
    return Slip(entity=entity, reason=f"En este momento {where} no entrega más turnos.",
                reopening=f"Podrá tomar su turno en {duration(wait_s)}. Si necesita ayuda, acérquese a un asesor.",
                hours=None, last_ticket=None, issued_at=issued_at)


@dataclass(frozen=True)
class TicketLayout:
    paper_mm: int = 80
    encoding: str = DEFAULT_CODE_PAGE   # the printer's one code page (python-escpos's name for it)

    def __post_init__(self):
        if self.paper_mm not in LINE_CHARACTERS:
            raise ValueError(f"paper width must be 58 or 80 mm, not {self.paper_mm}")


@dataclass(frozen=True)
class Line:
    text: str
    size: str = "normal"            # "huge", "large" or "normal"
    bold: bool = False
    invert: bool = False            # white on black: the preferential mark
    rule: bool = False              # a separator line instead of text
    number: bool = False            # the turn's number: once it is printed, the citizen holds a valid turn


def ticket_lines(ticket: Ticket, layout: TicketLayout) -> list[Line]:
    """The ticket from top to bottom, each line already wrapped to the paper."""
    lines = [Line(ticket.entity, bold=True), Line("", rule=True), Line("Su turno"),
             Line(ticket.number, "huge", True, number=True),
             Line(ticket.service_name, "large", True), *(Line(text, bold=True) for text in ticket.appointment)]
    if ticket.preferential:
        lines.append(Line(" Atención preferencial ", bold=True, invert=True))
        if ticket.category:
            lines.append(Line(ticket.category, bold=True))
    lines += [*_when(ticket.issued_at, layout), Line("", rule=True)]
    if ticket.people_ahead is not None:
        ahead = ticket.people_ahead
        lines.append(Line("No hay personas antes que usted." if ahead == 0 else
                          f"Hay {ahead} {plural(ahead, 'persona', 'personas')} antes que usted."))
    if ticket.estimated_wait_min is not None:
        minutes = ticket.estimated_wait_min
        lines.append(Line(f"Tiempo estimado de espera: {minutes} {plural(minutes, 'minuto', 'minutos')}"))
        if ticket.estimate_from_history:
            lines.append(Line(HISTORY_NOTE))
    lines += [Line("Espere el llamado en la pantalla."), Line("", rule=True)]
    lines += [Line(ticket.notice), Line(ticket.hours)]
    if ticket.footer.strip():
        lines.append(Line(ticket.footer))
    if ticket.qr:   # the code itself follows the lines, and its address under it (address_lines)
        lines += [Line("", rule=True), Line(FOLLOW, bold=True)]
    return [wrapped for line in lines for wrapped in _wrap(line, layout)]


def address_lines(address: str, layout: TicketLayout) -> list[Line]:
    """The page's address under its QR code, for whoever types it: without "https://", and on 58 mm paper the
    host and the path on lines of their own rather than cut anywhere."""
    typed = address.removeprefix("https://")
    if len(typed) <= LINE_CHARACTERS[layout.paper_mm]:
        return [Line(typed, bold=True)]
    host, _, path = typed.partition("/")
    return [Line(host, bold=True), Line(f"/{path}", bold=True)]


def _when(moment: datetime, layout: TicketLayout) -> list[Line]:
    """The date and time on one line, or on 58 mm paper the time on a line of its own."""
    when = f"{long_date(moment.date())} · {clock(moment)}"
    if len(when) <= LINE_CHARACTERS[layout.paper_mm]:
        return [Line(when)]
    return [Line(long_date(moment.date())), Line(f"Hora: {clock(moment)}")]


def _wrap(line: Line, layout: TicketLayout) -> list[Line]:
    if line.rule or not line.text.strip():
        return [line]
    width = LINE_CHARACTERS[layout.paper_mm] // SIZES[layout.paper_mm][line.size]
    kept = _BESIDE_A_NUMBER.sub(_KEPT, line.text)
    if max(len(word) for word in kept.split(" ")) > width:   # too long a group would be cut: wrap it plainly
        kept = line.text
    return [Line(part.replace(_KEPT, " "), line.size, line.bold, line.invert, number=line.number)
            for part in textwrap.wrap(kept, width)]


class NumberPrinted(PrinterError):
    """The printer failed after it took the turn's number: the citizen holds a readable number, so the turn is
    valid (only the lines after it may be missing). The printer's buffer took those bytes; a printer that lost
    them in its buffer is the one case a kiosk cannot see."""


def print_ticket(printer: Escpos, printed: Ticket | Slip, layout: TicketLayout) -> None:
    """Sends the whole ticket or slip, ending with a cut. A failure of the transport is a PrinterError,
    NumberPrinted when the number had already been taken."""
    number_sent = False
    try:
        printer.hw("INIT")
        # ESC @ puts the printer back on its default code page, but python-escpos remembers the page it selected
        # last and would not select it again: forget it, so every ticket selects its page (ESC t) as the first
        # did. charcode() then fixes that page: no other is selected until the next ticket.
        printer.magic.encoding = None
        printer.charcode(layout.encoding)
        if printed.logo is not None:
            printer.set(align="center")
            printer.image(str(printed.logo), center=True)
        for line in printed.lines(layout):
            magnify = SIZES[layout.paper_mm][line.size]
            printer.set(align="center", bold=line.bold, invert=line.invert, custom_size=magnify > 1,
                        width=magnify, height=magnify, normal_textsize=magnify == 1)
            printer.textln("-" * LINE_CHARACTERS[layout.paper_mm] if line.rule else line.text)
            number_sent = number_sent or line.number
        if printed.qr:
            _print_qr(printer, printed.qr, layout)
        printer.cut()
    except Exception as exc:  # noqa: BLE001 - usb, serial and socket errors all mean "not printed"
        text = str(exc) or type(exc).__name__
        raise (NumberPrinted(text) if number_sent else PrinterError(text)) from exc


def _print_qr(printer: Escpos, address: str, layout: TicketLayout) -> None:
    """The printer draws the code itself (GS ( k) where its profile says it can; otherwise it prints it as an
    image. Its address follows, in text."""
    printer.set(align="center", bold=False, invert=False, normal_textsize=True)
    native = printer.profile.supports("qrCode")
    printer.qr(address, ec=QR_ECLEVEL_M, size=QR_MODULE_DOTS[layout.paper_mm], native=native, center=not native)
    for line in address_lines(address, layout):
        printer.set(align="center", bold=line.bold, normal_textsize=True)
        printer.textln(line.text)
