"""Time on a site of Pis without clock batteries: every device tells its clock in a heartbeat and the coordinators'
page flags one that is off by more than a minute; the hub's service day never goes backward."""
import json
import logging
import queue
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt
import pytest

from appliance import contract
from appliance import site as site_config
from appliance.core.link import HEARTBEAT_EXPIRY_S, Link
from appliance.records.journal import DayStore
from appliance.records.ledger import fold
from hub.service import Hub
from hub.web.live import LiveView
from tests.harness.hub_feed import START, feed, request, serving, ticket
from tests.harness.page import make_page, page_config
from tests.harness.roles import STEP_DEADLINE_S, heartbeat, wait_until

CONFIG = site_config.load(site_config.EXAMPLE)
TZ = CONFIG.timezone


# --- the heartbeat ---------------------------------------------------------------------------------------------

def test_a_heartbeat_round_trips():
    beat = contract.Heartbeat(id="b1", at="2026-11-24T09:00:00.000-05:00", source="kiosco-1")
    assert contract.expect(beat.to_json(), contract.Heartbeat) == beat
    assert json.loads(beat.to_json())["type"] == "heartbeat"


@pytest.mark.parametrize("change, reason", [
    ({"at": "2026-11-24T09:00:00"}, "field 'at' has no UTC offset"),
    ({"at": "ayer"}, "field 'at' is not an ISO 8601 time"),
    ({"source": ""}, "field 'source' must look like"),
    ({"at": None}, "field 'at' must be text"),
])
def test_a_bad_heartbeat_is_refused_with_its_reason(change, reason):
    body = {"v": 1, "type": "heartbeat", "id": "b1", "at": "2026-11-24T09:00:00.000-05:00", "source": "kiosco-1"}
    with pytest.raises(contract.ContractError, match=reason):
        contract.expect(json.dumps({**body, **change}).encode(), contract.Heartbeat)


class Offset:
    """A device's clock: the real one moved by `offset`, which the test changes."""

    def __init__(self, **offset):
        self.offset = timedelta(**offset)

    def __call__(self) -> datetime:
        return datetime.now(TZ) + self.offset


def device(broker, name: str, clock=None, subscriptions=()) -> Link:
    link = Link(name, broker.address(), queue.Queue(), now=clock,
                subscriptions=subscriptions)
    link.start()
    assert link.wait_connected(STEP_DEADLINE_S)
    return link


def drained(link: Link) -> list[mqtt.MQTTMessage]:
    items = []
    while not link.inbox.empty():
        item = link.inbox.get_nowait()
        if isinstance(item, mqtt.MQTTMessage):
            items.append(item)
    return items


def test_a_heartbeat_goes_on_connect_unretained_expiring_and_then_not_more_often_than_asked(broker):
    probe = device(broker, "prueba", subscriptions=(contract.heartbeat_topic("kiosco-1"),))
    clock = Offset()
    started = datetime.now(TZ).replace(microsecond=0)   # the heartbeat's time has milliseconds only
    kiosk = device(broker, "kiosco-1", clock)
    received = []

    def beats() -> list[contract.Heartbeat]:
        received.extend(drained(probe))
        return [contract.expect(item.payload, contract.Heartbeat) for item in received]

    first = wait_until(beats, what="the heartbeat sent on connect")[0]
    assert first.source == "kiosco-1"
    assert started <= datetime.fromisoformat(first.at) <= datetime.now(TZ)   # the device's clock as it connected
    assert not received[0].retain and 0 < received[0].properties.MessageExpiryInterval <= HEARTBEAT_EXPIRY_S
    kiosk.heartbeat()            # just sent on connect: not due yet, so nothing goes
    clock.offset = timedelta(days=1)
    kiosk.heartbeat(every=0)     # due: goes, after anything the call before might have sent
    tomorrow = datetime.fromisoformat(first.at) + timedelta(hours=12)
    wait_until(lambda: any(datetime.fromisoformat(b.at) > tomorrow for b in beats()), what="the forced heartbeat")
    assert len(received) == 2
    for link in (kiosk, probe):
        link.stop()


@pytest.fixture
def web(broker, tmp_path):
    page = make_page(page_config(CONFIG, broker), tmp_path / "hub")
    page.start()
    assert page.link.wait_connected(STEP_DEADLINE_S)
    yield page
    page.stop()


def clock_alarms(web) -> list[str]:
    return [a["text"] for a in web.live.snapshot()["alarms"] if a["kind"] == "clock"]


def test_a_device_clock_off_by_more_than_a_minute_raises_an_alarm_until_it_is_right(web, broker, caplog):
    probe = device(broker, "prueba", subscriptions=(contract.ALARMS_TOPIC,))
    desk = device(broker, "escritorio-1", Offset(seconds=45))     # within bounds
    wait_until(lambda: "escritorio-1" in web.live.skews, what="desk 1's heartbeat judged")
    kiosk_clock = Offset(minutes=5)
    with caplog.at_level(logging.INFO, logger="hub.web"):
        kiosk = device(broker, "kiosco-1", kiosk_clock)
        display = device(broker, "pantalla-1", Offset(hours=-2, minutes=-30))
        # Computed after desk 1's heartbeat was judged: desk 1, 45 s ahead, is not flagged.
        alarms = wait_until(lambda: len(clock_alarms(web)) == 2 and clock_alarms(web), what="two clock alarms")
        assert alarms == [
            "El reloj de kiosco-1 (dispensador de turnos) está adelantado 5 min; revise la sincronización de hora.",
            "El reloj de pantalla-1 (pantalla de turnos) está atrasado 2 h 30 min; revise la sincronización de hora."]
        assert "the clock of kiosco-1 is 300 s ahead of the hub's" in caplog.text
        assert "the clock of pantalla-1 is 9000 s behind the hub's" in caplog.text

        published = []   # the same alarms on MQTT, for other consumers

        def clock_subjects() -> set:
            published.extend(contract.expect(item.payload, contract.Alarms).alarms for item in drained(probe))
            return {a["subject"] for a in published[-1] if a["kind"] == "clock"} if published else set()
        wait_until(lambda: clock_subjects() == {"kiosco-1", "pantalla-1"}, what="the clock alarms on MQTT")

        kiosk_clock.offset = timedelta(0)   # chrony has caught up
        kiosk.heartbeat(every=0)
        wait_until(lambda: clock_alarms(web) == [text for text in alarms if "pantalla-1" in text],
                   what="the kiosk's clock alarm cleared")
        assert "the clock of kiosco-1 is back within 60 s" in caplog.text
    for link in (kiosk, display, desk, probe):
        link.stop()


def test_a_retained_or_forged_heartbeat_is_not_judged(tmp_path, caplog):
    now = datetime.now(TZ)
    live = LiveView(CONFIG, DayStore(tmp_path / "days"), Link("hub-web", CONFIG.broker, queue.Queue()),
                    lambda: now)
    live.take(heartbeat("kiosco-1", now - timedelta(days=3), retain=True))   # kept by the broker: stale
    with caplog.at_level(logging.WARNING):
        live.take(heartbeat("kiosco-1", now - timedelta(hours=1), source="pantalla-1"))
    assert live.skews == {} and "heartbeat from 'pantalla-1' on the topic of 'kiosco-1'" in caplog.text
    live.take(heartbeat("kiosco-1", now - timedelta(hours=1)))
    assert round(live.skews["kiosco-1"]) == -3600


# --- the hub's day never goes backward ------------------------------------------------------------------

def test_a_hub_clock_set_back_a_day_keeps_todays_turns_waiting(hub, caplog):
    feed(hub, ticket(hub, 1), ticket(hub, 2), request(1, "a"))
    assert serving(hub, 1) == "R-001"
    hub.clock.moment = START - timedelta(days=1)        # back to yesterday, as fake-hwclock may restore it
    with caplog.at_level(logging.ERROR):
        feed(hub, request(1, "b"))
    assert hub.today == "2026-11-24" and serving(hub, 1) == "R-002"
    assert hub.ledger.turns["2026-11-24/kiosco-1/R001"].outcome == "attended"
    assert "the clock says 2026-11-23 but the service day is already 2026-11-24" in caplog.text
    assert hub.store.days() == ["2026-11-24"]
    hub.clock.moment = START + timedelta(hours=1)       # the clock comes right: the same day goes on
    feed(hub, ticket(hub, 3))
    assert hub.today == "2026-11-24" and [t.number for t in hub.ledger.waiting()] == ["R-003"]
    hub.clock.moment = START + timedelta(days=1)        # a real new day closes what was left
    hub.step(timeout=0)
    assert hub.today == "2026-11-25"
    closed = {t.number: t.outcome for t in fold(hub.store.day("2026-11-24")).turns.values()}
    assert closed == {"R-001": "attended", "R-002": "unattended", "R-003": "unattended"}


def test_a_hub_that_starts_with_its_clock_a_day_behind_goes_on_with_the_newest_day(hub, tmp_path):
    feed(hub, ticket(hub, 1), ticket(hub, 2), request(1, "a"))
    hub.store.close()
    restarted = Hub(CONFIG, tmp_path, now=lambda: START - timedelta(days=1))
    try:
        assert restarted.today == "2026-11-24"
        feed(restarted, request(2, "b"))
        assert serving(restarted, 2) == "R-002" and serving(restarted, 1) == "R-001"
        assert restarted.store.days() == ["2026-11-24"]
    finally:
        restarted.store.close()


def test_the_coordinators_see_when_the_hub_clock_is_behind_its_newest_day(hub, tmp_path):
    feed(hub, ticket(hub, 1))
    link = Link("hub-web", CONFIG.broker, queue.Queue())
    moment = [START - timedelta(days=1)]
    live = LiveView(CONFIG, hub.store, link, lambda: moment[0])
    live.refresh()
    assert [a["text"] for a in live.snapshot()["alarms"] if a["subject"] == "hub"] == [
        "El reloj del servidor central marca el 23/11/2026, pero ya hay registros del 24/11/2026: el sistema "
        "sigue en ese día. Revise la hora del servidor."]
    moment[0] = START + timedelta(minutes=30)
    live.refresh()
    assert not [a for a in live.snapshot()["alarms"] if a["kind"] == "clock"]
