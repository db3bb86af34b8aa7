"""Where each of the day's turns stands, as the citizen's "Mi turno" page shows it, published by the hub retained
per shard of the tickets' public codes (appliance/contract/positions.py).

The hub knows the order best: each service's waiting turns are counted in the order its policy would call them
(hub.policy.queue_order), preferential turns and aging included, and the estimate is the board's own pace. A
transferred turn keeps its ticket's code and shows its new queue. The cost is the hub's alone, at most once a
second after a batch that changed the board (hub.service), whatever the number of phones that follow: they read
the broker's retained copies through the page's own process, never the hub. A shard is published again only
when what it holds changed.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from appliance import contract
from appliance.core.public_code import SecretError, public_code, read_secret
from appliance.records.ledger import CALLED, CLOSED, WAITING, Ledger, Turn
from appliance.site import SiteConfig
from hub.policy import queue_order

log = logging.getLogger(__name__)
POSITIONS_EVERY_S = 1.0    # at most this often: the page refreshes every 5 s, and desks' answers come first
ENDINGS = {"attended": "attended", "no_show": "no_show", "unattended": "closed"}   # a closed turn's page


class PositionsPublisher:
    """Publishes the positions through `retained` (hub.retained.RetainedPublisher); nothing at all when the site
    has no page or the hub has no secret (it says so once: the hub's own work goes on)."""

    def __init__(self, config: SiteConfig, retained):
        self.config, self.retained = config, retained
        self._secret = self._read_secret()
        self._codes: dict[str, str] = {}                  # ticket turn id -> its code (an HMAC each, kept)
        self._sent: dict[str, tuple] = {}                 # shard -> (day, positions) last published

    def _read_secret(self) -> bytes | None:
        if self.config.public is None:
            return None
        try:
            return read_secret(self.config.public.secret_file)
        except SecretError as exc:
            log.error("%s; the \"Mi turno\" page shows no turn until it is there", exc)
            return None

    def forget(self) -> None:
        """Every shard goes out again at the next publish: after a reconnection, or a new day."""
        self._sent.clear()
        self._codes.clear()

    def publish(self, ledger: Ledger, board: contract.Board, day: str, now: datetime, envelope) -> None:
        """`envelope()`: a fresh id, time and source for each message."""
        if self._secret is None:
            return
        shards = self.shards(ledger, board, now)
        for shard in contract.SHARDS:
            held = tuple(shards.get(shard, ()))
            if self._sent.get(shard) == (day, held):
                continue
            self.retained.publish(contract.positions_topic(shard), contract.Positions(
                **envelope(), name=self.config.name, day=day, shard=shard, positions=list(held)))
            self._sent[shard] = (day, held)

    def shards(self, ledger: Ledger, board: contract.Board, now: datetime) -> dict[str, list[dict]]:
        """Each shard's positions: its turns still waiting or called first, then as many of those that ended as
        fit (the latest issued): a shard never outgrows contract.MAX_POSITIONS."""
        latest: dict[str, Turn] = {}          # a ticket's code -> the last turn of its chain (a transfer's new one)
        for turn in ledger.turns.values():
            if not turn.manual and turn.outcome != "void":
                latest[self._code(turn.turn_id)] = turn
        ahead = self._ahead(ledger, now)
        waiting = {w.service: w for w in board.waiting}
        open_turns, ended = defaultdict(list), defaultdict(list)
        for code, turn in latest.items():
            position = self._position(code, turn, ahead, waiting)
            if position is not None:
                (ended if position["state"] in ENDINGS.values() else open_turns)[code[0]].append(position)
        held = {}
        for shard in {*open_turns, *ended}:
            room = max(0, contract.MAX_POSITIONS - len(open_turns[shard]))
            held[shard] = (open_turns[shard] + (ended[shard][-room:] if room else []))[:contract.MAX_POSITIONS]
        return held

    def _ahead(self, ledger: Ledger, now: datetime) -> dict[str, int]:
        """Each waiting turn's people ahead in its service's queue."""
        by_service = defaultdict(list)
        for turn in ledger.waiting():
            by_service[turn.service].append(turn)
        return {turn.turn_id: index for turns in by_service.values()
                for index, turn in enumerate(queue_order(turns, policy=self.config.queue, now=now))}

    def _position(self, code: str, turn: Turn, ahead: dict[str, int], waiting: dict) -> dict | None:
        """A contract.Position's fields, the unset ones left out: built for thousands of turns at every change,
        and sent as they are (Positions.body)."""
        position = {"public_code": code, "number": turn.number, "service_name": self.config.services[turn.service].name}
        if turn.status == WAITING:
            people = ahead[turn.turn_id]
            minutes = waiting[turn.service].estimated_minutes(people) if turn.service in waiting else None
            position.update(state="waiting", ahead=people, **({} if minutes is None else {"minutes": minutes}))
        elif turn.status == CALLED:
            position.update(state="called", desk_name=self.config.desks[turn.desk].name)
        elif turn.status == CLOSED and turn.outcome in ENDINGS:
            position.update(state=ENDINGS[turn.outcome])
        else:
            return None     # closed as transferred: the chain's newer turn stands for it
        return position

    def _code(self, turn_id: str) -> str:
        ticket = contract.TICKET_TURN.match(turn_id).group(0)
        if ticket not in self._codes:
            self._codes[ticket] = public_code(self._secret, ticket)
        return self._codes[ticket]
