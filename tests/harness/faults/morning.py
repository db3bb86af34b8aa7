"""A simulated morning with faults, for tests/system/test_faults.py (short mornings in CI) and bench/soak_faults.py
(many longer ones by hand).

The real roles (a hub, two kiosks, three desks with their rating pads, a display) run against a real Mosquitto,
each in its own thread as on its own Pi, with gpiozero mock pins and simulated printers. Every device reaches
the broker through its own loopback cable that can be cut. Faults land between the citizens' and advisors'
presses: the broker stopped or losing power, the hub, a kiosk, a desk or the display losing power, a cable
cut, a network that freezes just before a kiosk loses power, a power cut or an I/O error in the middle of the
hub's disk write, a power cut while the hub acknowledges, a printer out of paper or whose roll ends in the
middle of a ticket, and a client that replays copies of what it overheard, out of order.

The schedule of presses and faults comes from the seed alone (threads' timing varies). At the end everything is
repaired, and the checks read only what people see: the tickets printed, what each desk showed, the hub's records
on disk and its CSV export. They hold whatever the timing was.
"""
from __future__ import annotations

import dataclasses
import random
import time
from collections import Counter
from datetime import date
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.core.debounce import Debouncer
from appliance.desk.unit import DeskUnit
from appliance.dev.always_open import AlwaysOpen
from appliance.dev.local_broker import HOST, LocalBroker
from appliance.display.unit import DisplayUnit
from appliance.drivers.gpio import press
from appliance.kiosk.unit import KioskUnit
from appliance.records.journal import DayStore
from hub.export import rows
from hub.service import Hub
from tests.harness.faults.disk import FailingCard, HubDisk, PowerCut
from tests.harness.faults.machine import Machine
from tests.harness.faults.network import Cable
from tests.harness.faults.paper import Roll
from tests.harness.listener import Listener
from tests.harness.roles import Ticking, wait_until

KIOSKS = ("kiosco-1", "kiosco-2")
DESKS = (1, 2, 3)
DISPLAY = "pantalla-1"
# Every kind of fault lands at least once in every morning.
FAULTS = ("broker_down", "broker_power_cut", "hub_crash", "hub_power_cut_in_write", "hub_disk_error",
          "hub_power_cut_in_ack", "kiosk_crash", "desk_crash", "display_crash", "cable_cut", "stall_then_crash",
          "paper_out", "roll_ends", "replay")
OUTCOME_OF = {"next": "attended", "no_show": "no_show", "transfer": "transferred"}
ACTION_FOR = {outcome: action for action, outcome in OUTCOME_OF.items()}


def site(broker: LocalBroker) -> site_config.SiteConfig:
    """The example site with simulated printers and a second kiosk (prefixes of its own). The pads have no grace
    period: a citizen rates while being served, so each press is for the turn the desk shows. The morning's
    citizens press faster than a real crowd: no per-button limit."""
    base = site_config.load(site_config.EXAMPLE).with_broker(HOST, broker.port, broker.ca_file)
    first = dataclasses.replace(base.kiosks["kiosco-1"], printer={"kind": "simulated"})
    second = site_config.Kiosk("kiosco-2", None, {"kind": "simulated"}, (
        site_config.KioskButton(5, "V", False, "VB"), site_config.KioskButton(6, "C", False, "CB"),
        site_config.KioskButton(26, "S", True, "Q")))
    return dataclasses.replace(base, kiosks={k.id: k for k in (first, second)}, rating_grace_s=0.0,
                               rating_min_attention_s=0.0, press_limit=0, kiosk_limit=0)


def plan(seed: int, slots: int) -> list[tuple]:
    """The morning's schedule, from its seed alone: citizens' presses, advisors' turns at their desks, and every
    kind of fault at least once at a random moment, most repaired a few slots later."""
    rng = random.Random(seed)
    actions: list[tuple] = []
    for _ in range(slots):
        roll = rng.random()
        if roll < 0.4:
            actions.append(("press", rng.choice(KIOSKS), rng.random()))
        elif roll < 0.95:
            actions.append(("desk", rng.choice(DESKS)))
        else:
            actions.append(("recall", rng.choice(DESKS)))
    machines = ("hub", *KIOSKS, *(f"escritorio-{d}" for d in DESKS), DISPLAY)
    targets = {"kiosk_crash": KIOSKS, "stall_then_crash": KIOSKS, "paper_out": KIOSKS, "roll_ends": KIOSKS,
               "desk_crash": tuple(f"escritorio-{d}" for d in DESKS), "display_crash": (DISPLAY,),
               "cable_cut": machines}
    for n, kind in enumerate([*FAULTS, *rng.choices(FAULTS, k=slots // 40)]):
        at = rng.randrange(len(actions) * 4 // 5)  # the end of the morning is left for everything to come back
        target = rng.choice(targets.get(kind, ("hub",)))
        actions.insert(at, ("fault", n, kind, target, _parameter(rng, kind, first=n < len(FAULTS))))
        if kind.startswith("hub_") or kind == "roll_ends":  # a ticket right after: to tear, to write, to ack
            at += 1
            actions.insert(at, ("press", target if kind == "roll_ends" else rng.choice(KIOSKS), rng.random()))
        if kind != "replay":
            actions.insert(at + 1 + rng.randint(1, 6), ("repair", n))
    return actions


def _parameter(rng, kind: str, *, first: bool) -> int:
    """Acks before a power cut; for a roll that ends, the bytes of the next ticket it still prints: the first
    roll of a morning ends before the number (about 150 bytes in: a void number), the others anywhere in the
    ticket (about 1000 bytes: mostly a valid turn cut short); for the rest, a fraction in 1/300."""
    if "ack" in kind:
        return rng.randint(1, 3)
    if kind == "roll_ends":
        return rng.randrange(100 if first else 1000)
    return rng.randrange(300)


@dataclasses.dataclass(frozen=True)
class DeskView:
    """What an advisor sees at a desk."""
    pending: bool            # a press is waiting for its answer
    turn: str | None         # the turn on the counter display
    offline: bool            # the light says the answer is missing
    kept: bool               # the light says the press is kept until the hub is back
    pad_lit: bool            # the rating pad invites a press


@dataclasses.dataclass(frozen=True)
class Fate:
    """What happens to a turn once a desk serves it: decided by the seed and the turn, whatever the timing."""
    rating: int | None
    action: str       # the advisor's closing press: "next", "no_show" or "transfer"

    @classmethod
    def of(cls, seed: int, turn_id: str, can_transfer: bool) -> "Fate":
        rng = random.Random(f"{seed}:{turn_id}")
        rating = rng.randint(1, 5) if rng.random() < 0.7 else None
        roll = rng.random()
        action = "no_show" if roll < 0.1 else "transfer" if roll < 0.2 and can_transfer else "next"
        return cls(rating, action)


class Morning:
    """One seeded morning: `with Morning(dir, seed) as m: m.run()`; then m.violations (empty when nothing was
    lost, duplicated or misapplied), m.injected (faults by kind) and m.summary()."""

    def __init__(self, workdir: Path, seed: int, *, slots: int = 60, cut_s: float = 0.0, settle_s: float = 40.0):
        self.workdir, self.seed, self.cut_s, self.settle_s = Path(workdir), seed, cut_s, settle_s
        self.actions = plan(seed, slots)
        self.state = self.workdir / "state"
        self.injected: Counter = Counter()
        self.fired: Counter = Counter()
        self.violations: list[str] = []
        # What people did and saw.
        self.presses_with_paper: Counter = Counter()   # (kiosk, prefix): presses that must have given a number
        self.intents: dict[str, str] = {}              # turn: the outcome its advisor's closing press asked for
        self.rated: dict[str, int] = {}                # turn: the value its citizen pressed on the pad
        self.shown: set[tuple[int, str]] = set()       # (desk, turn): the desk's counter showed the turn
        self._open: dict[int, tuple[str, str, float]] = {}
        self._acks_until_cut: int | None = None
        self._pressed_again: dict[int, float] = {}
        self.trace: list[str] = []   # what the harness did and saw, written beside the state when a check fails

    # --- the site ----------------------------------------------------------------------------------------

    def __enter__(self) -> "Morning":
        self.broker = LocalBroker(self.workdir / "broker").start()
        self.config = site(self.broker)
        self.disk = HubDisk(self.state / "hub" / "days").__enter__()
        self.printers = {k: Roll() for k in KIOSKS}
        self.pins = {name: MockFactory() for name in (*KIOSKS, *DESKS)}
        self.machines: dict[str, Machine] = {}
        self._machine("hub", self._hub)
        for kiosk in KIOSKS:
            self._machine(kiosk, lambda cfg, k=kiosk: KioskUnit(
                cfg, k, self.state / k, pin_factory=self.pins[k], printer=self.printers[k], opening=AlwaysOpen(),
                monotonic=Ticking()))
        for d in DESKS:
            self._machine(f"escritorio-{d}", lambda cfg, d=d: DeskUnit(
                cfg, d, self.state / f"escritorio-{d}", pin_factory=self.pins[d], debounce=Debouncer(clock=Ticking())))
        self._machine(DISPLAY, lambda cfg: DisplayUnit(cfg, DISPLAY, state_dir=self.state / DISPLAY,
                                                           opening=AlwaysOpen()))
        self.listener = Listener(self.broker)
        self.listener.start()
        for machine in self.machines.values():
            machine.boot()
        wait_until(lambda: all(m.unit.link.connected for m in self.machines.values()), 10, "every device online")
        return self

    def _machine(self, name: str, make) -> None:
        cable = Cable(self.broker.port)
        config = self.config.with_broker(HOST, cable.port, self.config.broker.ca_file)
        self.machines[name] = Machine(name, lambda: make(config), cable)

    def _hub(self, config) -> Hub:
        """A hub whose power can be cut after it has acknowledged some of a batch's messages."""
        hub = Hub(config, self.state / "hub")
        ack = hub.link.ack

        def acknowledge(mid: int, qos: int) -> None:
            if self._acks_until_cut is not None:
                self._acks_until_cut -= 1
                if self._acks_until_cut <= 0:
                    self._acks_until_cut = None
                    self.fired["power_cut_in_ack"] += 1
                    raise PowerCut("power cut while the hub acknowledges a batch")
            ack(mid, qos)
        hub.link.ack = acknowledge
        return hub

    def __exit__(self, *exc) -> None:
        self.listener.stop()
        for machine in self.machines.values():
            machine.crash() if exc[0] else machine.shutdown()
            machine.cable.close()
        self.broker.stop()
        self.disk.__exit__()

    # --- the morning -------------------------------------------------------------------------------------

    def run(self) -> "Morning":
        print(f"fault seed {self.seed}: {len(self.actions)} actions", flush=True)
        for index, (kind, *args) in enumerate(self.actions):
            self._supervise()
            getattr(self, f"_{kind}")(random.Random(f"{self.seed}/{index}"), *args)
        self._repair_everything()
        self._settle()
        for name in (*KIOSKS, *(f"escritorio-{d}" for d in DESKS), DISPLAY, "hub"):
            self.machines[name].shutdown()
        self._check()
        if self.violations:
            (self.workdir / "trace.txt").write_text("\n".join(self.trace) + "\n", encoding="utf-8")
        return self

    def _press(self, _rng, kiosk: str, which: float) -> None:
        machine = self.machines[kiosk]
        if not machine.running:
            return  # nobody takes a turn at a dark kiosk
        buttons = machine.unit.kiosk.buttons
        button = buttons[int(which * len(buttons))]
        if self.printers[kiosk].paper == "ok":
            self.presses_with_paper[(kiosk, button.prefix)] += 1
        press(self.pins[kiosk], button.pin)
        machine.settled()

    def _desk(self, _rng, number: int) -> None:
        """The advisor's next move: press again while the answer is missing, call when free, otherwise let the
        citizen rate (if the pad invites it) or close the turn as its fate says."""
        view = self._look(number)
        if view is None:
            return
        if view.kept:
            return  # the light says the desk sends the press itself once the hub is back
        if view.pending:
            # The light says the answer is missing: any button sends the same request again. RECALL, because the
            # answer may come just before the press is read: then it only recalls the citizen being served.
            self._push(number, self.config.desk_pins.recall)
            return
        turn = self._in_sync(number, view)
        if turn is False:
            return  # the desk has not caught up with the hub's answer yet
        if turn is None:
            self._push(number, self.config.desk_pins.next)
            return
        fate = Fate.of(self.seed, turn, self.config.desks[number].transfer_to is not None)
        if fate.rating and turn not in self.rated and view.pad_lit:
            self.rated[turn] = fate.rating
            self._push(number, self.config.desk_pins.rating[fate.rating - 1])
            return
        self.intents[turn] = OUTCOME_OF[fate.action]
        if fate.action == "transfer":   # TRANSFER offers the desk's usual service first; NEXT sends the citizen
            self._push(number, self.config.desk_pins.transfer)
            self._push(number, self.config.desk_pins.next)
        else:
            self._push(number, getattr(self.config.desk_pins, fate.action))

    def _recall(self, _rng, number: int) -> None:
        view = self._look(number)
        if view is not None and not view.pending and self._in_sync(number, view):
            self._push(number, self.config.desk_pins.recall)

    def _look(self, number: int) -> DeskView | None:
        """What the advisor sees, read between two steps of the desk (None while it is down)."""
        leds = [self.pins[number].pin(pin) for pin in self.config.desk_pins.rating_leds]
        return self.machines[f"escritorio-{number}"].between_steps(lambda desk: DeskView(
            desk.pending is not None, desk.serving["turn_id"] if desk.serving else None, desk.offline,
            desk.pending is not None and desk.hub_away, all(led.state for led in leds)))

    def _in_sync(self, number: int, view: DeskView):
        """The turn the desk shows (None: nobody), or False when it is not the hub's latest answer."""
        if view.turn != self.listener.serving(number):
            return False
        if view.turn is not None:
            self.shown.add((number, view.turn))
        return view.turn

    def _push(self, number: int, pin: int) -> None:
        desk = self.machines[f"escritorio-{number}"].unit
        self._note(f"desk {number} pin {pin}: pending {desk.pending and (desk.pending.action, desk.pending.id)}, "
                   f"serving {desk.serving and desk.serving['turn_id']}, hub says {self.listener.serving(number)}")
        press(self.pins[number], pin)
        self.machines[f"escritorio-{number}"].settled()

    # --- faults ------------------------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        self.trace.append(f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {text}")

    def _fault(self, rng, n: int, kind: str, target: str, param: int) -> None:
        self._note(f"fault {n} {kind} {target}")
        machine = self.machines.get(target)
        self.injected[kind] += 1
        self._open[n] = (kind, target, time.monotonic())
        if kind == "broker_down":
            self.broker.stop()
        elif kind == "broker_power_cut":  # what the broker queued for an absent hub and had not saved is gone
            self.broker.kill()
        elif kind == "stall_then_crash":  # the network freezes, a citizen takes a turn, then the power goes
            machine.boot()
            if self.printers[target].paper != "ok":
                self.printers[target].refill()
            machine.cable.stall()
            self._press(rng, target, param / 300)
            machine.crash()
        elif kind.endswith("_crash"):
            machine.boot()  # a machine already down comes back first, then loses power again
            machine.crash()
        elif kind == "hub_power_cut_in_write":
            self.disk.armed.append("power_cut")
        elif kind == "hub_disk_error":
            self.disk.armed.append("io_error")
        elif kind == "hub_power_cut_in_ack":
            self._acks_until_cut = param
        elif kind == "cable_cut":
            machine.unplug()
        elif kind == "paper_out":
            self.printers[target].paper = "out"
        elif kind == "roll_ends":  # a roll put in short, in a kiosk that is up
            machine.boot()
            self.printers[target].refill()
            self.printers[target].end_after(param)
        elif kind == "replay":
            answered = {r["id"] for r in self._records() if r["kind"] == "request"}
            self.fired["copies_replayed"] += self.listener.replay(rng, answered)

    def _repair(self, _rng, n: int) -> None:
        kind, target, since = self._open.pop(n)
        self._note(f"repair {n} {kind} {target}")
        machine = self.machines.get(target)
        if kind in ("broker_down", "broker_power_cut"):
            self.broker.start()
        elif kind == "cable_cut":
            time.sleep(max(0.0, since + self.cut_s - time.monotonic()))  # the scenario's length, not a wait
            machine.replug()
        elif kind in ("paper_out", "roll_ends"):
            self.printers[target].refill()
        elif kind == "stall_then_crash":
            machine.cable.flow()
            machine.boot()
        else:  # a crash, or a hub that died of its trap (the trap stays armed until it fires)
            machine.boot()

    def _supervise(self) -> None:
        """systemd's Restart=always: a role that died comes back, unless its outage is still being played."""
        down = {target for kind, target, _ in self._open.values() if kind.startswith("hub_")}
        for name, machine in self.machines.items():
            if machine.died is not None and name not in down:
                machine.boot()

    def _repair_everything(self) -> None:
        for n in list(self._open):
            self._repair(None, n)
        self.broker.start()

    def _settle(self) -> None:
        """Everything is back: waits, as a supervisor restarting what dies and advisors pressing again when
        their light says the answer is missing, until every fact is stored and every outbox is empty; then one
        more ticket per kiosk must come through after them."""
        try:
            self._until(self._caught_up, "every fact stored, every desk answered, every outbox empty")
            for kiosk in KIOSKS:
                self._press(None, kiosk, 0.0)
            self._until(self._caught_up, "a last ticket from each kiosk after everything else")
        except AssertionError as exc:
            self.violations.append(f"did not settle: {exc}")

    def _until(self, done, what: str) -> None:
        deadline = time.monotonic() + self.settle_s
        while not done():
            self._supervise()
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {self.settle_s} s waiting for {what}")
            time.sleep(0.05)

    def _caught_up(self) -> bool:
        now = time.monotonic()
        for number in DESKS:
            machine = self.machines[f"escritorio-{number}"]
            if not machine.running:
                return False
            view = self._look(number)
            if view is None:
                return False
            turn = self._in_sync(number, view)
            again = self._pressed_again.get(number, 0.0) + 2.0 < now
            if view.pending or turn is False:
                if view.pending and view.offline and again:
                    self._pressed_again[number] = now
                    self._push(number, self.config.desk_pins.recall)
                return False
            if turn in self.intents:  # the closing press was lost with a desk that lost power: pressed again
                self._pressed_again[number] = now
                self._push(number, getattr(self.config.desk_pins, ACTION_FOR[self.intents[turn]]))
                return False
        if any(self._outbox(name) for name in (*KIOSKS, *(f"escritorio-{d}" for d in DESKS))):
            return False
        records = self._records()
        numbers = Counter((r["kiosk"], r["number"].split("-")[0]) for r in records if r["kind"] in ("ticket", "void"))
        rated = {r["turn_id"] for r in records if r["kind"] == "rating"}
        closed = {r["turn_id"] for r in records if r["kind"] == "close"}
        return (all(numbers[key] >= n for key, n in self.presses_with_paper.items())
                and rated >= set(self.rated) and closed >= set(self.intents))

    def _outbox(self, name: str) -> list[Path]:
        return sorted((self.state / name / "outbox").glob("*.*"))

    def _records(self) -> list[dict]:
        store = DayStore(self.state / "hub" / "days")
        days = store.days()
        return list(store.between(date.fromisoformat(days[0]), date.fromisoformat(days[-1]))) if days else []

    # --- the checks --------------------------------------------------------------------------------------

    def _check(self) -> None:
        """What users saw against what the hub recorded: each number once, each printed ticket once with the
        outcome its advisor gave it, each rating once, no turn called twice, every outbox empty."""
        records, bad = self._records(), self.violations.append
        for record_id, n in Counter(r["id"] for r in records).items():
            if n > 1:
                bad(f"record {record_id} stored {n} times")
        for record_id in sorted(self.disk.interrupted):
            n = sum(r["id"] == record_id for r in records)
            if n != 1:
                bad(f"{record_id}, in a write the power cut interrupted, is stored {n} times after the restart")
        store = DayStore(self.state / "hub" / "days")
        days = store.days()
        names = self.config.service_names()
        table = {row["turn_id"]: row for row in rows(store, date.fromisoformat(days[0]),
                                                     date.fromisoformat(days[-1]), names)} if days else {}
        self._check_numbers(records, table)
        self._check_desks(records, table)
        for name in (*KIOSKS, *(f"escritorio-{d}" for d in DESKS)):
            if self._outbox(name):
                bad(f"{name}'s outbox still holds {[p.name for p in self._outbox(name)]}")
        for hub in self.machines["hub"].units:
            if sum(hub.rejected.values()):
                bad(f"the hub refused messages: {dict(hub.rejected)}")
        for machine in self.machines.values():
            for death in machine.deaths:
                if not isinstance(death, (PowerCut, FailingCard)):
                    bad(f"{machine.name} died of {death!r}, which no fault caused")
        call_ids = {r["id"] for r in records if r["kind"] == "call"}
        announced = [c.id for unit in self.machines[DISPLAY].units for c in unit.announced]
        for call_id, n in Counter(announced).items():
            if n > 1 or call_id not in call_ids:
                known = "a" if call_id in call_ids else "no"
                bad(f"the display announced call {call_id} {n} times ({known} such call in the hub's records)")

    def _check_numbers(self, records: list[dict], table: dict[str, dict]) -> None:
        bad = self.violations.append
        issued = [r for r in records if r["kind"] in ("ticket", "void")]
        for turn_id, n in Counter(r["turn_id"] for r in issued).items():
            if n > 1:
                bad(f"turn {turn_id} recorded {n} times")
        for kiosk in KIOSKS:
            printed = Counter(t.number for unit in self.machines[kiosk].units for t in unit.issued)
            bad_twice = [number for number, n in printed.items() if n > 1]
            if bad_twice:
                bad(f"{kiosk} printed {bad_twice} more than once")
            for prefix in sorted({b.prefix for b in self.config.kiosks[kiosk].buttons}):
                stored = sorted(int(r["number"].split("-")[1]) for r in issued
                                if r["kiosk"] == kiosk and r["number"].split("-")[0] == prefix)
                expected = self.presses_with_paper[(kiosk, prefix)]
                if stored != list(range(1, expected + 1)):
                    bad(f"{kiosk} series {prefix}: numbers stored {stored}, but {expected} presses found paper")
            for record in (r for r in issued if r["kiosk"] == kiosk):
                outcome = table[record["turn_id"]]["outcome"]
                if (outcome == "void") == (record["number"] in printed):
                    bad(f"{record['number']} of {kiosk} is {outcome!r} though it was "
                        f"{'printed' if record['number'] in printed else 'never printed'}")
        voids = sum(row["outcome"] == "void" for row in table.values())
        torn = sum(p.torn_before_number() for p in self.printers.values())
        if voids != torn:
            bad(f"{voids} void turns, but {torn} tickets were cut short by the end of a roll before their number")

    def _check_desks(self, records: list[dict], table: dict[str, dict]) -> None:
        bad = self.violations.append
        calls = [r for r in records if r["kind"] == "call" and not r["recall"]]
        called_to = {}
        for call in calls:
            if call["turn_id"] in called_to:
                bad(f"turn {call['turn_id']} called to desk {called_to[call['turn_id']]} and again to {call['desk']}")
            called_to[call["turn_id"]] = call["desk"]
        for desk, turn in sorted(self.shown):
            if called_to.get(turn) != desk:
                bad(f"desk {desk} showed {turn}, which the hub called to {called_to.get(turn)}")
        for turn_id, row in table.items():
            wanted = self.intents.get(turn_id)
            if wanted and row["outcome"] != wanted:
                bad(f"{turn_id} is {row['outcome']!r}; its advisor pressed for {wanted!r}")
            if not wanted and row["outcome"] not in ("waiting", "in_service", "void"):
                bad(f"{turn_id} is {row['outcome']!r}, though no advisor closed it")
            if row["outcome"] == "transferred" and f"{turn_id}>V" not in table:
                bad(f"{turn_id} was transferred but is in no other queue")
            if str(self.rated.get(turn_id, "")) != str(row["rating"]):
                bad(f"{turn_id} has rating {row['rating']!r} in the export; its citizen pressed "
                    f"{self.rated.get(turn_id)}")
        for turn_id, n in Counter(r["turn_id"] for r in records if r["kind"] == "rating").items():
            if n > 1:
                bad(f"{n} ratings stored for {turn_id}")
        for turn_id, n in Counter(r["turn_id"] for r in records if r["kind"] == "transfer").items():
            if n > 1:
                bad(f"{turn_id} transferred {n} times")

    def summary(self) -> dict:
        records = self._records()
        kinds = Counter(r["kind"] for r in records)
        return {"seed": self.seed, "actions": len(self.actions), "printed": sum(
                    len(u.issued) for k in KIOSKS for u in self.machines[k].units),
                "void": kinds["void"], "calls": kinds["call"], "ratings": kinds["rating"],
                "transfers": kinds["transfer"], "closed_as_pressed": len(self.intents),
                "announced": sum(len(u.announced) for u in self.machines[DISPLAY].units),
                "interrupted_facts": len(self.disk.interrupted), "injected": dict(self.injected),
                "fired": dict(self.fired + self.disk.fired), "violations": len(self.violations)}
