"""Boards, calls and scenes for the screen tests: one waiting room, the same for the scene and the painter."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from appliance.contract import Board, Call, DeskStatus, Waiting
from appliance.screens.scene import build_scene

BOGOTA = timezone(timedelta(hours=-5))
NOW = datetime(2026, 11, 24, 9, 3, tzinfo=BOGOTA)
FOOTER = ("Horario: lunes a viernes de 8:00 a 12:00 y de 14:00 a 16:00.",
          "Recuerde calificar la atención al terminar.")
WAITING = [Waiting(service="R", service_name="Registro y Aportes", normal=4, preferential=1),
           Waiting(service="S", service_name="Salud", normal=2, preferential=0),
           Waiting(service="V", service_name="Vivienda", normal=1, preferential=0),
           Waiting(service="E", service_name="Educación", normal=3, preferential=1),
           Waiting(service="F", service_name="Servicios Financieros", normal=0, preferential=0),
           Waiting(service="C", service_name="Recreación", normal=1, preferential=0)]


# The same queues once the hub knows the pace of each service: a new ticket's wait shows beside each count.
PACED = [Waiting(**{**vars(w), "minutes_per_turn": minutes}) for w, minutes in zip(WAITING, (3, 5, 8, 4, 2, 6))]
CLOSED = ("Hoy es festivo, La Inmaculada Concepción: no estamos atendiendo. Volvemos a atender el miércoles 9 de "
          "diciembre de 2026 a las 8:00.")
LATER = NOW + timedelta(hours=1)      # the calls of the board an hour ago: the closed screen takes their place
NO_PAPER = "El dispensador de turnos no tiene papel: por favor avise a un asesor."


def call(i: int, number: str, desk: int = 3, *, preferential=False, recall=False, desk_name=None) -> Call:
    return Call(id=f"c{i}", at=NOW.isoformat(), source="hub", turn_id=f"2026-11-24/k1/{number.replace('-', '')}",
                number=number, service="S", service_name="Salud", preferential=preferential, desk=desk,
                desk_name=desk_name or f"Módulo {desk}", recall=recall)


# Desk 2 on a break and desks 4 and 5 not open yet: the room's screen names them beside the queues.
DESKS = [DeskStatus(desk=n, desk_name=f"Módulo {n}", status=status)
         for n, status in enumerate(("open", "paused", "open", "closed", "closed"), start=1)]


def board(*calls: Call, waiting=WAITING, desks=None) -> Board:
    return Board(id="b1", at=NOW.isoformat(), source="hub", calls=list(calls), waiting=list(waiting), desks=desks)


def ten_calls() -> list[Call]:
    """Ten turns called one after another, newest first as the hub lists them, every fourth preferential."""
    return [call(i, f"{'RSF'[i % 3]}-{i:03d}", 1 + i % 4, preferential=i % 4 == 0) for i in range(10, 0, -1)]


def scene(b, now=NOW, **changes):
    args = dict(size=(1920, 1080), portrait=False, highlight=True, hub_online=True, footer=FOOTER)
    return build_scene(b, now, **{**args, **changes})
