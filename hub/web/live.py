"""The live view: queues, desks, devices and alarms as the page shows them, from the page's own MQTT connection
(device "hub-web": the retained board, desk states, device and printer statuses, heartbeats) and today's journal,
followed as the hub appends to it. It never touches the hub loop's objects: the two share no state and no lock."""
from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime, timedelta

import paho.mqtt.client as mqtt

from appliance import contract
from appliance.core.link import Connected, Disconnected, Link
from appliance.core.spanish import clock, plural, short_date
from appliance.core.steps import refusing
from appliance.records.journal import DayStore, Follower
from appliance.records.ledger import Ledger, fold
from appliance.site import SiteConfig
from appliance.web.devices import MAX_SKEW_S, PRINTER_NAMES
from hub.day import recorded_day
from hub.shipper import DEVICE as SHIPPER
from hub.web.picture import PicturePublisher

log = logging.getLogger(__name__)
SETTLE_S = 3.0                      # after connecting, retained statuses have arrived by then
KEPT_ANSWERS = 1000                 # the hub's answers to the page's latest orders, for the page that gave them
_TONES = {"ok": "ok", "low": "warn", "out": "bad", "offline": "bad", "unknown": "warn"}
_PRINTER = {state: (PRINTER_NAMES[state], tone) for state, tone in _TONES.items()}


def _named(device: str, role: str) -> str:
    """'kiosco-1 (dispensador de turnos)'."""
    return f"{device} ({role[0].lower()}{role[1:]})"


def _duration(seconds: float) -> str:
    """'5 min', '3 h 20 min', '12 días': how far off a clock is, read at a glance."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{round(minutes / (24 * 60))} días"


class LiveView:
    """The coordinators' picture of the site, recomputed by the web's own thread from the retained state it
    receives and today's day file; HTTP threads only read the finished snapshot."""

    def __init__(self, config: SiteConfig, store: DayStore, link: Link, now):
        self.config, self.store, self.link, self.now = config, store, link, now
        self.board: contract.Board | None = None
        self.desks: dict[int, contract.DeskState] = {}
        self.status: dict[str, str] = {}
        self.printers: dict[str, contract.PrinterStatus] = {}
        self.connected_at: float | None = None
        self._follower: Follower | None = None
        self._ledger = Ledger()
        self._published: list | None = None
        self._lock = threading.Lock()
        self._snapshot: dict = {}
        self._answered = threading.Condition(self._lock)
        self._answers: dict[str, dict] = {}   # command id -> the hub's record of it, as the journal has it
        self.skews: dict[str, float] = {}   # device -> seconds its clock is ahead of this one (negative: behind)
        self.heard: dict[str, str] = {}     # device -> when its last heartbeat came, on this clock
        self.versions: dict[str, tuple[str | None, str | None]] = {}   # device -> (software, site file)
        self.picture = PicturePublisher(link, config.name) if config.central else None
        self.problems: dict[str, str] = {}  # device -> what it says keeps it from working (its heartbeat)
        self.rejected = contract.Refusals()

    def snapshot(self) -> dict:
        with self._lock:
            return self._snapshot

    def answers(self) -> list[dict]:
        """The hub's records of the page's orders it has seen, oldest first."""
        with self._lock:
            return list(self._answers.values())

    def answer(self, command_id: str, timeout: float = 0.0) -> dict | None:
        """The hub's record of an order (with `refused` when it did nothing), once the journal has it; waits up
        to `timeout` seconds for it."""
        with self._answered:
            self._answered.wait_for(lambda: command_id in self._answers, timeout)
            return self._answers.get(command_id)

    def take(self, item) -> None:
        if isinstance(item, Connected):
            self.connected_at, self._published = time.monotonic(), None
        elif isinstance(item, Disconnected):
            self.connected_at = None
        elif isinstance(item, mqtt.MQTTMessage):   # one message must not freeze the page
            refusing(self.rejected, self.link.device, self._message, item)

    def _message(self, message: mqtt.MQTTMessage) -> None:
        if message.topic.startswith(contract.heartbeat_topic("")):
            self._heartbeat(message)
            return
        topic, payload = message.topic, message.payload
        parts = topic.split("/")
        if topic == contract.BOARD_TOPIC:
            self.board = contract.expect(payload, contract.Board)
        elif parts[2] == "desk" and parts[-1] == "state" and parts[3].isdigit():
            self.desks[int(parts[3])] = contract.expect(payload, contract.DeskState)
        elif parts[2] == "kiosk" and parts[-1] == "printer":
            self.printers[parts[3]] = contract.expect(payload, contract.PrinterStatus)
        elif parts[2] == "status":
            if payload:
                self.status[parts[3]] = payload.decode(errors="replace")
            else:   # a cleared retained status: the device is gone
                self.status.pop(parts[3], None)

    def _heartbeat(self, message: mqtt.MQTTMessage) -> None:
        """Compares a device's clock with this one's at the moment paho received the heartbeat (the inbox may
        have held it a while)."""
        device = message.topic.removeprefix(contract.heartbeat_topic(""))
        beat = contract.expect(message.payload, contract.Heartbeat)
        if beat.source != device:
            raise contract.ContractError(f"heartbeat from {beat.source!r} on the topic of {device!r}")
        if message.retain:   # kept by the broker since some earlier moment: says nothing about the clock now
            return
        if beat.problem:
            self.problems[device] = beat.problem
        else:
            self.problems.pop(device, None)
        received = self.now() - timedelta(seconds=time.monotonic() - message.timestamp)
        self.heard[device] = received.isoformat(timespec="seconds")
        self.versions[device] = (beat.software, beat.site_file)
        skew = (datetime.fromisoformat(beat.at) - received).total_seconds()
        off, was_off = abs(skew) > MAX_SKEW_S, abs(self.skews.get(device, 0.0)) > MAX_SKEW_S
        self.skews[device] = skew
        if off and not was_off:
            log.warning("hub-web: the clock of %s is %.0f s %s the hub's; check its time sync (chronyc sources on "
                        "it, chronyc clients on the hub)", device, abs(skew), "ahead of" if skew > 0 else "behind")
        elif was_off and not off:
            log.info("hub-web: the clock of %s is back within %d s of the hub's", device, MAX_SKEW_S)

    def refresh(self) -> None:
        now = self.now()
        clock_day = now.date().isoformat()
        day = date.fromisoformat(recorded_day(clock_day, self.store.served_days(clock_day)))   # as the hub does
        ledger = self._today(day)
        alarms = (self._wait_alarms(ledger, now) + self._device_alarms() + self._impossible_alarms(ledger)
                  + self._clock_alarms(now, day))
        view = {
            "connected": self.link.connected, "updated": now.strftime("%H:%M:%S"),
            "target_min": self.config.web.wait_target_min, "alarms": alarms, "queues": self._queues(ledger, now),
            "desks": self._desks(ledger, now), "devices": self._devices(ledger), "calls": self._calls()}
        with self._lock:
            self._snapshot = view
        if self.picture is not None:
            self.picture.offer(view, self.board.calls if self.board else [], now)
        if self.link.connected and alarms != self._published:
            message = contract.Alarms(id=contract.new_id(), at=now.isoformat(timespec="milliseconds"),
                                      source=self.link.device, alarms=alarms)
            self.link.publish(contract.ALARMS_TOPIC, message.to_json(), retain=True)
            self._published = alarms

    def _today(self, day: date) -> Ledger:
        """Today's fold, kept up to date with only the records appended since the last refresh; started again
        from the day's beginning for a new day."""
        if self._follower is None or self._follower.day != day.isoformat():
            self._follower = Follower(self.store, day.isoformat())
            with self._answered:   # "today's orders" are the new day's
                self._answers.clear()
        again, records = self._follower.poll()
        self._ledger = fold(records, None if again else self._ledger)
        answers = [r for r in records if r.get("kind") == "command"]
        if answers:
            with self._answered:
                self._answers.update((r["id"], r) for r in answers)
                for old in list(self._answers)[:max(0, len(self._answers) - KEPT_ANSWERS)]:
                    del self._answers[old]
                self._answered.notify_all()
        return self._ledger

    def _waits(self, ledger: Ledger, now: datetime) -> dict[str, list[float]]:
        """Minutes waited so far by every waiting turn, per service."""
        waits: dict[str, list[float]] = {}
        for turn in ledger.waiting():
            minutes = (now - datetime.fromisoformat(turn.issued_at)).total_seconds() / 60
            waits.setdefault(turn.service, []).append(minutes)
        return waits

    def _wait_alarms(self, ledger: Ledger, now: datetime) -> list[dict]:
        target, alarms = self.config.web.wait_target_min, []
        for letter, waits in self._waits(ledger, now).items():
            late = sum(w > target for w in waits)
            if late:
                name = self.config.services[letter].name if letter in self.config.services else letter
                verb = plural(late, "turno espera", "turnos esperan")
                alarms.append({"kind": "wait", "subject": letter,
                               "text": f"{name}: {late} {verb} más de {target} min."})
        return alarms

    def _device_list(self) -> list[tuple[str, str]]:
        """(device, what it is): the configured ones in order, then any other that reports its status."""
        config = self.config
        known = [("hub", "Servidor central"), *((k, "Dispensador de turnos") for k in config.kiosks),
                 *((contract.desk_device(n), f"Unidad del {d.name}") for n, d in sorted(config.desks.items())),
                 *((d, "Pantalla de turnos") for d in config.displays),
                 *(((SHIPPER, "Envío del registro a la central"),) if config.central else ())]
        names = {device for device, _ in known} | {self.link.device}
        return known + [(device, "Otro equipo") for device in sorted(self.status) if device not in names]

    def _state(self, device: str) -> str:
        state = self.status.get(device)
        return state if state in (contract.ONLINE, contract.OFFLINE) else "unknown"

    def _device_alarms(self) -> list[dict]:
        # Retained statuses arrive just after connecting: a device without one is judged only after that.
        settled = self.connected_at is not None and time.monotonic() - self.connected_at > SETTLE_S
        alarms = []
        for device, role in self._device_list():
            state, what = self._state(device), _named(device, role)
            if state == contract.OFFLINE:
                alarms.append({"kind": "device", "subject": device, "text": f"Sin conexión: {what}."})
            elif state == "unknown" and settled:
                alarms.append({"kind": "device", "subject": device, "text": f"Sin reporte de estado: {what}."})
            if device in self.problems and state == contract.ONLINE:
                alarms.append({"kind": "device", "subject": device, "text": (
                    f"El equipo {_named(device, role)} no logra enviar su estado a los demás equipos; revise su "
                    "registro (journalctl).")})
            printer = self.printers.get(device)
            if printer is not None and printer.state in ("out", "offline"):
                alarms.append({"kind": "device", "subject": device,
                               "text": f"Impresora {_PRINTER[printer.state][0].lower()}: {what}."})
        return alarms

    def _impossible_alarms(self, ledger: Ledger) -> list[dict]:
        """A kiosk's credential sending more tickets than its buttons can give (hub/pace.py): refused by the hub,
        and a technician must find who has that credential."""
        kiosks = dict(self._device_list())
        return [{"kind": "device", "subject": kiosk, "text": (
            f"{_named(kiosk, kiosks.get(kiosk, 'Dispensador de turnos'))}: el servidor rechazó hoy {count} "
            f"{plural(count, 'tiquete', 'tiquetes')} que sus botones no pueden dar y no {plural(count, 'lo', 'los')} "
            "puso en la fila. Alguien puede estar usando la clave de ese equipo: avise al técnico.")}
            for kiosk, count in sorted(ledger.impossible.items())]

    def _clock_alarms(self, now: datetime, day: date) -> list[dict]:
        alarms = []
        if day > now.date():
            alarms.append({"kind": "clock", "subject": "hub", "text": (
                f"El reloj del servidor central marca el {short_date(now.date())}, pero ya hay registros del "
                f"{short_date(day)}: el sistema sigue en ese día. Revise la hora del servidor.")})
        for device, role in self._device_list():
            skew = self.skews.get(device)   # a device that is not online is judged again by its next heartbeat
            if skew is not None and abs(skew) > MAX_SKEW_S and self._state(device) == contract.ONLINE:
                alarms.append({"kind": "clock", "subject": device, "text": (
                    f"El reloj de {_named(device, role)} está {'adelantado' if skew > 0 else 'atrasado'} "
                    f"{_duration(abs(skew))}; revise la sincronización de hora.")})
        return alarms

    def _queues(self, ledger: Ledger, now: datetime) -> list[dict]:
        if self.board is None:
            return []
        waits, target = self._waits(ledger, now), self.config.web.wait_target_min
        result = []
        for line in self.board.waiting:
            longest = max(waits.get(line.service, []), default=None)
            result.append({"service": line.service, "name": line.service_name, "normal": line.normal,
                           "preferential": line.preferential, "pace": line.minutes_per_turn,
                           "longest_min": None if longest is None else int(longest),
                           "over": longest is not None and longest > target})
        return result

    def _desks(self, ledger: Ledger, now: datetime) -> list[dict]:
        result = []
        for number, desk in sorted(self.config.desks.items()):
            state = self.desks.get(number)
            serving = state.serving if state else None
            entry = {"desk": number, "name": desk.name, "status": (state.status or "open") if state else None,
                     "advisor": state.advisor if state and state.advisor else ledger.advisors.get(number, desk.advisor),
                     "number": None, "service": None, "preferential": False, "minutes": None, "overdue": False}
            if serving:
                since = now - datetime.fromisoformat(serving["called_at"])
                entry.update(number=serving["number"], service=serving["service_name"],
                             preferential=serving["preferential"], overdue=state.overdue,
                             minutes=int(since.total_seconds() // 60))
            result.append(entry)
        return result

    def _devices(self, ledger: Ledger) -> list[dict]:
        result = []
        for device, role in self._device_list():
            text, tone = _PRINTER[self.printers[device].state] if device in self.printers else (None, None)
            skew = self.skews.get(device)
            result.append({"id": device, "role": role, "state": self._state(device), "printer": text,
                           "printer_tone": tone, "refused": ledger.impossible.get(device, 0),
                           "printer_state": self.printers[device].state if device in self.printers else None,
                           "heard_at": self.heard.get(device), "skew_s": None if skew is None else round(skew),
                           "versions": self.versions.get(device, (None, None))})
        return result

    def _calls(self) -> list[dict]:
        if self.board is None:
            return []
        zone = self.config.timezone
        return [{"id": call.id, "number": call.number, "desk": call.desk_name, "service": call.service_name,
                 "recall": call.recall, "at": clock(datetime.fromisoformat(call.at).astimezone(zone))}
                for call in self.board.calls]
