"""What the desk's counter display says: plain Python, two lines of 20 characters (drivers.counter_display).

The citizen at the desk and the advisor both read it: the turn served and how long its attention has lasted,
the minutes left before the site's limit (seed 003: a 15-minute timer "para avisarle al usuario el tiempo que le
queda"), and, for the advisor, what became of a press the hub has not answered yet and the service a TRANSFER
will send the citizen to.
"""
from __future__ import annotations

import math
import unicodedata

from appliance.core.spanish import plural
from appliance.drivers.counter_display import DISPLAY_CHARACTERS, ENCODING


def idle(desk_name: str, status: str) -> tuple[str, str]:
    """Nobody served: the desk's welcome, or that it is paused or closed (contract.DESK_STATUSES)."""
    return desk_name, {"open": "Bienvenido", "paused": "En pausa", "closed": "Cerrado"}[status]


def attention(desk_name: str, number: str, elapsed_s: float, limit_min: int, warning_min: int) -> tuple[str, str]:
    """The turn served with the minutes of its attention; the upper line gives the time left once it is within
    `warning_min` of the limit (0: no warning), and says when the limit has come."""
    minutes = max(0, int(elapsed_s // 60))
    number_line = f"Turno {number}" + (f" · {minutes} min" if minutes else "")
    if len(number_line) > DISPLAY_CHARACTERS:
        number_line = f"{number} · {minutes} min"
    left = math.ceil((limit_min * 60 - elapsed_s) / 60)
    if left <= 0:
        return "Tiempo cumplido", number_line
    if left <= warning_min:
        return plural(left, "Queda 1 minuto", f"Quedan {left} minutos"), number_line
    return desk_name, number_line


def kept_request() -> tuple[str, str]:
    """A press the hub has not answered while it is away: kept, and sent again when it is back."""
    return "Solicitud guardada", "Se enviará al volver"


def cancelled_request() -> tuple[str, str]:
    return "Solicitud cancelada", "Pulse de nuevo"


def transfer_choice(service_name: str, position: int, count: int) -> tuple[str, str]:
    """The service a TRANSFER would send the citizen to, one of `count` the advisor cycles through."""
    return f"Trasladar a {position}/{count}", service_name[:DISPLAY_CHARACTERS]


def refused(reason: str) -> tuple[str, str]:
    """The hub did not do what the advisor asked: why, in its words (at most 20 characters)."""
    return "No se pudo", reason[:DISPLAY_CHARACTERS]


def signed_in(advisor: str) -> tuple[str, str]:
    """The advisor's code was taken: the desk's calls and ratings go under this name from now on."""
    return "Sesión iniciada", _displayable(advisor)[:DISPLAY_CHARACTERS]


def _displayable(name: str) -> str:
    """A person's name in the display's code page: a letter it lacks (Á, Í, Ó, Ú) without its accent."""
    return "".join(char if char.encode(ENCODING, "ignore") else unicodedata.normalize("NFD", char)[0]
                   for char in name)
