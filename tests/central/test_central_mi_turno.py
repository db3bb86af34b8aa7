"""The sites' "Mi turno" page at the central, through the real parts: each site's real hub publishes its positions
to its own Mosquitto, whose bridge carries them to the central's Mosquitto, where `turnero central mi-turno` (its
HTTPS served by itself, on a certificate of the central's CA) reads them and answers a ticket's code. Then bad
positions at the central's reader, the central broker's ACL, and the bridge of a site whose page the central does not
serve."""
import dataclasses
import queue
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance import contract
from appliance import site as site_config
from appliance.contract import shipping
from appliance.core.link import Link
from appliance.core.public_code import PATH, public_code
from appliance.dev.network import LocalCentral, site_for_central
from appliance.dev.local_broker import HOST
from appliance.dev.local_front import LocalFront
from appliance.ops import broker_files, front, site_ca
from central.mi_turno import CentralMiTurno
from tests.central.test_central import publish
from tests.contract.test_fuzz_payloads import FUZZ, GARBAGE, payloads
from tests.harness import hub_feed
from tests.harness.hub_feed import mqtt_message
from tests.harness.network import LiveSite, Site
from tests.harness.page import request
from tests.harness.roles import Running, wait_until

DEADLINE_S = 60.0
UNKNOWN = "2" * 16


def guest_page_elsewhere(folder: Path) -> site_config.PublicSettings:
    """A site's [public] without listen: the central serves its address."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "public-secret").write_text(secrets.token_hex(32))
    return site_config.PublicSettings(address="https://turno.comfenalco.example", secret_file=folder / "public-secret")


def secret_of(site: Site) -> bytes:
    return site.config.public.secret_file.read_bytes().strip()


@pytest.fixture
def network(tmp_path):
    """The central (no database: the page needs none) with cali, on today's clock, and palmira, whose hub still
    holds yesterday's turns."""
    central = LocalCentral(tmp_path / "central", "dbname=unused", ["cali", "palmira"], public=True)
    central.broker.start()
    cali = LiveSite(tmp_path / "cali", "cali", central, public=guest_page_elsewhere(tmp_path / "cali"))
    yesterday = datetime.now(hub_feed.TZ) - timedelta(days=1)
    palmira = Site(tmp_path / "palmira", "palmira", central, start=yesterday,
                   public=guest_page_elsewhere(tmp_path / "palmira"))
    for site in (cali, palmira):
        site.broker.start()
        site.hub.start()
    files = central.config.files
    page = CentralMiTurno(central.config, port=0, tls=(site_ca.cert_file(files, "public"),
                                                       site_ca.key_file(files, "public")))
    with Running(page):
        yield central, cali, palmira, page
    for site in (cali, palmira):
        site.hub.stop()
        site.broker.stop()
    central.broker.stop()


def ask(central: LocalCentral, page: CentralMiTurno, code: str) -> tuple[int, dict, str]:
    return request(central.config, page.port, "GET", f"{PATH}{code}")


def held(page: CentralMiTurno, site: str, code: str) -> bool:
    """The page holds `site`'s shard of `code`, of whatever day (a peek: the page answers only today's)."""
    return site in page.book._shards.get(contract.shard_of(code), {})


def until(site: Site, condition, what: str) -> None:
    """Steps the site's hub (it publishes the positions at most once a second) until `condition()`."""
    wait_until(lambda: (site.hub.step(timeout=0.05), condition())[1], DEADLINE_S, what)


def test_a_ticket_of_a_site_follows_its_turn_at_the_central_and_yesterdays_codes_answer_as_unknown(network):
    central, cali, palmira, page = network
    cali.tickets(3)
    code = public_code(secret_of(cali), cali.hub.ledger.waiting()[-1].turn_id)     # the third ticket's
    until(cali, lambda: "2 personas antes que usted" in ask(central, page, code)[2], "the turn at the central")
    status, headers, text = ask(central, page, code)
    assert status == 200 and "CIS Cali" in text and "set-cookie" not in headers
    cali.next(desk=1)
    until(cali, lambda: "1 persona antes que usted" in ask(central, page, code)[2], "the page after a NEXT")
    cali.next(desk=2)
    cali.next(desk=3)
    until(cali, lambda: "Es su turno" in ask(central, page, code)[2], "the call at the central")
    assert "Módulo 3" in ask(central, page, code)[2]

    day = palmira.clock.moment.date().isoformat()          # yesterday at palmira: a ticket its hub still holds
    hub_feed.feed(palmira.hub, contract.TicketIssued(
        id="palmira-ayer-1", at=palmira.clock.moment.isoformat(), source="kiosco-1",
        turn_id=f"{day}/kiosco-1/R001", number="R-001", service="R", preferential=False))
    expired = public_code(secret_of(palmira), f"{day}/kiosco-1/R001")
    until(palmira, lambda: held(page, "palmira", expired), "palmira's positions at the central")
    unknown = ask(central, page, UNKNOWN)
    assert unknown[0] == 404 and "Turno no encontrado" in unknown[2]
    for wrong in (expired, code[:-1], code + "2"):
        assert ask(central, page, wrong)[::2] == unknown[::2], wrong
    assert page.rejected == {}


def test_only_a_site_whose_page_the_central_serves_bridges_its_positions(tmp_path):
    central = LocalCentral(tmp_path / "central", "dbname=unused", ["cali", "buga"])
    base = site_config.load(site_config.EXAMPLE)
    bridged = f"topic positions/+ out 1 turnero/v1/hub/ {shipping.remote_prefix('cali')}"
    with_page = dataclasses.replace(base, public=guest_page_elsewhere(tmp_path / "cali"))
    cali, _ = site_for_central(with_page, tmp_path / "cali", "cali", central)
    buga, _ = site_for_central(base, tmp_path / "buga", "buga", central)
    assert bridged in broker_files.bridge_lines(cali.central)
    assert not any("positions" in line for line in broker_files.bridge_lines(buga.central))


def test_behind_nginx_only_the_pages_routes_answer_and_a_burst_from_one_address_gets_a_spanish_429(tmp_path):
    """The central's nginx as install writes it (front.central_text), in front of `turnero central mi-turno`."""
    central = LocalCentral(tmp_path / "central", "dbname=unused", ["cali"], public=True)
    config = central.config
    text = front.central_text(config.web, HOST, config.public, cache_dir=tmp_path / "front" / "cache")
    central.broker.start()
    try:
        with Running(CentralMiTurno(config)), LocalFront(tmp_path / "front", config, text) as nginx:
            def ask_front(path: str, source: str = "127.0.0.2") -> tuple[int, dict, str]:
                return request(config, config.public.port, "GET", path, source=source)

            unknown = ask_front(f"{PATH}{UNKNOWN}")
            assert unknown[0] == 404 and "Turno no encontrado" in unknown[2] and nginx.running
            for path in ("/", "/sedes", "/ingresar", "/api/sedes", "/exportar", f"{PATH}{UNKNOWN[:-1]}"):
                assert ask_front(path)[::2] == unknown[::2], path      # nothing of the coordinators' page
            with ThreadPoolExecutor(20) as pool:
                answers = list(pool.map(lambda _: ask_front(f"{PATH}{'3' * 16}", "127.0.0.9"), range(60)))
            refused = [answer for answer in answers if answer[0] == 429]
            assert refused and {answer[0] for answer in answers} == {404, 429}
            assert all("Demasiadas solicitudes" in text for _, _, text in refused)
            assert ask_front(f"{PATH}{UNKNOWN}", "127.0.0.10")[0] == 404     # the phone beside it is not held up
    finally:
        central.broker.stop()


# --- bad positions at the central's reader ---------------------------------------------------------------------

TODAY = hub_feed.START.date().isoformat()
GOOD = contract.Positions(id="p-1", at=hub_feed.START.isoformat(), source="hub", name="CIS Cali", day=TODAY,
                          shard="2", positions=[contract.Position(public_code="2" * 16, number="R-001",
                                                                  state="waiting", service_name="Salud", ahead=0)])
TOPIC = shipping.central_positions_topic("cali", "2")
TOPICS = st.sampled_from([TOPIC, shipping.central_positions_topic("cali", "3"), contract.positions_topic("2"),
                          shipping.central_positions_topic("Cali", "2"), TOPIC + "/x", TOPIC[:-1] + "22",
                          shipping.central_topic("cali", shipping.RECORDS)])


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    """The central's page, not started: its loop's step() is fed straight."""
    central = LocalCentral(tmp_path_factory.mktemp("central"), "dbname=unused", ["cali"], public=True)
    unit = CentralMiTurno(central.config, now=lambda: hub_feed.START)
    unit.inbox.put(mqtt_message(TOPIC, GOOD.to_json()))
    unit.step(timeout=0)
    return unit


@FUZZ
@given(topic=TOPICS, case=st.one_of(payloads(GOOD, positions=(contract.Position, 0)), GARBAGE))
def test_the_central_reader_refuses_bad_positions_and_keeps_what_it_had(reader, topic, case):
    payload, _ = case
    refused = sum(reader.rejected.values())
    reader.inbox.put(mqtt_message(topic, payload))
    assert reader.step(timeout=0) == 1
    if sum(reader.rejected.values()) > refused:          # refused: the turn it held still answers
        assert reader.book.find("2" * 16)[1].number == "R-001"
    else:                                                 # taken: only on its own site's topic, strictly valid
        assert topic in (TOPIC, shipping.central_positions_topic("cali", "3"))
        message = contract.expect(payload, contract.Positions)
        assert topic == shipping.central_positions_topic("cali", message.shard)
    reader.inbox.put(mqtt_message(TOPIC, GOOD.to_json()))   # and the good one again, for the next case
    reader.step(timeout=0)


def test_a_site_writes_only_its_own_positions_and_the_pages_account_reads_them_alone(tmp_path):
    """The central broker's ACL, live: each site its own positions; central-public reads them and nothing else."""
    central = LocalCentral(tmp_path / "central", "dbname=unused", ["cali", "palmira"], public=True)
    central.broker.start()
    try:
        status = shipping.SiteStatus(id="s-1", at=hub_feed.START.isoformat(), source="hub-ship", site="cali",
                                     name="CIS Cali", services={}, software="1", site_file="abc", pending=0)
        # Accepted: 0, or 16 "no matching subscribers".
        assert publish(central, "cali", TOPIC, GOOD.to_json(), retain=True) in (0, 16)
        assert publish(central, "cali", shipping.central_topic("cali", shipping.SITE), status.to_json(),
                       retain=True) in (0, 16)
        for user, topic in (("cali", shipping.central_positions_topic("palmira", "2")),
                            ("central-public", shipping.central_positions_topic("cali", "3"))):
            assert publish(central, user, topic, GOOD.to_json()) == 135, (user, topic)     # not authorized
        inbox: queue.Queue = queue.Queue()
        reader = Link("central-public", central.config.broker, inbox, subscriptions=(f"{shipping.CENTRAL_ROOT}/#",))
        reader.start()
        try:
            def topics() -> set[str]:
                return {item.topic for item in list(inbox.queue) if isinstance(item, mqtt.MQTTMessage)}

            wait_until(topics, what="the retained positions")
            time.sleep(0.5)                  # what else the broker would send has come by now
        finally:
            reader.stop()
        assert topics() == {TOPIC}
    finally:
        central.broker.stop()
