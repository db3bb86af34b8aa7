"""What the waiting-room screen shows, as plain data: no pygame here, so tests assert the scene itself.

The scene says what is on screen and in which words; the painter decides where. Every Spanish text the
screen shows is here. Equal scenes mean nothing to redraw: the clock is to the minute.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from appliance.contract import Board, Call, printable
from appliance.core.spanish import clock, long_date

SHOWN_CALLS = 7                       # calls listed under "Turnos anteriores"; the painter keeps a row for each
CALLED = "Turno"
RECALLED = "Llamado de nuevo"
PREFERENTIAL_MARK = "Preferencial"
HISTORY_TITLE = "Turnos anteriores"
HISTORY_EMPTY = "Aquí verá los turnos ya llamados."
WAITING_TITLE = "Personas en espera"
IDLE_MESSAGE = "Bienvenido.\nTome su turno y espere el llamado en esta pantalla."   # a title, then the text
# The wording of the seeds' "caída del sistema" script, said to a whole room.
OFFLINE_BANNER = "El sistema está en actualización y mantenimiento. Por favor espere: su turno se conserva."


@dataclass(frozen=True)
class CallView:
    number: str
    desk: str
    preferential: bool
    recall: bool

    @property
    def caption(self) -> str:
        return RECALLED if self.recall else CALLED


@dataclass(frozen=True)
class WaitingView:
    service: str
    count: int                    # normal and preferential together: everyone ahead of a new ticket


@dataclass(frozen=True)
class Scene:
    size: tuple[int, int]         # what the scene was built for; the painter lays out on the surface it gets
    portrait: bool
    headline: CallView | None
    highlight: bool
    history: tuple[CallView, ...]
    waiting: tuple[WaitingView, ...]
    date: str
    time: str
    footer: str
    banner: str | None
    key_help: str | None
    idle: str | None              # the welcome shown in the headline's place before the first call


def _view(call: Call) -> CallView:
    # The contract already refuses unprintable text; the screen still never draws anything it did not check.
    return CallView(printable(call.number), printable(call.desk_name), call.preferential, call.recall)


def build_scene(board: Board | None, now: datetime, *, size: tuple[int, int], portrait: bool, highlight: bool,
                hub_online: bool, footer: Sequence[str], footer_index: int = 0,
                key_help: str | None = None) -> Scene:
    calls = board.calls if board else []
    headline = _view(calls[0]) if calls else None
    # A recall repeats a turn already on the board: the history lists each turn once, by its latest call.
    history: list[CallView] = []
    seen = {headline.number} if headline else set()
    for call in calls[1:]:
        if len(history) == SHOWN_CALLS:
            break
        if call.number not in seen:
            seen.add(call.number)
            history.append(_view(call))
    waiting = tuple(WaitingView(printable(w.service_name), w.normal + w.preferential)
                    for w in (board.waiting if board else ()))
    return Scene(size=size, portrait=portrait, headline=headline, highlight=highlight and headline is not None,
                 history=tuple(history), waiting=waiting, date=long_date(now.date()), time=clock(now),
                 footer=footer[footer_index % len(footer)] if footer else "",
                 banner=None if hub_online else OFFLINE_BANNER, key_help=key_help,
                 idle=None if headline else IDLE_MESSAGE)
