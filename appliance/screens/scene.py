"""What the waiting-room screen shows, as plain data: no pygame here, so tests assert the scene itself.

The layout is the painter's; the scene says what is on screen: the newest call very large, the calls before
it, how many wait per service, the date and time in Spanish, a footer message, and a banner while the hub is
away. Equal scenes mean nothing to redraw.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..contract import Board, Call
from ..spanish import clock, long_date

HISTORY = 7
IDLE_MESSAGE = "Bienvenido. Tome su turno y espere el llamado en esta pantalla."
OFFLINE_BANNER = "Sistema en mantenimiento: por favor espere, su turno se conserva."


@dataclass(frozen=True)
class CallView:
    number: str
    desk: str
    service: str
    preferential: bool
    recall: bool


@dataclass(frozen=True)
class WaitingView:
    service: str
    count: int


@dataclass(frozen=True)
class Scene:
    size: tuple[int, int]
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
    idle: str | None


def _view(call: Call) -> CallView:
    return CallView(call.number, call.desk_name, call.service_name, call.preferential, call.recall)


def build_scene(board: Board | None, now: datetime, *, size: tuple[int, int], portrait: bool, highlight: bool,
                hub_online: bool, footer: Sequence[str], footer_index: int = 0,
                key_help: str | None = None) -> Scene:
    calls = list(board.calls) if board else []
    headline = _view(calls[0]) if calls else None
    # A recall repeats a turn already on the board; the history lists each turn once, by its latest call.
    history, seen = [], {headline.number} if headline else set()
    for call in calls[1:]:
        if call.number not in seen and len(history) < HISTORY:
            seen.add(call.number)
            history.append(_view(call))
    waiting = tuple(WaitingView(w.service_name, w.normal + w.preferential) for w in (board.waiting if board else ()))
    return Scene(size=size, portrait=portrait, headline=headline, highlight=highlight and headline is not None,
                 history=tuple(history), waiting=waiting, date=long_date(now.date()), time=clock(now),
                 footer=footer[footer_index % len(footer)] if footer else "",
                 banner=None if hub_online else OFFLINE_BANNER, key_help=key_help,
                 idle=None if headline else IDLE_MESSAGE)
