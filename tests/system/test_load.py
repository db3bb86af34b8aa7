"""Load: a busy day in fast-forward and an opening burst, against a real Mosquitto, the real hub and three real
displays (tests/harness/busy_day.py drives them). Nothing is lost or duplicated, every call follows the queue policy,
every display announces every call once and in order, and the hub's and a display's memory do not grow from
one day to the next. The timed, longer version is bench/bench_load.py."""
import collections
import gc
import logging
import sys
import types
from datetime import date, datetime, timedelta

import pytest

from appliance import site as site_config
from appliance.site import QueuePolicy
from hub.export import rows
from tests.harness.busy_day import BusySite, busy_config, opening_burst, roll_over, run_day
from tests.harness.policy_replay import policy_problems
from tests.harness.roles import wait_until

DAY = date(2026, 11, 24)
TURNS = 250   # a day of 2,000 is bench/bench_load.py's: the durable write grows with the day (see the report)
OUTCOMES = {"attended", "no_show", "transferred", "unattended"}


def site_for(broker, tmp_path, policy: QueuePolicy) -> BusySite:
    config = busy_config(site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file), policy)
    return BusySite(config, tmp_path, datetime(DAY.year, DAY.month, DAY.day, 7, 0, tzinfo=config.timezone))


def check_day(site: BusySite, day: date, said_before: dict[str, int]) -> dict:
    """Everything a coordinator and the waiting room would notice about one finished day; returns the counts of
    the rules that decided its calls. `said_before`: how many announcements each display had made before."""
    wait_until(site.hub_has_everything, what="every ticket and rating at the hub")
    wait_until(site.displays_follow, what="the displays to show the hub's board")
    records = site.hub.store.day(day.isoformat())
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "a record was written twice"
    tickets = [r["turn_id"] for r in records if r["kind"] == "ticket"]
    assert len(tickets) == len(set(tickets)) == site.issued_on[day]

    problems, rules = policy_problems(records, site.config)
    assert problems == []

    expected = site.expected_announcements(records)
    for display, spoken in site.spoken.items():
        assert spoken.said[said_before[display]:] == expected, f"{display} did not announce each call once, in order"
    return rules


def close_day(site: BusySite, day: date) -> None:
    """The next morning: every turn of the day has its outcome in the export."""
    roll_over(site, day + timedelta(days=1))
    names = site.config.service_names()
    table = list(rows(site.hub.store, day, day, names))
    transfers = sum(r["kind"] == "transfer" for r in site.hub.store.day(day.isoformat()))
    assert len(table) == site.issued_on[day] + transfers
    assert collections.Counter(r["outcome"] for r in table).keys() <= OUTCOMES


# The program, which every role shares, rather than what a role keeps; a logger leads to the handlers of the
# whole process (pytest's keep every record).
PROGRAM = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodDescriptorType,
           types.CodeType, types.FrameType, types.TracebackType, logging.Logger, logging.Handler)


def kept_kb(role) -> float:
    """What a role keeps, in KB: every object reachable from it, short of the program. Whatever else this
    process holds (other tests, pytest, the interpreter's caches) does not count."""
    gc.collect()
    seen, todo = {}, [role]
    while todo:
        thing = todo.pop()
        if id(thing) not in seen and not isinstance(thing, PROGRAM):
            seen[id(thing)] = thing   # kept alive, so that no id is reused while counting
            todo += gc.get_referents(thing)
    return sum(map(sys.getsizeof, seen.values())) / 1024


def test_a_busy_day_then_a_comparable_one_keep_every_turn_the_policy_and_a_flat_memory(broker, tmp_path):
    """Two mornings of 250 turns each at 20 desks (a day of 2,000 is bench/bench_load.py's), the citizens
    arriving from 8:00 to 9:00 so that queues build; ratio 1, and aging at 5 minutes. Each rule of the policy
    then decides tens of calls, however the roles' threads happen to interleave (with arrivals until 11:00 and
    ratio 2, aging decided one call or none).
    Memory: today's ledger and today's records grow with the day by design; what must not grow is what is
    left when a day is over, so the second rollover must find the hub and the displays as the first left them."""
    with site_for(broker, tmp_path, QueuePolicy("ratio", ratio=1, max_wait_min=5)) as site:
        roles = {"hub": site.hub, **site.displays}
        rules = collections.Counter()
        kept = []
        for n, day in enumerate((DAY, DAY + timedelta(days=1))):
            run_day(site, day, TURNS, seed=n + 1, last=(9, 0))
            rules.update(check_day(site, day, {d: 0 for d in site.spoken}))
            close_day(site, day)
            wait_until(site.displays_follow, what="the displays to show the new day's empty board")
            for spoken in site.spoken.values():   # the speakers' logs are this test's, not the displays' memory
                spoken.said.clear()
            kept.append({name: kept_kb(role) for name, role in roles.items()})
        # Each rule of the policy decided some calls: the check above was not vacuous.
        assert all(rules[rule] for rule in ("aging", "ratio", "preferential", "normal", "breaks")), rules
        # While a morning of 250 turns runs, the hub keeps ~450 KB more (its ledger and records); a display keeps
        # its latest 200 announcements and boards by design. The next morning must find nothing of the day left
        # but a few KB of messages in flight.
        for name in roles:
            grew = kept[1][name] - kept[0][name]
            assert grew < 64, f"{name} kept {grew:.0f} KB more after its second day ({kept[0][name]:.0f} KB after " \
                              f"the first)"


@pytest.mark.parametrize("policy", [QueuePolicy("strict"), QueuePolicy("ratio", ratio=3, max_wait_min=45)],
                         ids=["strict", "ratio"])
def test_an_opening_burst_of_300_tickets_in_a_minute_while_desks_call(broker, tmp_path, policy):
    with site_for(broker, tmp_path, policy) as site:
        opening_burst(site, DAY, 300)
        rules = check_day(site, DAY, {d: 0 for d in site.spoken})
        assert rules["preferential"] and rules["normal"]
        assert max(site.batches.sizes) > 1   # the hub took the burst in batches (group commit)
        close_day(site, DAY)
