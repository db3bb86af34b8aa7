"""A stolen kiosk credential cannot fill the queue: the hub refuses tickets beyond what the kiosk's buttons can
give (hub/pace.py), by each ticket's own time, counts them in the day's record and raises an alarm; an outbox
replayed after an outage, whose tickets carry the times they were printed at, is taken whole."""
from datetime import timedelta

from appliance import contract
from appliance.records.journal import DayStore
from appliance.records.ledger import fold
from hub.pace import MARGIN
from hub.service import Hub
from tests.harness.hub_feed import feed, hub  # noqa: F401 (a fixture)
from tests.harness.measure import rss_mb
from tests.harness.page import make_page, page_config
from tests.harness.roles import Running, wait_until
from tests.ops.test_broker_security import Client, password, secured  # noqa: F401 (a fixture)

FLOOD = 5000


def ticket(n: int, at, day: str, service: str = "R") -> contract.TicketIssued:
    return contract.TicketIssued(id=f"robado-{service}{n}", at=at.isoformat(timespec="milliseconds"), source="kiosco-1",
                                 turn_id=f"{day}/kiosco-1/{service}{n:04d}", number=f"{service}-{n:04d}",
                                 service=service, preferential=False)


def test_an_outbox_replayed_after_an_outage_is_taken_whole(hub):
    """Two hours of one button at its limit, arriving at once: every ticket is a turn."""
    limit, window = hub.config.press_limit, hub.config.press_window_s
    start = hub.clock.moment - timedelta(hours=2)
    tickets = [ticket(n, start + timedelta(seconds=window * (n // limit) + n % limit), hub.today)
               for n in range(limit * 120)]
    feed(hub, *tickets)
    assert len(hub.ledger.waiting()) == len(tickets) and hub.ledger.impossible == {}


def test_a_flood_beyond_the_buttons_is_refused_counted_and_kept_out_of_the_queue(hub):
    moment = hub.clock.moment
    feed(hub, *(ticket(n, moment, hub.today) for n in range(300)))
    kept = MARGIN * hub.config.press_limit
    assert len(hub.ledger.waiting()) == kept
    assert hub.ledger.impossible == {"kiosco-1": 300 - kept}
    assert hub.board().waiting[0].normal == kept        # what the screens and the kiosk's estimate read
    feed(hub, ticket(299, moment, hub.today))            # sent again: told again, not counted twice
    assert hub.ledger.impossible == {"kiosco-1": 300 - kept}
    # Another button of the same kiosk is its own: a citizen can still take a Salud turn.
    feed(hub, ticket(1, moment, hub.today, service="S"))
    assert len(hub.ledger.waiting()) == kept + 1


def test_a_stolen_kiosk_credential_floods_a_real_hub_and_no_impossible_ticket_is_recorded(secured, tmp_path):
    config, broker = secured
    state = tmp_path / "hub"
    with Running(Hub(config, state)) as unit:
        assert unit.link.wait_connected(10)
        before = rss_mb(broker.pid)
        kiosk = Client(broker, "kiosco-1", password(config, "kiosco-1"))
        now = unit.now()
        infos = [kiosk.client.publish(contract.ticket_topic("kiosco-1"), ticket(n, now, unit.today).to_json(), qos=1)
                 for n in range(FLOOD)]
        wait_until(lambda: all(info.mid in kiosk.acks for info in infos), timeout=120, what="the flood's PUBACKs")
        kiosk.close()
        decided = lambda: len(unit.ledger.waiting()) + sum(unit.ledger.impossible.values())  # noqa: E731
        wait_until(lambda: decided() == FLOOD, timeout=120, what="the hub deciding on every ticket")
        waiting = len(unit.ledger.waiting())
        grown = rss_mb(broker.pid) - before
    assert grown < 32, grown                    # the broker passed the flood on; it held none of it
    day = fold(DayStore(state / "days").records(unit.today))
    assert waiting == len(day.queue) <= MARGIN * config.press_limit
    assert day.impossible == {"kiosco-1": FLOOD - waiting}
    page = make_page(page_config(config, broker), state)
    page.live.refresh()
    texts = [a["text"] for a in page.live.snapshot()["alarms"] if a["subject"] == "kiosco-1"]
    assert any(f"rechazó hoy {FLOOD - waiting} tiquetes" in text for text in texts), texts
    # The kiosk's own line among the devices, for the technician.
    assert {d["id"]: d["refused"] for d in page.live.snapshot()["devices"]}["kiosco-1"] == FLOOD - waiting
    print(f"{FLOOD} tickets from one kiosk credential: {waiting} turns, {FLOOD - waiting} refused; the broker "
          f"grew by {grown:.1f} MB")
