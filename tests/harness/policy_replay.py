"""The queue policy replayed from the hub's records: every call checked against the policy as hub/policy.py and
the README state it, written again from that text (it does not call the hub's code). A desk gets a turn only
while it is open: a paused or closed one (or one nobody opened today) gets none, and its PAUSE calls nobody."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from appliance.site import QueuePolicy, SiteConfig


@dataclasses.dataclass
class _Queued:
    turn_id: str
    service: str
    preferential: bool
    since: datetime
    promised: datetime | None = None   # a checked-in appointment's time (None: a walk-in, or checked in late)


def acceptable(waiting: list[_Queued], services: tuple[str, ...], policy: QueuePolicy, streak: int,
               now: datetime) -> set[str]:
    """The turns the policy allows a desk to get now (several only when they tie on time)."""
    mine = [q for q in waiting if q.service in services]

    def first_come(group):
        oldest = min(q.since for q in group)
        return {q.turn_id for q in group if q.since == oldest}

    if not mine:
        return set()
    appointments = [q for q in mine if q.promised is not None]
    due = [q for q in appointments if q.promised <= now]
    if due or (appointments and len(appointments) == len(mine)):   # due first; not yet due only if alone
        earliest = min(q.promised for q in due or appointments)
        return first_come([q for q in due or appointments if q.promised == earliest])
    mine = [q for q in mine if q.promised is None]
    if policy.max_wait_min:
        overdue = [q for q in mine if now - q.since >= timedelta(minutes=policy.max_wait_min)]
        if overdue:
            return first_come(overdue)
    preferential = [q for q in mine if q.preferential]
    normal = [q for q in mine if not q.preferential]
    if policy.kind == "ratio" and streak >= policy.ratio and normal:
        return first_come(normal)
    return first_come(preferential or normal)


def policy_problems(records: list[dict], config: SiteConfig) -> tuple[list[str], dict]:
    """Replays a day's records in order; returns what broke the policy or called a turn twice, and counts of
    the rules that decided the calls (to show that each was exercised)."""
    answered = {r["request_id"] for r in records if r["kind"] == "call" and not r["recall"]}
    waiting: dict[str, _Queued] = {}
    turns: dict[str, _Queued] = {}
    called_at: dict[str, int] = {}
    streak: dict[int, int] = {}
    status: dict[int, str] = {}           # desk -> open, paused, closed (none yet: closed)
    actions: dict[str, str] = {}          # request id -> its action
    problems, rules = [], {"appointment": 0, "aging": 0, "ratio": 0, "preferential": 0, "normal": 0, "nothing": 0,
                           "breaks": 0}
    for r in records:
        kind = r["kind"]
        if kind == "ticket":
            turns[r["turn_id"]] = waiting[r["turn_id"]] = _Queued(
                r["turn_id"], r["service"], r["preferential"], datetime.fromisoformat(r["at"]))
        elif kind == "checkin":
            turns[r["turn_id"]] = waiting[r["turn_id"]] = _Queued(
                r["turn_id"], r["service"], False, datetime.fromisoformat(r["at"]),
                None if r["late"] else datetime.fromisoformat(r["slot"]))
        elif kind == "transfer":
            origin = turns[r["from_turn"]]
            turns[r["turn_id"]] = waiting[r["turn_id"]] = _Queued(
                r["turn_id"], r["service"], origin.preferential, datetime.fromisoformat(r["queued_at"]))
        elif kind == "close":
            waiting.pop(r["turn_id"], None)
        elif kind == "desk":
            status[r["desk"]] = r["status"]
            rules["breaks"] += r["status"] == "paused"
        elif kind == "request":
            actions[r["id"]] = r["action"]
        if kind == "request" and r["action"] == "next" and r["id"] not in answered:
            desk = config.desks[r["desk"]]
            if any(q.service in desk.services for q in waiting.values()):
                problems.append(f"NEXT {r['id']} at desk {r['desk']} called nobody while a turn of its services "
                                "waited")
            rules["nothing"] += 1
        elif kind == "call" and r["recall"]:
            if called_at.get(r["turn_id"]) != r["desk"]:
                problems.append(f"desk {r['desk']} recalled {r['turn_id']}, which it was not serving")
        elif kind == "call":
            desk, turn = r["desk"], r["turn_id"]
            if status.get(desk, "closed") != "open":
                problems.append(f"desk {desk} got {turn} while {status.get(desk, 'closed')}")
            if actions.get(r["request_id"]) in ("pause", "close"):
                problems.append(f"desk {desk}'s {actions[r['request_id']]} called {turn}")
            if turn in called_at:
                problems.append(f"{turn} called to desk {desk} after desk {called_at[turn]}")
            now = datetime.fromisoformat(r["at"])
            allowed = acceptable(list(waiting.values()), config.desks[desk].services, config.queue,
                                 streak.get(desk, 0), now)
            if turn not in allowed:
                problems.append(f"desk {desk} got {turn} at {r['at']}; the policy allows {sorted(allowed)}")
            queued = waiting.pop(turn, None) or turns[turn]
            limit = config.queue.max_wait_min
            rules["appointment" if queued.promised is not None else
                  "aging" if limit and now - queued.since >= timedelta(minutes=limit) else
                  "ratio" if not queued.preferential and any(q.preferential and q.service in config.desks[desk].services
                                                             for q in waiting.values()) else
                  "preferential" if queued.preferential else "normal"] += 1
            called_at[turn] = desk
            streak[desk] = streak.get(desk, 0) + 1 if queued.preferential else 0
    return problems, rules
