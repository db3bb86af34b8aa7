"""Many sites, one record: each site's journal reaches the central's PostgreSQL through a real Mosquitto bridge,
every record once, whatever fails on the way. Real parts: the sites' and the central's Mosquitto with the files
the commands make, a private PostgreSQL, the shipper and the central (its process, killed at random)."""
import csv
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from appliance import contract
from appliance.contract import shipping
from appliance.dev.network import LocalCentral, site_file
from appliance.records.journal import DayStore
from appliance.records.turns_csv import CSV_COLUMNS, write_csv
from central.ingest import Central as CentralLoop
from central.verify import verify
from hub.export import rows
from hub.shipper import Shipper
from tests.harness.network import Site
from tests.harness.records import day_records
from tests.harness.roles import Running, wait_until

DEADLINE_S = 120.0
TURNERO = Path(sys.executable).with_name("turnero")


@pytest.fixture
def network(tmp_path, postgres):
    with psycopg.connect(postgres.dsn, autocommit=True) as db:
        db.execute("TRUNCATE records, refusals, site_days, sites")
    central = LocalCentral(tmp_path / "central", postgres.dsn, ["cali", "palmira"])
    sites = [Site(tmp_path / name, name, central) for name in ("cali", "palmira")]
    central.broker.start()
    for site in sites:
        site.broker.start()
    yield central, sites
    for site in sites:
        site.broker.stop()
        site.hub.store.close()
    central.broker.stop()


def shipper(site: Site) -> Shipper:
    return Shipper(site.config, site.days, site.folder / "ship")


def equal(site: Site, dsn: str, last: str = "9999") -> bool:
    """Whether the central's rows of the site are its journals', record by record (up to day `last`)."""
    with psycopg.connect(dsn) as db:
        found = verify(db, site.id, site.days, last=last)
    return found.equal and found.records == site.records()


def test_every_sites_record_reaches_the_central_once_across_days_and_outages(network, postgres):
    central, (cali, palmira) = network
    for day in range(3):          # three days recorded before the central is heard of
        cali.morning(tickets=12)
        palmira.morning(tickets=5)
        cali.next_day()
        palmira.next_day()
    with Running(shipper(cali)), Running(shipper(palmira)), Running(CentralLoop(central.config)):
        for site in (cali, palmira):
            wait_until(lambda: equal(site, postgres.dsn), DEADLINE_S, f"{site.id}'s three days at the central")
        central.broker.restart()            # the central's broker restarted: the bridges come back by themselves
        cali.morning(tickets=8)
        wait_until(lambda: equal(cali, postgres.dsn), DEADLINE_S, "the day after the central broker's restart")
        postgres.restart(mode="immediate")  # PostgreSQL crashed and came back: the ingest goes on
        palmira.morning(tickets=4)
        wait_until(lambda: equal(palmira, postgres.dsn), DEADLINE_S, "palmira's day after PostgreSQL's restart")
    with psycopg.connect(postgres.dsn) as db:
        stored = dict(db.execute("SELECT site, count(*) FROM records GROUP BY site").fetchall())
        assert stored == {"cali": cali.records(), "palmira": palmira.records()}
        days = db.execute("SELECT count(DISTINCT day) FROM records WHERE site = 'cali'").fetchone()[0]
        assert days == 4
        name, services = db.execute("SELECT name, services FROM sites WHERE site = 'cali'").fetchone()
        assert name == cali.config.name and services["R"] == "Registro y Aportes"
    status = run("central", "status", "--config", str(central.config_path))
    assert "cali (Comfenalco Valle · CIS Cali): bridge up" in status and "palmira" in status
    # The consolidated CSV: each site's own export, row for row, with the site in front.
    out = central.config_path.with_name("central.csv")
    run("central", "export", "--config", str(central.config_path), "--from", "2026-11-01", "--to", "2026-12-31",
        "--out", str(out))
    with open(out, encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.reader(handle, delimiter=";"))
    assert exported[0] == ["site", *CSV_COLUMNS]
    for site in (cali, palmira):
        own = site.folder / "own.csv"
        write_csv(own, rows(site.hub.store, date(2026, 11, 1), date(2026, 12, 31), site.config.service_names()))
        with open(own, encoding="utf-8-sig", newline="") as handle:
            mine = list(csv.reader(handle, delimiter=";"))[1:]
        assert sorted(row[1:] for row in exported[1:] if row[0] == site.id) == sorted(mine)
        assert len(mine) == {"cali": 12 * 3 + 8, "palmira": 5 * 3 + 4}[site.id]
    only = central.config_path.with_name("cali.csv")
    run("central", "export", "--config", str(central.config_path), "--from", "2026-11-01", "--to", "2026-12-31",
        "--site", "cali", "--out", str(only))
    assert {line.split(";")[0] for line in only.read_text(encoding="utf-8-sig").splitlines()[1:]} == {"cali"}


def run(*args: str) -> str:
    done = subprocess.run([str(TURNERO), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_central_killed_at_any_instant_stores_every_record_once(network, postgres, tmp_path):
    central, (cali, _palmira) = network
    for _ in range(2):
        cali.morning(tickets=40)
        cali.next_day()
    command = [str(TURNERO), "central", "serve", "--config", str(central.config_path)]
    with Running(shipper(cali)):
        kills = 0
        while not equal(cali, postgres.dsn) and kills < 6:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3 + 0.4 * kills)            # killed before, during and after its commits
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "central.log", "w"))
        try:
            wait_until(lambda: equal(cali, postgres.dsn), DEADLINE_S, "every record after the kills")
        finally:
            process.terminate()
            process.wait(10)
    assert kills >= 1


def publish(central: LocalCentral, user: str, topic: str, payload: bytes, *, retain: bool = False) -> int:
    """Publishes as a site's credential on the central's broker; returns the PUBACK's reason code."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
    client.username_pw_set(user, (central.files / "credentials" / user).read_text().strip())
    client.tls_set(ca_certs=str(central.files / "ca.crt"))
    codes = []
    client.on_publish = lambda c, u, mid, reason, props: codes.append(reason.value)
    client.connect("127.0.0.1", central.port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain)
    wait_until(lambda: codes, what="the broker's answer")
    client.disconnect()
    client.loop_stop()
    return codes[0]


def batch(site: str, day: str, start: int, records: list[dict], positions: list[int] | None = None) -> bytes:
    positions = positions or [start + 100 * n for n in range(len(records))]
    return shipping.RecordBatch(id=contract.new_id(), at="2026-11-24T10:00:00-05:00", source="hub-ship", site=site,
                                day=day, start=start, end=positions[-1] + 100, positions=positions,
                                records=records).to_json()


def test_what_a_hostile_site_sends_is_refused_counted_and_the_rest_goes_on(network, postgres):
    central, (cali, _palmira) = network
    cali.morning(tickets=3)
    record = {"id": "x-1", "kind": "ticket", "day": "2026-12-01", "at": "2026-12-01T09:00:00-05:00",
              "turn_id": "2026-12-01/kiosco-1/R901", "number": "R-901", "service": "R", "preferential": False,
              "kiosk": "kiosco-1"}
    with Running(CentralLoop(central.config)) as loop:
        # Under another site's prefix: the broker refuses it (not authorized), nothing arrives.
        assert publish(central, "cali", shipping.central_topic("palmira", shipping.RECORDS),
                       batch("palmira", "2026-11-24", 0, [record])) == 0x87
        # A good record and a bad one in a day of its own (far from the real journal's bytes).
        bad = {"id": "x-2", "kind": "call", "day": "2026-12-01", "at": "2026-12-01T09:05:00-05:00",
               "turn_id": "2026-12-01/kiosco-1/R901", "desk": "uno", "advisor": "Ana", "request_id": "r1",
               "recall": False}
        assert publish(central, "cali", shipping.central_topic("cali", shipping.RECORDS),
                       batch("cali", "2026-12-01", 0, [record, bad])) == 0
        # The same batch again and one that jumps ahead: a copy, and a gap.
        publish(central, "cali", shipping.central_topic("cali", shipping.RECORDS),
                batch("cali", "2026-12-01", 0, [record, bad]))
        publish(central, "cali", shipping.central_topic("cali", shipping.RECORDS),
                batch("cali", "2026-12-01", 5000, [{**record, "id": "x-3"}]))
        # The first record's id again, with other content: refused, the first one kept.
        publish(central, "cali", shipping.central_topic("cali", shipping.RECORDS),
                batch("cali", "2026-12-01", 200, [{**record, "number": "R-902", "turn_id":
                                                   "2026-12-01/kiosco-1/R902"}]))
        # Not JSON at all, and nesting past the limit.
        publish(central, "cali", shipping.central_topic("cali", shipping.RECORDS), b"\xff\xfe not json")
        publish(central, "cali", shipping.central_topic("cali", shipping.RECORDS), b"[" * 5000)

        def counted():
            with psycopg.connect(postgres.dsn) as db:
                return db.execute("SELECT records, refused, gaps, duplicates FROM sites WHERE site = 'cali'"
                                  ).fetchone()
        wait_until(lambda: counted() == (1, 4, 1, 1), what="1 stored, 4 refused, 1 gap, 1 copy")
        with psycopg.connect(postgres.dsn) as db:
            (number,) = db.execute("SELECT record->>'number' FROM records WHERE site = 'cali' AND id = 'x-1'"
                                   ).fetchone()
            reasons = [r for (r,) in db.execute("SELECT reason FROM refusals WHERE site = 'cali' ORDER BY at")]
        assert number == "R-901"
        assert any("'desk'" in r for r in reasons) and any("other content" in r for r in reasons)
        assert any("not UTF-8" in r for r in reasons) and loop.link.connected
        # The site's real shipping goes on beside it.
        with Running(shipper(cali)):
            wait_until(lambda: equal(cali, postgres.dsn, last="2026-11-30"), DEADLINE_S, "cali's real records")


def test_the_demo_of_two_sites_leaves_the_central_s_csv_with_every_turn_of_both(tmp_path):
    run("demo", "--sites", "2", "--seconds", "6", "--out", str(tmp_path))

    def table(path):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle, delimiter=";"))[1:]
    central = table(tmp_path / "central.csv")
    for site in ("cali", "palmira"):
        own = table(tmp_path / site / "export.csv")
        assert own and sorted(row[1:] for row in central if row[0] == site) == sorted(own)
    assert len(central) == sum(len(table(tmp_path / site / "export.csv")) for site in ("cali", "palmira"))
    assert "palmira (Comfenalco Valle · CIS Palmira)" in (tmp_path / "central-status.txt").read_text()


def test_a_wan_cut_mid_batch_a_broker_restored_from_an_older_save_and_a_killed_shipper_cost_nothing(network,
                                                                                                  postgres):
    central, (cali, _palmira) = network
    store = DayStore(cali.days)
    for n in (3, 2, 1):                     # three days of a busy site
        store.append(day_records(date(2026, 11, 24) - timedelta(days=n)))
    store.close()
    records = cali.records()
    saved = central.broker.workdir / "mosquitto.db"
    with Running(CentralLoop(central.config)) as loop:
        wait_until(lambda: loop.link.connected, what="the central on its broker")
        central.broker.restart()            # a save with the central's session and nothing of the site's
        older = saved.read_bytes()
        wait_until(lambda: loop.link.connected, what="the central back on its broker")
        ship = subprocess.Popen([str(TURNERO), "ship", "--config", str(site_file(cali.folder, cali.config)),
                                 "--days", str(cali.days), "--state", str(cali.folder / "ship")],
                                stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: stored_rows(postgres.dsn) > 0, what="the first batches at the central")
            central.broker.kill()           # the WAN cut in the middle of the catch-up
            ship.send_signal(signal.SIGKILL)    # and the site's shipper killed mid-send
            ship.wait()
            saved.write_bytes(older)        # the central's broker comes back from an older save
            central.broker.start()
            assert stored_rows(postgres.dsn) < records
            ship = subprocess.Popen(ship.args, stderr=subprocess.DEVNULL)
            wait_until(lambda: equal(cali, postgres.dsn), DEADLINE_S, "every record, once, after the faults")
        finally:
            ship.terminate()
            ship.wait(10)


def stored_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as db:
        return db.execute("SELECT count(*) FROM records").fetchone()[0]


def test_a_site_reads_only_its_own_acknowledgement(network):
    central, _sites = network
    for site in ("cali", "palmira"):     # what the central publishes for each site
        ack = shipping.CentralAck(id=contract.new_id(), at="2026-11-24T10:00:00-05:00", source="central", site=site,
                                  days={"2026-11-24": 10}, gaps=[])
        # Accepted: 0, or 16 "no matching subscribers" while the site's bridge is still connecting.
        assert publish(central, "central", shipping.central_topic(site, shipping.ACK), ack.to_json(),
                       retain=True) in (0, 16)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="cali", protocol=mqtt.MQTTv5)
    client.username_pw_set("cali", (central.files / "credentials" / "cali").read_text().strip())
    client.tls_set(ca_certs=str(central.files / "ca.crt"))
    got, granted = [], []
    client.on_message = lambda c, u, message: got.append(message.topic)
    client.on_subscribe = lambda c, u, mid, codes, props: granted.extend(code.value for code in codes)
    client.connect("127.0.0.1", central.port)
    client.loop_start()
    try:
        client.subscribe([(shipping.central_topic("palmira", shipping.ACK), 1), (f"{shipping.CENTRAL_ROOT}/#", 1),
                          (shipping.central_topic("cali", shipping.ACK), 1)])
        wait_until(lambda: len(granted) == 3, what="the subscriptions' answers")
        wait_until(lambda: got, what="cali's own acknowledgement")
        time.sleep(0.5)                  # what else the broker would send has come by now
    finally:
        client.disconnect()
        client.loop_stop()
    assert set(got) == {shipping.central_topic("cali", shipping.ACK)}
