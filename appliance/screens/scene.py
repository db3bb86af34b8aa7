"""What the waiting-room screen shows, as plain data: no pygame here, so tests assert the scene itself.

The scene says what is on screen and in which words; the painter decides where. Every Spanish text the
screen shows is here. Equal scenes mean nothing to redraw: the clock is to the minute.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.contract import Board, Call, printable
from appliance.core.spanish import clock, long_date, plural

SHOWN_CALLS = 7                       # calls listed under "Turnos anteriores"; the painter keeps a row for each
CALLED = "Turno"
RECALLED = "Llamado de nuevo"
PREFERENTIAL_MARK = "Preferencial"
HISTORY_TITLE = "Turnos anteriores"
HISTORY_EMPTY = "Aquí verá los turnos ya llamados."
WAITING_TITLE = "Personas en espera"
IDLE_MESSAGE = "Bienvenido.\nTome su turno y espere el llamado en esta pantalla."   # a title, then the text
CLOSED_TITLE = "Fuera de horario"
STILL_SERVING = "Atendemos a quienes ya tienen su turno."      # after the day's last ticket, before closing
TAKE_ANOTHER = "Si su tiquete salió sin número, tome otro turno."
DISPENSER_TROUBLE = {"out": "no tiene papel", "offline": "no está imprimiendo", "down": "no está funcionando"}
# The closed screen replaces the last call only once it has been on screen this long: the citizen called just
# before closing still sees where to go.
CALL_LINGERS = timedelta(minutes=10)
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
    minutes: int | None = None    # the estimated wait of a new ticket, once the hub knows the pace
    from_history: bool = False    # that pace is other days' (today has not measured its own yet)

    @property
    def estimate(self) -> str | None:
        """'15 min aprox.', or '15 min (otros días)' at the pace of other days; nothing beside an empty queue,
        where a citizen is called at once."""
        if self.minutes is None or not self.count:
            return None
        return f"{self.minutes} min (otros días)" if self.from_history else f"{self.minutes} min aprox."


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
    idle: str | None              # the welcome before the first call, or the closed site: a title, then the text
    notice: str | None = None     # what the room must know now: a dispenser without paper, a ticket without number
    desks: str | None = None      # the desks that call nobody now: "En pausa: Módulo 2 · Cerrado: Módulo 3"


def desks_line(board: Board | None) -> str | None:
    """The paused and the closed desks, by name, beside the queues: the room sees why a desk calls nobody."""
    named = {status: [printable(d.desk_name) for d in (board.desks or ()) if d.status == status]
             for status in ("paused", "closed")} if board else {}
    parts = []
    if named.get("paused"):
        parts.append("En pausa: " + ", ".join(named["paused"]))
    if named.get("closed"):
        parts.append(plural(len(named["closed"]), "Cerrado", "Cerrados") + ": " + ", ".join(named["closed"]))
    return " · ".join(parts) or None


def dispenser_notice(trouble: str, kiosk: str | None = None) -> str:
    """'El dispensador de turnos no tiene papel: …'; `kiosk` names it on a site with several."""
    which = f"El dispensador de turnos {kiosk}" if kiosk else "El dispensador de turnos"
    return f"{which} {DISPENSER_TROUBLE[trouble]}: por favor avise a un asesor."


def _view(call: Call) -> CallView:
    # The contract already refuses unprintable text; the screen still never draws anything it did not check.
    return CallView(printable(call.number), printable(call.desk_name), call.preferential, call.recall)


def build_scene(board: Board | None, now: datetime, *, size: tuple[int, int], portrait: bool, highlight: bool,
                hub_online: bool, footer: Sequence[str], footer_index: int = 0,
                key_help: str | None = None, closed: str | None = None, notice: str | None = None) -> Scene:
    """`closed`: why the site is not attending now and when it opens again (the text under CLOSED_TITLE), or None
    while it is open."""
    # Today's calls only: a board retained from an earlier day (the hub away overnight, a holiday) is not news.
    calls = [c for c in (board.calls if board else []) if _day(c.at, now) == now.date()]
    # A call to a desk that is now paused or closed is over: it joins the history instead of standing, large,
    # beside "Cerrado: Módulo 3"; the headline is the newest call to a desk still open.
    stopped = {d.desk for d in (board.desks or ()) if d.status != "open"} if board else set()
    current = next((c for c in calls if c.desk not in stopped), None)
    waiting = tuple(WaitingView(printable(w.service_name), w.normal + w.preferential,
                                w.estimated_minutes(w.normal + w.preferential), w.from_history)
                    for w in (board.waiting if board else ()))
    # Closed, nobody left waiting and the last call a while ago: the screen says so instead of the last call.
    # While citizens still wait after closing time they are still called, and the screen goes on showing them.
    closed_now = (closed is not None and not any(w.count for w in waiting)
                  and not (current and now - datetime.fromisoformat(current.at) < CALL_LINGERS))
    if closed_now:
        waiting = ()    # empty queues and a pace from hours ago say nothing to a closed room
    headline = _view(current) if current and not closed_now else None
    # A recall repeats a turn already on the board: the history lists each turn once, by its latest call.
    history: list[CallView] = []
    seen = {headline.number} if headline else set()
    for call in calls:
        if len(history) == SHOWN_CALLS:
            break
        if call.number not in seen:
            seen.add(call.number)
            history.append(_view(call))
    idle = f"{CLOSED_TITLE}\n{closed}" if closed_now else None if headline else IDLE_MESSAGE
    # Only the newest call is highlighted: an older one shown because the newest desk closed is not news.
    newest = headline is not None and current is calls[0]
    return Scene(size=size, portrait=portrait, headline=headline, highlight=highlight and newest,
                 history=tuple(history), waiting=waiting, date=long_date(now.date()), time=clock(now),
                 footer=footer[footer_index % len(footer)] if footer else "",
                 # a closed room is not told the system is being restored: nobody waits for it
                 banner=None if hub_online or closed_now else OFFLINE_BANNER, key_help=key_help, idle=idle,
                 notice=notice, desks=desks_line(board) if waiting else None)


def _day(moment: str, now: datetime):
    return datetime.fromisoformat(moment).astimezone(now.tzinfo).date()
