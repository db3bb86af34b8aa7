"""The printed ticket: what it says (one content model) and how it is sent to an ESC/POS printer.

The same lines feed the printer and the PNG preview, so the picture in the docs is what the paper shows.
Accents: python-escpos selects, character by character, a code page of the printer's profile that has it
(ESC t n) and encodes the text in it; a site whose printer lies about its code pages forces one instead.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from escpos.escpos import Escpos

from appliance.core.spanish import clock, long_date, plural
from appliance.drivers.printer import PrinterError

# Text sizes: the ESC/POS character magnification (width, height) on each paper width.
SIZES = {80: {"huge": 4, "large": 2, "normal": 1}, 58: {"huge": 3, "large": 2, "normal": 1}}
LINE_CHARACTERS = {80: 48, 58: 32}   # font A characters per line


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
    hours: str
    footer: str                     # [ticket] footer: the site's last line
    qr: str | None = None
    logo: Path | None = None


@dataclass(frozen=True)
class TicketLayout:
    paper_mm: int = 80
    encoding: str | None = None

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


def ticket_lines(ticket: Ticket, layout: TicketLayout) -> list[Line]:
    """The ticket from top to bottom, each line already wrapped to the paper."""
    lines = [Line(ticket.entity, bold=True), Line("", rule=True), Line("Su turno"), Line(ticket.number, "huge", True),
             Line(ticket.service_name, "large", True)]
    if ticket.preferential:
        lines.append(Line(" Atención preferencial ", bold=True, invert=True))
    when = f"{long_date(ticket.issued_at.date())} · {clock(ticket.issued_at)}"
    if len(when) > LINE_CHARACTERS[layout.paper_mm]:  # on 58 mm paper the time goes on a line of its own
        lines += [Line(long_date(ticket.issued_at.date())), Line(f"Hora: {clock(ticket.issued_at)}")]
    else:
        lines.append(Line(when))
    lines.append(Line("", rule=True))
    if ticket.people_ahead is not None:
        ahead = "No hay personas antes que usted." if ticket.people_ahead == 0 else \
            f"Personas antes que usted: {ticket.people_ahead}"
        lines.append(Line(ahead))
    if ticket.estimated_wait_min is not None:
        minutes = ticket.estimated_wait_min
        lines.append(Line(f"Tiempo estimado de espera: {minutes} {plural(minutes, 'minuto', 'minutos')}"))
    lines += [Line("Espere el llamado en la pantalla."), Line("", rule=True)]
    lines += [Line(ticket.notice), Line(f"Horario: {ticket.hours[0].lower()}{ticket.hours[1:]}.")]
    if ticket.footer.strip():
        lines.append(Line(ticket.footer))
    return [wrapped for line in lines for wrapped in _wrap(line, layout)]


def _wrap(line: Line, layout: TicketLayout) -> list[Line]:
    if line.rule or not line.text.strip():
        return [line]
    width = LINE_CHARACTERS[layout.paper_mm] // SIZES[layout.paper_mm][line.size]
    return [Line(part, line.size, line.bold, line.invert) for part in textwrap.wrap(line.text, width)]


def print_ticket(printer: Escpos, ticket: Ticket, layout: TicketLayout) -> None:
    """Sends the whole ticket, ending with a cut. Any failure of the transport is a PrinterError."""
    try:
        _send(printer, ticket, layout)
    except PrinterError:
        raise
    except Exception as exc:  # noqa: BLE001 - usb, serial and socket errors all mean "not printed"
        raise PrinterError(str(exc) or type(exc).__name__) from exc


def _send(printer: Escpos, ticket: Ticket, layout: TicketLayout) -> None:
    printer.hw("INIT")
    # ESC @ puts the printer back on its default code page, but python-escpos remembers the page it selected last
    # and would not select it again: forget it, so every ticket selects its own (ESC t) as if it were the first.
    printer.magic.encoding = None
    if layout.encoding:
        printer.charcode(layout.encoding)
    if ticket.logo is not None:
        printer.set(align="center")
        printer.image(str(ticket.logo), center=True)
    for line in ticket_lines(ticket, layout):
        magnify = SIZES[layout.paper_mm][line.size]
        printer.set(align="center", bold=line.bold, invert=line.invert, custom_size=magnify > 1,
                    width=magnify, height=magnify, normal_textsize=magnify == 1)
        printer.textln("-" * LINE_CHARACTERS[layout.paper_mm] if line.rule else line.text)
    if ticket.qr:
        printer.set(align="center", normal_textsize=True)
        printer.qr(ticket.qr, size=6, center=True)
    printer.cut()
