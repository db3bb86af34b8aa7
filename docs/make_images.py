"""Regenerates the pictures in the README and the docs from the real renderers:
`.venv/bin/python docs/make_images.py`."""
import os
from datetime import datetime
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from appliance import contract  # noqa: E402
from appliance import site as site_config  # noqa: E402
from appliance.dev.ticket_preview import save_preview  # noqa: E402
from appliance.kiosk.ticket import Ticket, TicketLayout  # noqa: E402
from appliance.screens.scene import build_scene  # noqa: E402
from appliance.screens.window import Screen  # noqa: E402

OUT = Path(__file__).parent / "images"
SITE = site_config.load(site_config.EXAMPLE)
NOW = datetime(2026, 11, 24, 9, 3, tzinfo=SITE.timezone)


def board() -> contract.Board:
    def call(i, number, desk, letter, preferential=False):
        service = SITE.services[letter]
        return contract.Call(id=f"c{i}", at=NOW.isoformat(), source="hub", turn_id=f"2026-11-24/kiosco-1/X{i:03d}",
                             number=number, service=letter, service_name=service.name, preferential=preferential,
                             desk=desk, desk_name=SITE.desks[desk].name)
    calls = [call(9, "P-007", 3, "R", True), call(8, "S-012", 1, "S"), call(7, "E-004", 2, "E"),
             call(6, "P-006", 3, "R", True), call(5, "F-003", 1, "F")]
    waiting = [contract.Waiting(service=letter, service_name=s.name, normal=n, preferential=p)
               for (letter, s), (n, p) in zip(SITE.services.items(), [(4, 1), (2, 0), (1, 0), (3, 1), (0, 0), (1, 0)])]
    return contract.Board(id="b", at=NOW.isoformat(), source="hub", calls=calls, waiting=waiting)


def screens() -> None:
    footer = SITE.displays["pantalla-1"].footer
    for name, size, portrait, online in (("pantalla-1080p", (1920, 1080), False, True),
                                         ("pantalla-vertical", (1080, 1920), True, True),
                                         ("pantalla-sin-hub", (1280, 720), False, False)):
        screen = Screen(size, fullscreen=False)
        screen.show(build_scene(board(), NOW, size=size, portrait=portrait, highlight=True, hub_online=online,
                                footer=footer, footer_index=2))
        screen.save(OUT / f"{name}.png")
        screen.close()


def tickets() -> None:
    ticket = Ticket(entity=SITE.name, number="P-007", service_name="Registro y Aportes", preferential=True,
                    issued_at=NOW, people_ahead=3, estimated_wait_min=12, notice=SITE.notice,
                    hours=SITE.hours.text(), footer=SITE.ticket_footer)
    for mm in (80, 58):
        save_preview(ticket, TicketLayout(mm), OUT / f"tiquete-{mm}mm.png")


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    screens()
    tickets()
