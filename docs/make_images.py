"""Regenerates the pictures in the README and the docs from the real renderers:
`.venv/bin/python docs/make_images.py`."""
import dataclasses
import os
from datetime import datetime
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from appliance import contract  # noqa: E402
from appliance import site as site_config  # noqa: E402
from appliance.core.hours import OpeningHours  # noqa: E402
from appliance.core.public_code import public_code, ticket_address  # noqa: E402
from appliance.kiosk.arrivals import appointment_lines  # noqa: E402
from appliance.kiosk.preview import save_preview  # noqa: E402
from appliance.kiosk.ticket import BookingSlip, Slip, Ticket, TicketLayout  # noqa: E402
from appliance.screens.scene import build_scene, dispenser_notice  # noqa: E402
from appliance.screens.window import Screen  # noqa: E402

OUT = Path(__file__).parent / "images"
SITE = site_config.load(site_config.EXAMPLE)
NOW = datetime(2026, 11, 24, 9, 3, tzinfo=SITE.timezone)
HOLIDAY = datetime(2026, 12, 8, 10, 12, tzinfo=SITE.timezone)      # La Inmaculada Concepción
OPENING = OpeningHours(SITE.hours, SITE.holidays)


def board(paced: bool = False, waiting: bool = True) -> contract.Board:
    def call(i, number, desk, letter, preferential=False):
        service = SITE.services[letter]
        return contract.Call(id=f"c{i}", at=NOW.isoformat(), source="hub", turn_id=f"2026-11-24/kiosco-1/X{i:03d}",
                             number=number, service=letter, service_name=service.name, preferential=preferential,
                             desk=desk, desk_name=SITE.desks[desk].name)
    calls = [call(9, "P-007", 3, "R", True), call(8, "S-012", 1, "S"), call(7, "E-004", 2, "E"),
             call(6, "P-006", 3, "R", True), call(5, "F-003", 1, "F")]
    queues = [(4, 1, 3), (2, 0, 5), (1, 0, 8), (3, 1, 4), (0, 0, 2), (1, 0, 6)] if waiting else [(0, 0, 3)] * 6
    queued = [contract.Waiting(service=letter, service_name=s.name, normal=n, preferential=p,
                               minutes_per_turn=pace if paced else None)
              for (letter, s), (n, p, pace) in zip(SITE.services.items(), queues)]
    return contract.Board(id="b", at=NOW.isoformat(), source="hub", calls=calls, waiting=queued)


def screens() -> None:
    footer = SITE.displays["pantalla-1"].footer
    closed = f"{OPENING.reason(HOLIDAY)} {OPENING.reopening(HOLIDAY)}"
    for name, size, portrait, b, now, changes in (
            ("pantalla-1080p", (1920, 1080), False, board(paced=True), NOW, {}),
            ("pantalla-vertical", (1080, 1920), True, board(paced=True), NOW, {}),
            ("pantalla-sin-hub", (1280, 720), False, board(), NOW, {"hub_online": False}),
            ("pantalla-fuera-de-horario", (1280, 720), False, board(waiting=False), HOLIDAY, {"closed": closed}),
            ("pantalla-sin-papel", (1280, 720), False, board(paced=True), NOW, {"notice": dispenser_notice("out")})):
        screen = Screen(size, fullscreen=False)
        screen.show(build_scene(b, now, size=size, portrait=portrait, highlight=not changes,
                                **{"hub_online": True, **changes}, footer=footer, footer_index=2))
        screen.save(OUT / f"{name}.png")
        screen.close()


def tickets() -> None:
    ticket = Ticket(entity=SITE.name, number="P-007", service_name="Registro y Aportes", preferential=True,
                    issued_at=NOW, people_ahead=3, estimated_wait_min=12, notice=SITE.notice,
                    hours=SITE.hours.line(), footer=SITE.ticket_footer)
    for mm in (80, 58):
        save_preview(ticket, TicketLayout(mm), OUT / f"tiquete-{mm}mm.png")
    older = dataclasses.replace(ticket, number="M-002", people_ahead=1, estimated_wait_min=8,
                                category=contract.PREFERENTIAL_CATEGORIES["persona_mayor"])
    save_preview(older, TicketLayout(80), OUT / "tiquete-persona-mayor.png")
    # A site with [public]: the QR code of the turn's "Mi turno" page, and its address (docs/mi-turno.md).
    code = public_code(b"el secreto de ejemplo de una sede, de 32 bytes o mas", "2026-11-24/kiosco-1/P007")
    followed = dataclasses.replace(ticket, qr=ticket_address("https://turno.cis-cali.example", code))
    for mm in (80, 58):
        save_preview(followed, TicketLayout(mm), OUT / f"tiquete-qr-{mm}mm.png")
    slip = Slip(entity=SITE.name, reason=OPENING.reason(HOLIDAY), reopening=OPENING.reopening(HOLIDAY),
                hours=SITE.hours.line(), last_ticket=SITE.hours.last_ticket_text(), issued_at=HOLIDAY)
    save_preview(slip, TicketLayout(80), OUT / "aviso-festivo.png")


def appointments() -> None:
    """An appointment's slip, and the ticket its QR code gives at the kiosk (docs/appointments.md)."""
    settings, slot = SITE.appointments, NOW.replace(hour=10, minute=30)
    slip = BookingSlip(entity=SITE.name, service_name="Registro y Aportes", slot=slot, address=settings.address,
                       hours=SITE.hours.line(), bring=settings.bring, grace_min=settings.grace_min,
                       code="HVRF5C62R7FUAZA0", issued_at=NOW)
    save_preview(slip, TicketLayout(80), OUT / "comprobante-cita.png")
    ticket = Ticket(entity=SITE.name, number="RC-003", service_name="Registro y Aportes", preferential=False,
                    issued_at=slot.replace(minute=12), people_ahead=None, estimated_wait_min=None,
                    notice=SITE.notice, hours=SITE.hours.line(), footer=SITE.ticket_footer,
                    appointment=appointment_lines(slot, slot.replace(minute=12), late=False))
    save_preview(ticket, TicketLayout(80), OUT / "tiquete-cita.png")


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    screens()
    tickets()
    appointments()
