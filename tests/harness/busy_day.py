"""A busy site for load tests and bench/bench_load.py: 20 desks, 2 kiosks, 3 displays and the hub, driven through
a service day in fast-forward against a real Mosquitto.

The hub and the three displays are the real roles, each in its own thread. The kiosks and the desks are their
messages: TicketIssued, DeskRequest and Rating, as the contract defines them, published by one MQTT connection
per kiosk and one for the desks (the devices themselves are measured in bench/bench_devices.py; twenty desk
units and their network threads in one process would measure the GIL, not the hub).

Time is simulated: the hub and the displays read one settable clock; a ticket carries its kiosk's time. The day
moves in ticks of a simulated minute: the tickets due are issued, then the advisors whose attention is over
rate and press, all at once, and the tick ends when every desk has its answer. Nothing waits on a bare sleep.

The calls it produces are checked by policy_replay.py.
"""
from __future__ import annotations

import dataclasses
import queue
import random
import statistics
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.link import Link
from appliance.display.spoken import announcement
from appliance.display.unit import DisplayUnit
from appliance.kiosk.numbering import turn_id, turn_number
from appliance.site import Desk, Display, Kiosk, KioskButton, QueuePolicy, SiteConfig
from hub.service import Hub
from tests.harness.roles import STEP_DEADLINE_S, Running, SettableClock, wait_until

ANSWER_S = 10.0   # deadline for a desk's answer (a generous multiple of the measured p99)

# (services, transfer_to): generalists, pairs and specialists, as in a large service centre.
DESK_SERVICES = [("R", "S", "F"), ("R", "E", "V", "C"), ("R", "S", "E", "V", "F", "C"), ("S",), ("R",),
                 ("E", "C"), ("V", "F"), ("R", "S"), ("S", "E"), ("R", "F")]
ADVISORS = ["Ana María Peña", "José Muñoz", "Luz Ángela Ortiz", "Íñigo Cárdenas", "María José Núñez"]
# (service, preferential, share of the day's tickets)
DEMAND = [("R", False, 24), ("R", True, 8), ("S", False, 18), ("S", True, 6), ("E", False, 12), ("E", True, 3),
          ("F", False, 12), ("V", False, 9), ("C", False, 8)]
PREFERENTIAL = {"R": "P", "S": "Q", "E": "T"}   # the number prefix of a preferential turn, per service


def busy_config(base: SiteConfig, policy: QueuePolicy, desks: int = 20) -> SiteConfig:
    """The base site with two kiosks (a button per demand line, prefixes of their own), `desks` desks and three
    displays (one portrait)."""
    kiosks = {}
    for kiosk_id, second in (("kiosco-1", ""), ("kiosco-2", "B")):
        buttons = tuple(KioskButton(pin, service, preferential, PREFERENTIAL[service] + second if preferential
                               else service + second)
                        for pin, (service, preferential, _) in zip((5, 6, 12, 13, 16, 19, 20, 21, 26), DEMAND))
        kiosks[kiosk_id] = Kiosk(kiosk_id, None, {"kind": "simulated"}, buttons)
    desk_table = {n: Desk(n, f"Módulo {n}", DESK_SERVICES[(n - 1) % len(DESK_SERVICES)],
                          ADVISORS[(n - 1) % len(ADVISORS)], "V" if n % 5 == 0 else None)
                  for n in range(1, desks + 1)}
    displays = {f"pantalla-{i}": Display(f"pantalla-{i}", size, size[0] < size[1], False, 0, ("Bienvenido.",))
                for i, size in ((1, (1920, 1080)), (2, (1280, 720)), (3, (1080, 1920)))}
    # A busy day's crowd presses faster than a real one at a kiosk: no press limits.
    return dataclasses.replace(base, kiosks=kiosks, desks=desk_table, displays=displays, queue=policy, press_limit=0,
                               kiosk_limit=0)


class SpokenLog:
    """The display's sound output as text: what a person in the room would hear, in order."""

    def __init__(self):
        self.said: list[str] = []

    def start(self):
        pass

    def stop(self):
        pass

    def announce(self, text: str) -> None:
        self.said.append(text)


class Batches:
    """The hub's loop, noting the size of each batch and the time from its first message to its end."""

    def __init__(self, hub: Hub):
        self.hub, self.link = hub, hub.link
        self.sizes: list[int] = []
        self.seconds: list[float] = []

    def start(self):
        self.hub.start()

    def stop(self):
        self.hub.stop()

    def step(self, timeout: float) -> int:
        inbox = self.hub.inbox
        with inbox.not_empty:   # wait here for the first message, so that the time below is the hub's work
            if not inbox.queue:
                inbox.not_empty.wait(timeout)
        began = time.perf_counter()
        taken = self.hub.step(0)
        if taken:
            self.sizes.append(taken)
            self.seconds.append(time.perf_counter() - began)
        return taken


class BusySite:
    """The hub and the displays in their threads; the kiosks' and desks' messages from this thread."""

    def __init__(self, config: SiteConfig, workdir: Path, start: datetime):
        self.config, self.clock = config, SettableClock(start)
        self.hub = Hub(config, workdir / "hub", now=self.clock)
        self.batches = Batches(self.hub)
        self.spoken = {d: SpokenLog() for d in config.displays}
        self.displays = {d: DisplayUnit(config, d, announcer=self.spoken[d], now=self.clock) for d in config.displays}
        self.kiosk_links = {k: Link(k, config.broker, queue.Queue()) for k in config.kiosks}
        self.desk_answers: queue.Queue = queue.Queue()
        self.desk_link = Link("escritorios", config.broker, self.desk_answers,
                              subscriptions=(contract.desk_state_topic("+"),))
        self.desk_state: dict[int, contract.DeskState] = {}
        self._numbers: Counter = Counter()
        self._running = [Running(u) for u in (self.batches, *self.displays.values())]
        self.issued_on: Counter = Counter()    # tickets issued by the kiosks, per day
        self.ratings_on: Counter = Counter()   # ratings pressed, per day
        self.answer_ms: list[float] = []   # a desk's request published -> the hub's answer back at the desk

    def __enter__(self):
        for running in self._running:
            running.__enter__()
        for link in (*self.kiosk_links.values(), self.desk_link):
            link.start()
        for link in (self.hub.link, *(d.link for d in self.displays.values()), *self.kiosk_links.values(),
                     self.desk_link):
            assert link.wait_connected(STEP_DEADLINE_S), f"{link.device} did not connect"
        return self

    def __exit__(self, *exc):
        for link in (*self.kiosk_links.values(), self.desk_link):
            link.stop()
        for running in reversed(self._running):
            running.__exit__(*exc)

    # --- citizens ------------------------------------------------------------------------------------

    def take_ticket(self, kiosk_id: str, button: int, at: datetime) -> None:
        """A citizen takes a ticket at `at`: the kiosk numbers it and publishes its TicketIssued."""
        spec = self.config.kiosks[kiosk_id].buttons[button]
        self._numbers[at.date(), kiosk_id, spec.prefix] += 1
        number = self._numbers[at.date(), kiosk_id, spec.prefix]
        tid = turn_id(at.date(), kiosk_id, spec.prefix, number)
        event = contract.TicketIssued(id=f"ticket:{tid}", at=at.isoformat(timespec="milliseconds"), source=kiosk_id,
                                      turn_id=tid, number=turn_number(spec.prefix, number), service=spec.service,
                                      preferential=spec.preferential)
        self.kiosk_links[kiosk_id].publish(contract.ticket_topic(kiosk_id), event.to_json())
        self.issued_on[at.date()] += 1

    def serving(self, desk: int) -> str | None:
        state = self.desk_state.get(desk)
        return state.serving["turn_id"] if state and state.serving else None

    # --- advisors ------------------------------------------------------------------------------------

    def rate(self, desk: int, value: int) -> None:
        rating = contract.Rating(id=contract.new_id(), at=self._stamp(), source=f"escritorio-{desk}", desk=desk,
                                 turn_id=self.serving(desk), value=value)
        self.desk_link.publish(contract.rating_topic(desk), rating.to_json())
        self.ratings_on[self.clock().date()] += 1

    def press(self, desk: int, action: str) -> str:
        """Publishes a desk's request; returns its id (the hub's answer names it)."""
        request = contract.DeskRequest(id=contract.new_id(), at=self._stamp(), source=f"escritorio-{desk}", desk=desk,
                                       action=action,
                                       service=self.config.desks[desk].transfer_to if action == "transfer" else None)
        self.desk_link.publish(contract.request_topic(desk), request.to_json(), expiry_s=60)
        return request.id

    def press_all(self, presses: dict[int, str]) -> None:
        """Advisors press at the same moment (desk -> action); returns when every desk has its answer."""
        began = time.perf_counter()
        waiting = {self.press(n, action): n for n, action in presses.items()}
        while waiting:
            for answered in self.answers(began + ANSWER_S - time.perf_counter()):
                if waiting.pop(answered, None) is not None:
                    self.answer_ms.append((time.perf_counter() - began) * 1000)
            if time.perf_counter() > began + ANSWER_S:
                raise AssertionError(f"desks {sorted(waiting.values())} had no answer within {ANSWER_S} s")

    def answers(self, timeout: float) -> list[str]:
        """The desk states that arrive within `timeout` (at least one, or none at the deadline): the request
        ids they answer."""
        answered = []
        try:
            item = self.desk_answers.get(timeout=max(timeout, 0))
            while True:
                if isinstance(item, mqtt.MQTTMessage):
                    state = contract.expect(item.payload, contract.DeskState)
                    self.desk_state[state.desk] = state
                    answered.append(state.answered)
                item = self.desk_answers.get_nowait()
        except queue.Empty:
            pass
        return answered

    def _stamp(self) -> str:
        return self.clock().isoformat(timespec="milliseconds")

    # --- the end of the story ------------------------------------------------------------------------

    def hub_has_everything(self) -> bool:
        """Every ticket issued and every rating pressed today has reached the hub."""
        today = date.fromisoformat(self.hub.today)
        turns = list(self.hub.ledger.turns.values())   # one C-level copy: safe while the hub's thread adds
        return (sum(">" not in t.turn_id for t in turns) == self.issued_on[today]
                and sum(t.rating is not None for t in turns) == self.ratings_on[today])

    def displays_follow(self) -> bool:
        """Every display shows the hub's current board (call it when the hub is idle)."""
        board = self.hub.board()
        return all(d.board is not None and (d.board.calls, d.board.waiting) == (board.calls, board.waiting)
                   for d in self.displays.values())

    def expected_announcements(self, records: list[dict]) -> list[str]:
        """What each display must have said: every call of the hub's records, in order."""
        turns = {r["turn_id"]: r for r in records if r["kind"] in ("ticket", "transfer")}

        def number(turn):
            record = turns[turn]
            return record["number"] if record["kind"] == "ticket" else number(record["from_turn"])

        return [announcement(number(r["turn_id"]), self.config.desks[r["desk"]].name, r["recall"])
                for r in records if r["kind"] == "call"]


# --- a service day ----------------------------------------------------------------------------------------

def arrivals(day: date, count: int, config: SiteConfig, rng: random.Random, tz, *,
             first=(8, 0), last=(15, 30), burst_minutes: float = 0) -> list[tuple[datetime, str, int]]:
    """`count` citizens over the day (distinct milliseconds, two thirds in the morning), or all of them within
    `burst_minutes` of the opening: (time, kiosk, button index), in time order."""
    opening = datetime(day.year, day.month, day.day, *first, tzinfo=tz)
    closing = datetime(day.year, day.month, day.day, *last, tzinfo=tz)
    span_ms = int(burst_minutes * 60_000) or int((closing - opening).total_seconds() * 1000)
    if burst_minutes:
        offsets = rng.sample(range(span_ms), count)
    else:
        noon = span_ms * 7 // 15
        morning = count * 2 // 3
        offsets = rng.sample(range(noon), morning) + rng.sample(range(noon, span_ms), count - morning)
    kiosks = list(config.kiosks)
    weights = [share for _, _, share in DEMAND]
    result = []
    for offset in sorted(offsets):
        kiosk = kiosks[0] if rng.random() < 0.6 else kiosks[1]
        result.append((opening + timedelta(milliseconds=offset), kiosk, rng.choices(range(len(DEMAND)), weights)[0]))
    return result


@dataclasses.dataclass
class Advisor:
    serving: str | None = None      # turn id
    until: datetime | None = None   # when the attention ends
    recalled: bool = False
    back_at: datetime | None = None   # on a break (the desk paused) until then


def run_day(site: BusySite, day: date, tickets: int, *, seed: int = 1, last=(15, 30), close=(16, 30),
            on_tick=None) -> None:
    """One service day, minute by minute, until the citizens are served or the site closes (those still
    waiting then are closed by the hub at the day's end)."""
    tz, rng = site.config.timezone, random.Random(seed)
    due = arrivals(day, tickets, site.config, rng, tz, last=last)
    advisors = {n: Advisor() for n in site.config.desks}
    moment = datetime(day.year, day.month, day.day, 8, 0, tzinfo=tz)
    closing = datetime(day.year, day.month, day.day, *close, tzinfo=tz)
    while moment <= closing:
        site.clock.moment = moment
        while due and due[0][0] <= moment:
            at, kiosk, button = due.pop(0)
            site.take_ticket(kiosk, button, at)
        # Real time passes too: the hub has the minute's tickets and ratings before anyone looks at the screen
        # (otherwise this loop, which waits for nothing in a quiet minute, outruns the messages).
        wait_until(site.hub_has_everything, timeout=ANSWER_S, what="the minute's tickets and ratings at the hub")
        presses, queues = {}, _queues_on_screen(site)
        for n, advisor in advisors.items():
            if advisor.back_at is not None and moment < advisor.back_at:
                continue
            if advisor.serving is None:
                if any(queues.get(s) for s in site.config.desks[n].services):
                    presses[n] = "next"
            elif advisor.until <= moment:
                presses[n] = _finish(site, n, advisor, rng)
        if presses:
            site.press_all(presses)
        for n, action in presses.items():
            advisor = advisors[n]
            if action == "recall":   # the citizen is called again and comes within a minute
                advisor.until = moment + timedelta(minutes=1)
            elif action == "pause":  # a break: the desk calls nobody, and the advisor's next NEXT opens it
                advisor.serving, advisor.recalled = None, False
                advisor.back_at = moment + timedelta(minutes=rng.uniform(5, 20))
            else:
                advisor.serving, advisor.recalled = site.serving(n), False
                advisor.until = moment + timedelta(minutes=rng.uniform(1.5, 5.0))
        if on_tick:
            on_tick(moment)
        idle = all(a.serving is None for a in advisors.values())
        if not due and idle and not any(_queues_on_screen(site).values()) and site.hub_has_everything():
            break
        moment += timedelta(minutes=1)


def opening_burst(site: BusySite, day: date, tickets: int, *, seed: int = 2) -> int:
    """`tickets` citizens within the first simulated minute, published as fast as the connection takes them,
    while every desk presses NEXT again as soon as it has its answer; once the hub has every ticket, the desks
    go on until each is told nobody waits for it. Returns the number of requests made."""
    due = arrivals(day, tickets, site.config, random.Random(seed), site.config.timezone, burst_minutes=1)
    pending: dict[str, int] = {}          # request id -> desk
    free, asked_after = set(site.config.desks), None   # desks that asked once every ticket was at the hub
    made = 0
    while True:
        if due:
            at, kiosk, button = due.pop(0)
            site.clock.moment = at
            site.take_ticket(kiosk, button, at)
        elif asked_after is None and site.hub_has_everything():
            asked_after = set()
        for n in sorted(free):
            if asked_after is None or site.serving(n) is not None or n not in asked_after:
                pending[site.press(n, "next")] = n
                made += 1
                if asked_after is not None:
                    asked_after.add(n)
        free.clear()
        if asked_after is not None and not pending:
            return made
        answered = site.answers(0 if due else ANSWER_S)
        if not due and not answered:
            raise AssertionError(f"no answer within {ANSWER_S} s; desks waiting: {sorted(pending.values())}")
        for request_id in answered:
            if request_id in pending:
                free.add(pending.pop(request_id))


def _queues_on_screen(site: BusySite) -> dict[str, int]:
    """What a free advisor sees on the waiting-room screen: people waiting per service."""
    board = site.displays[next(iter(site.displays))].board
    return {w.service: w.normal + w.preferential for w in board.waiting} if board else {}


def _finish(site: BusySite, desk: int, advisor: Advisor, rng: random.Random) -> str:
    """What the advisor does when the attention is over: mostly the citizen rates and NEXT; sometimes the
    citizen did not come (a recall, then no-show) or goes to another service (transfer), or the advisor takes a
    break (pause)."""
    roll = rng.random()
    if roll < 0.05 and not advisor.recalled:
        advisor.recalled = True
        return "recall"
    if roll < 0.08 and advisor.recalled:
        return "no_show"
    if roll < 0.11 and site.config.desks[desk].transfer_to:
        return "transfer"
    if roll < 0.96:
        site.rate(desk, rng.choices((5, 4, 3, 2, 1), weights=(50, 30, 10, 6, 4))[0])
    return "pause" if roll > 0.985 else "next"


def roll_over(site: BusySite, next_day: date) -> None:
    """The clock passes midnight; the hub closes the day at its next loop."""
    site.clock.moment = datetime(next_day.year, next_day.month, next_day.day, 7, 0, tzinfo=site.config.timezone)
    wait_until(lambda: site.hub.today == next_day.isoformat(), what="the hub to start the new day")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def summary(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.1f}, p99 {percentile(values, 0.99):.1f}, max {max(values):.1f}"

