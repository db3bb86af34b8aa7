"""Bad input from a site, through the central's own step() as its loop runs it, against a real PostgreSQL.

Hypothesis builds batches close to valid ones (one field of the batch dropped, retyped or changed; one record of
it with a field dropped, retyped or added, or not an object) and garbage (not JSON, not UTF-8, nested too deep,
too large). Whatever arrives, the central goes on, acknowledges every message, and what it stores is only records
that pass the check; a good batch after all of it is stored as usual."""
import copy
import json
from datetime import date

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance import contract
from appliance.contract import shipping
from appliance.contract.records import check_record
from appliance.dev.network import LocalCentral
from central.ingest import Central
from tests.contract.test_fuzz_payloads import GARBAGE, JSON, body, payloads
from tests.harness.hub_feed import mqtt_message
from tests.harness.records import day_records

DAY = "2026-11-20"
RECORDS = day_records(date(2026, 11, 20))[:12]
TOPIC = shipping.central_topic("cali", shipping.RECORDS)


def good_batch(start: int = 0, records: list[dict] = RECORDS) -> shipping.RecordBatch:
    positions = [start + 200 * n for n in range(len(records))]
    return shipping.RecordBatch(id=contract.new_id(), at="2026-11-20T10:00:00-05:00", source="hub-ship", site="cali",
                                day=DAY, start=start, end=positions[-1] + 200, positions=positions, records=records)


@st.composite
def one_record_wrong(draw) -> bytes:
    records = copy.deepcopy(RECORDS)
    index = draw(st.integers(0, len(records) - 1))
    how = draw(st.sampled_from(["drop", "retype", "extra", "replace"]))
    key = draw(st.sampled_from(sorted(records[index])))
    if how == "drop":
        del records[index][key]
    elif how == "retype":
        records[index][key] = draw(JSON)
    elif how == "extra":
        records[index][draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in records[index]))] = draw(JSON)
    else:
        records[index] = draw(JSON)
    data = body(good_batch(draw(st.integers(0, 3)) * 10_000))
    data["records"] = records
    return json.dumps(data, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def central(tmp_path_factory, postgres):
    with psycopg.connect(postgres.dsn, autocommit=True) as db:
        db.execute("TRUNCATE records, refusals, site_days, sites")
    loop = Central(LocalCentral(tmp_path_factory.mktemp("central"), postgres.dsn, ["cali"]).config)
    acked = []
    loop.link.ack = lambda mid, qos: acked.append(mid)
    loop.acked = acked
    yield loop
    loop.stop()


CASES = st.one_of(payloads(good_batch()).map(lambda pair: pair[0]), one_record_wrong(),
                  GARBAGE.map(lambda pair: pair[0]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(payload=CASES)
def test_whatever_a_site_sends_the_central_goes_on_and_stores_only_good_records(central, payload):
    mid = len(central.acked) + 1
    central.inbox.put(mqtt_message(TOPIC, payload, mid))
    central.step(timeout=0)
    assert central.acked[-1] == mid          # acknowledged, stored or refused: never sent again forever


def test_after_the_fuzz_the_central_holds_only_good_records_and_takes_a_good_batch(central):
    central.inbox.put(mqtt_message(TOPIC, good_batch(10_000_000, RECORDS[:3]).to_json(), 99_999))
    central.step(timeout=0)
    for (record,) in central.db.execute("SELECT record FROM records"):
        check_record(record)
    central.db.commit()
    (days,) = central.db.execute("SELECT count(*) FROM site_days WHERE site = 'cali'").fetchone()
    central.db.commit()
    assert days == 1 and central.acked[-1] == 99_999
