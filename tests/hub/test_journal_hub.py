"""The hub on its journal: upgraded in place from TinyDB day files, started on bad data, followed by the
coordinators' page, and its ledger kept up to date record by record. Real files and the real hub loop."""
import logging
import queue
from datetime import date, datetime, timedelta

from tinydb import TinyDB

from appliance import contract
from appliance import site as site_config
from appliance.core.link import Link
from appliance.records.journal import DayStore
from appliance.records.ledger import CALLED, WAITING, fold
from hub.export import rows
from hub.report.figures import build
from hub.service import Hub
from hub.web.live import LiveView
from tests.harness.hub_feed import START, feed, request, serving, ticket
from tests.harness.roles import SettableClock

CONFIG = site_config.load(site_config.EXAMPLE)
DAY, YESTERDAY = "2026-11-24", "2026-11-23"
NAMES = CONFIG.service_names()


def hub_in(state, clock=None) -> Hub:
    clock = clock or SettableClock(START)
    unit = Hub(CONFIG, state, now=clock)
    unit.clock = clock
    return unit


def tinydb_day(days, day: str, records: list[dict]) -> None:
    """A day file as the hub wrote them before the journal: TinyDB, table "events", UTF-8."""
    with TinyDB(days / f"{day}.json", encoding="utf-8", ensure_ascii=False, separators=(",", ":")) as db:
        db.table("events").insert_multiple(records)


def moved_to(day: str, records: list[dict]) -> list[dict]:
    return [{**r, "id": f"{day}-{r['id']}", "day": day, **({"turn_id": r["turn_id"].replace(DAY, day)}
                                                          if "turn_id" in r else {})} for r in records]


def a_morning(tmp_path) -> list[dict]:
    """R-001 served and closed, R-002 being served at desk 1, R-003 waiting: the records a hub makes of it."""
    unit = hub_in(tmp_path / "scratch")
    feed(unit, ticket(unit, 1), ticket(unit, 2), ticket(unit, 3), request(1, "a"), request(1, "b"))
    unit.store.close()
    return unit.store.day(DAY)


def test_a_hub_upgraded_in_the_middle_of_a_day_goes_on_with_its_tinydb_files(tmp_path):
    morning, days = a_morning(tmp_path), tmp_path / "hub" / "days"
    days.mkdir(parents=True)
    tinydb_day(days, YESTERDAY, moved_to(YESTERDAY, morning))
    tinydb_day(days, DAY, morning)
    before = {p.name: p.read_bytes() for p in days.iterdir()}

    upgraded = hub_in(tmp_path / "hub")
    assert serving(upgraded, 1) == "R-002" and [t.number for t in upgraded.ledger.waiting()] == ["R-003"]
    feed(upgraded, request(1, "c"))
    assert serving(upgraded, 1) == "R-003"
    upgraded.store.close()

    assert {p.name: p.read_bytes() for p in days.iterdir() if p.suffix == ".json"} == before   # never written
    again = hub_in(tmp_path / "hub")
    assert serving(again, 1) == "R-003" and again.ledger.waiting() == []
    assert [r["id"] for r in again.store.day(DAY)][:len(morning)] == [r["id"] for r in morning]
    again.store.close()

    outcomes = {(r["turn_id"][:10], r["number"]): r["outcome"]
                for r in rows(DayStore(days), date(2026, 11, 23), date(2026, 11, 24), NAMES)}
    assert outcomes == {(YESTERDAY, "R-001"): "attended", (YESTERDAY, "R-002"): "in_service",
                        (YESTERDAY, "R-003"): "waiting", (DAY, "R-001"): "attended", (DAY, "R-002"): "attended",
                        (DAY, "R-003"): "in_service"}
    report = build(DayStore(days), date(2026, 11, 23), date(2026, 11, 24), CONFIG, now=START)
    assert report.total.turns == 6 and report.total.outcomes["attended"] == 3


def test_a_hub_on_damaged_files_starts_says_where_and_keeps_serving_today(tmp_path, caplog):
    morning, days = a_morning(tmp_path), tmp_path / "hub" / "days"
    days.mkdir(parents=True)
    (days / f"{YESTERDAY}.json").write_text('{"events": {"1": {"id": "y1", "kind": "tic', encoding="utf-8")
    store = DayStore(days)
    for record in morning:                                   # one batch per record, as in a quiet morning
        store.append([record])
    store.close()
    journal = days / f"{DAY}.jsonl"
    damaged = journal.read_bytes().replace(b'"number":"R-001"', b'"number":"R-00I"')   # R-001's ticket line
    journal.write_bytes(damaged)

    with caplog.at_level(logging.ERROR):
        unit = hub_in(tmp_path / "hub")
        assert f"{journal} line 1: its checksum does not match" in caplog.text
        assert "does not fit the records before it" in caplog.text     # R-001's call and close: no such turn
        assert serving(unit, 1) == "R-002" and [t.number for t in unit.ledger.waiting()] == ["R-003"]
        feed(unit, request(1, "c"))
        assert serving(unit, 1) == "R-003"
        table = list(rows(unit.store, date(2026, 11, 23), date(2026, 11, 24), NAMES))
    unit.store.close()
    assert f"{days / YESTERDAY}.json line 1 column " in caplog.text and "not a TinyDB day file" in caplog.text
    assert sorted(r["number"] for r in table) == ["R-002", "R-003"]
    assert journal.read_bytes().startswith(damaged)
    assert (days / f"{YESTERDAY}.json").read_text(encoding="utf-8").endswith('"kind": "tic')


def test_a_hub_whose_day_file_is_not_a_journal_keeps_it_aside_and_serves(tmp_path, caplog):
    days = tmp_path / "hub" / "days"
    days.mkdir(parents=True)
    (days / f"{DAY}.jsonl").write_bytes(b"\x00" * 700)       # what a card can leave after a power cut
    with caplog.at_level(logging.WARNING):
        unit = hub_in(tmp_path / "hub")
    assert f"{days / DAY}.jsonl: from line 1, 700 byte(s)" in caplog.text
    feed(unit, ticket(unit, 1), request(1, "a"))
    assert serving(unit, 1) == "R-001"
    unit.store.close()
    assert (days / f"{DAY}.jsonl.cut").read_bytes() == b"\x00" * 700


def next_day_ticket(unit: Hub, n: int) -> contract.TicketIssued:
    unit.clock.moment += timedelta(minutes=1)
    return contract.TicketIssued(id=f"manana{n}", at=unit.clock.moment.isoformat(), source="kiosco-1",
                                 turn_id=f"2026-11-25/kiosco-1/R{n:03d}", number=f"R-{n:03d}", service="R",
                                 preferential=False)


def test_the_live_view_follows_the_journal_and_starts_again_for_a_new_day(hub):
    live = LiveView(CONFIG, DayStore(hub.store.directory), Link("hub-web", CONFIG.broker, queue.Queue()), hub.clock)
    today = date(2026, 11, 24)
    feed(hub, ticket(hub, 1), ticket(hub, 2))
    live.refresh()
    feed(hub, request(1, "a"), ticket(hub, 3), request(2, "b"))
    hub.clock.moment += timedelta(minutes=25)
    live.refresh()
    assert live._today(today) == fold(hub.store.day(DAY)) == hub.ledger
    assert [a["text"] for a in live.snapshot()["alarms"] if a["kind"] == "wait"] == [
        "Registro y Aportes: 1 turno espera más de 20 min."]
    assert [d["advisor"] for d in live.snapshot()["desks"]] == ["Ana María Peña", "José Muñoz", "Luz Ángela Ortiz"]

    hub.clock.moment = START + timedelta(days=1)
    feed(hub, next_day_ticket(hub, 1))
    live.refresh()
    assert [t.turn_id for t in live._today(date(2026, 11, 25)).turns.values()] == ["2026-11-25/kiosco-1/R001"]


def brute_force(ledger) -> dict:
    """What the ledger's running indexes must say, recomputed from every turn."""
    attention = {}
    for t in ledger.turns.values():
        if t.outcome == "attended" and t.called_at:
            count, total = attention.get(t.service, (0, 0.0))
            seconds = (datetime.fromisoformat(t.closed_at) - datetime.fromisoformat(t.called_at)).total_seconds()
            attention[t.service] = (count + 1, total + seconds)
    latest = {}
    for t in sorted((t for t in ledger.turns.values() if t.called_at), key=lambda t: t.called_at):
        latest[t.desk] = t.advisor
    return {"waiting": [t for t in ledger.turns.values() if t.status == WAITING],
            "unfinished": sorted(t.turn_id for t in ledger.turns.values() if t.status in (WAITING, CALLED)),
            "attention": attention, "advisors": latest}


def test_the_ledger_keeps_its_queue_pace_and_advisors_as_a_full_recount_would(hub):
    transfer = contract.DeskRequest(id="t", at=START.isoformat(), source="escritorio-1", desk=1, action="transfer",
                                    service="V")
    void = ticket(hub, 9)
    steps = [
        [ticket(hub, 1), ticket(hub, 2), ticket(hub, 1, preferential=True), ticket(hub, 1, service="S")],
        [request(1, "a"), request(2, "b")],
        [contract.TicketVoid(id="v9", at=void.at, source="kiosco-1", turn_id=void.turn_id, number=void.number,
                             service="R", preferential=False, reason="sin papel")],
        [request(1, "c"), request(2, "d", "no_show")],
        [transfer, request(3, "e"), request(3, "f", "recall")],
        [request(2, "g"), request(1, "h"), request(3, "i")],
    ]
    for events in steps:
        hub.clock.moment += timedelta(minutes=7)
        feed(hub, *events)
        expected = brute_force(hub.ledger)
        assert hub.ledger.waiting() == expected["waiting"]
        assert sorted(t.turn_id for t in hub.ledger.unfinished()) == expected["unfinished"]
        assert hub.ledger.attention == expected["attention"] and hub.ledger.advisors == expected["advisors"]
    assert set(hub.ledger.attention) == {"R", "V"} and len(hub.ledger.advisors) == 3   # the steps did something


def test_a_hub_started_once_with_its_clock_a_month_ahead_leaves_no_day_behind(tmp_path):
    ahead = SettableClock(START)
    ahead.moment = START + timedelta(days=30)
    hub_in(tmp_path / "hub", ahead).store.close()           # no record made: no day file either
    again = hub_in(tmp_path / "hub")
    assert again.today == DAY
    again.store.close()
