"""Bad input at the central's page: a site's live picture of any shape (through the page's own decode), hostile
names from a site (escaped on every page, neutralised in the CSV), and requests a coordinator's browser would
never send. Real parts: PostgreSQL, the roll-up, the page over HTTPS."""
import copy
import csv
import io
import json
import queue
from datetime import date, datetime

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from appliance import contract
from appliance.contract import picture, shipping
from appliance.dev.local_front import LocalFront
from appliance.dev.network import LocalCentral
from appliance.ops import front
from appliance.site import BrokerAddress
from appliance.web.accounts import Accounts
from central import rollup
from central.config import READERS
from central.database import migrate
from central.web.app import CentralWeb
from central.web.live import Pictures
from tests.contract.test_fuzz_payloads import GARBAGE, near_valid, wire
from tests.harness.hub_feed import TZ, mqtt_message
from tests.harness.page import form_headers, request
from tests.harness.records import day_records

PASSWORD = "clave-de-la-central-1"
DAY = date(2026, 11, 20)
HOSTILE_NAME = '<script>alert("sede")</script> & =HIPERVINCULO("x")'
HOSTILE_ADVISOR = '=CMD|" /C calc"!A0 <b>asesor</b>'
TOPIC = shipping.central_topic("cali", shipping.PICTURE)
GOOD = picture.SitePicture(
    id="p-1", at="2026-11-20T10:00:00-05:00", source="hub-web", name="CIS Cali", target_min=20,
    queues=[{"service": "R", "service_name": "Registro y Aportes", "normal": 3, "preferential": 1,
             "longest_min": 12}],
    desks=[{"desk": 1, "desk_name": "Módulo 1", "status": "open", "advisor": "Ana María Peña", "number": "R-001",
            "service_name": "Registro y Aportes", "minutes": 4}],
    devices=[{"device": "kiosco-1", "role": "Dispensador de turnos", "state": "online", "printer": "low",
              "heard_at": "2026-11-20T09:59:50-05:00", "skew_s": -3, "software": "0.1.0", "site_file": "ab12"}],
    alarms=[{"kind": "wait", "subject": "R", "text": "Registro y Aportes: 1 turno espera más de 20 min."}],
    calls=[{"id": "c-1", "at": "2026-11-20T09:56:00-05:00", "source": "hub", "turn_id": "2026-11-20/kiosco-1/R001",
            "number": "R-001", "service": "R", "service_name": "Registro y Aportes", "preferential": False,
            "desk": 1, "desk_name": "Módulo 1"}])
INNER = {"queues": (picture.QueueLine, 0), "desks": (picture.DeskLine, 0), "devices": (picture.DeviceLine, 0),
         "alarms": (contract.Alarm, 0), "calls": (contract.Call, 0)}


@pytest.fixture(scope="module")
def pictures():
    """The page's pictures, fed as its link feeds them (the link is never started)."""
    return Pictures(BrokerAddress("127.0.0.1", 1), queue.Queue(), lambda: datetime(2026, 11, 20, 10, 5, tzinfo=TZ))


PICTURES = st.one_of(near_valid(GOOD, INNER).flatmap(wire), GARBAGE)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(payload=PICTURES, retained=st.booleans())
def test_a_picture_of_any_shape_is_refused_or_taken_and_the_last_good_one_stays(pictures, payload, retained):
    pictures.take(mqtt_message(TOPIC, GOOD.to_json()))
    message = mqtt_message(TOPIC, payload[0])
    message.retain = retained
    pictures.take(message)
    shown = pictures.of(["cali"])[0].picture
    assert shown is not None
    # Either the good picture, or one that passed the whole decode: every nested line is its record, checked.
    assert all(isinstance(line, picture.DeskLine) for line in shown.desks)
    assert all(isinstance(line, picture.DeviceLine) for line in shown.devices)
    assert len(shown.devices) <= picture.MAX_DEVICES and len(shown.alarms) <= picture.MAX_PICTURE_ALARMS


def test_a_picture_on_another_leaf_or_of_another_type_is_refused(pictures):
    pictures.take(mqtt_message(TOPIC, GOOD.to_json()))
    for topic, payload in ((shipping.central_topic("cali", shipping.RECORDS), GOOD.to_json()),
                           (TOPIC, shipping.SiteStatus(id="s-1", at=GOOD.at, source="hub-ship", site="cali",
                                                       name="x", services={}, software="1", site_file="2",
                                                       pending=0).to_json())):
        pictures.take(mqtt_message(topic, payload))
    assert pictures.of(["cali"])[0].picture == contract.expect(GOOD.to_json(), picture.SitePicture)


# --- the page ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(tmp_path_factory, postgres):
    """A central with two sites in PostgreSQL, one of them named and staffed by a hostile hand, rolled up."""
    with psycopg.connect(postgres.dsn, autocommit=True) as db:
        db.execute("TRUNCATE records, refusals, site_days, sites, turns, day_figures")
        for site, name in (("cali", HOSTILE_NAME), ("palmira", "CIS Palmira")):
            db.execute("INSERT INTO sites (site, name, services, target_min) VALUES (%s, %s, %s, 20)",
                       (site, name, Jsonb({"R": "Registro <y> Aportes"})))
            records = _day(site)
            with db.cursor().copy("COPY records (site, id, day, pos, kind, at, record) FROM STDIN") as copy_in:
                for pos, record in enumerate(records):
                    copy_in.write_row((site, record["id"], DAY, pos, record["kind"], record["at"], Jsonb(record)))
            db.execute("INSERT INTO site_days (site, day, stored_to, records) VALUES (%s, %s, %s, %s)",
                       (site, DAY, len(records), len(records)))
    with psycopg.connect(postgres.dsn) as db:
        for site in ("cali", "palmira"):
            rollup.roll(db, site, DAY, {"R": "Registro <y> Aportes"})
        db.commit()
    central = LocalCentral(tmp_path_factory.mktemp("central"), postgres.dsn, ["cali", "palmira"])
    Accounts(central.config.web.state).add("nacional", PASSWORD)
    web = CentralWeb(central.config)
    web.start()
    yield web
    web.stop()


def _day(site: str) -> list[dict]:
    records = copy.deepcopy(day_records(DAY)[:40])
    for record in records:
        record["id"] = f"{site}-{record['id']}"
        if "advisor" in record:
            record["advisor"] = HOSTILE_ADVISOR
    return records


def cookie(web: CentralWeb) -> str:
    status, headers, _ = request(web.config, web.port, "POST", "/ingresar", headers=form_headers(web),
                                 body=f"usuario=nacional&clave={PASSWORD}".encode())
    assert status == 303
    return headers["set-cookie"].split(";")[0].split("=", 1)[1]


def ask(web: CentralWeb, path: str) -> tuple[int, str]:
    status, _, body = request(web.config, web.port, "GET", path, cookie=cookie(web))
    return status, body


@pytest.mark.parametrize("path, status, says", [
    ("/informe?desde=2026-13-01", 400, "La fecha inicial «2026-13-01» no es válida"),
    ("/informe?desde=hoy", 400, "no es válida"),
    ("/informe?desde=2025-01-01&hasta=2026-11-20", 400, "el máximo es 366"),
    ("/informe?desde=2026-11-20&hasta=2026-11-01", 400, "La fecha inicial es posterior a la final"),
    ("/informe?sede=bogota", 403, "No tiene acceso a la sede «bogota»"),
    ("/informe?sede=%3Cscript%3E", 403, "No tiene acceso a la sede «&lt;script&gt;»"),
    ("/exportar/turnos.csv?desde=2026-02-30", 400, "no es válida"),
    ("/informe?" + "&".join(f"sede=s{n}" for n in range(30)), 400, "demasiados campos"),
    ("/sedes/%3Cscript%3E", 404, "La página que busca no existe."),
    ("/sedes/bogota", 404, "La página que busca no existe."),
])
def test_a_bad_request_gets_a_clear_spanish_answer_and_no_site_s_data(page, path, status, says):
    got, body = ask(page, path)
    assert (got, says in body) == (status, True), body[-600:]
    assert "Traceback" not in body and "Informe Turnero consolidado" not in body     # no figures with the refusal


def test_a_hostile_site_name_and_advisor_are_escaped_on_every_page_and_neutralised_in_the_csv(page):
    for path in ("/sedes", "/equipos", "/informe?desde=2026-11-20", "/informe.html?desde=2026-11-20", "/exportar"):
        status, body = ask(page, path)
        assert status == 200 and "<script>" not in body and "<b>asesor</b>" not in body, path
    status, body = ask(page, "/informe?desde=2026-11-20")
    assert "&lt;script&gt;alert(" in body and "&lt;b&gt;asesor&lt;/b&gt;" in body     # shown, as text
    status, body = ask(page, "/exportar/turnos.csv?desde=2026-11-20&sede=cali")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows and {row["advisor"] for row in rows} - {""} == {"'" + HOSTILE_ADVISOR}     # "": not called yet
    assert {row["service_name"] for row in rows} == {"Registro <y> Aportes"}


def test_the_api_answers_json_errors_in_spanish(page):
    status, _, body = request(page.config, page.port, "GET", "/api/sedes")
    assert status == 401 and json.loads(body) == {"error": "Inicie sesión para ver esta página."}


def test_a_bi_tool_reads_the_views_and_nothing_else(postgres, page):
    with psycopg.connect(postgres.dsn, autocommit=True) as db:
        db.execute(f"DROP ROLE IF EXISTS powerbi; DROP ROLE IF EXISTS {READERS}")
        db.execute(f"CREATE ROLE {READERS} NOLOGIN; CREATE ROLE powerbi LOGIN IN ROLE {READERS}")
    migrate(postgres.dsn)                   # at the central's next start: the grants
    with psycopg.connect(postgres.dsn, user="powerbi") as bi:
        rows = bi.execute("SELECT sede, nombre_servicio, asesor, espera_segundos, resultado FROM bi.turnos "
                          "WHERE sede = 'palmira' ORDER BY tomado").fetchall()
        assert rows and rows[0][:3] == ("palmira", "Registro <y> Aportes", HOSTILE_ADVISOR)
        assert bi.execute("SELECT count(*) FROM bi.sedes").fetchone()[0] == 2
        bi.rollback()
        for table in ("records", "sites", "turns", "day_figures", "refusals"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(f"SELECT 1 FROM {table}")
            bi.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("DELETE FROM bi.sedes")     # a view of one table could take it: not this role


def test_the_central_s_page_behind_its_nginx_front_as_installed(tmp_path, postgres, page):
    """nginx with the front install writes (front.front_text), the page on its loopback port (front=True):
    sign-in, the pages and the headers through it; a burst of sign-ins from one address is paced by nginx."""
    central = LocalCentral(tmp_path / "central", postgres.dsn, ["cali", "palmira"])
    Accounts(central.config.web.state).add("nacional", PASSWORD)
    web = CentralWeb(central.config, front=True)
    web.start()
    try:
        with LocalFront(tmp_path / "front", central.config, front.front_text(central.config.web, "127.0.0.1")):
            port = central.config.web.port
            headers = {**form_headers(web), "Origin": f"https://127.0.0.1:{port}"}
            status, answer, _ = request(central.config, port, "POST", "/ingresar", headers=headers,
                                        body=f"usuario=nacional&clave={PASSWORD}".encode())
            assert status == 303
            token = answer["set-cookie"].split(";")[0].split("=", 1)[1]
            status, answer, body = request(central.config, port, "GET", "/informe?desde=2026-11-20", cookie=token)
            assert status == 200 and "Comparación de sedes" in body and "CIS Palmira" in body
            assert answer["content-security-policy"].startswith("default-src 'none'")
            codes = [request(central.config, port, "POST", "/ingresar", headers=headers,
                             body=b"usuario=nacional&clave=no-es-la-clave")[0] for _ in range(12)]
            assert 429 in codes and set(codes) <= {401, 429}
    finally:
        web.stop()


def test_with_the_database_away_the_page_says_so_in_spanish(tmp_path):
    central = LocalCentral(tmp_path / "central", f"host={tmp_path}/nowhere dbname=turnero", ["cali"])
    Accounts(central.config.web.state).add("nacional", PASSWORD)
    web = CentralWeb(central.config)
    web.start()
    try:
        for path in ("/sedes", "/informe?desde=2026-11-20", "/exportar/turnos.csv?desde=2026-11-20"):
            status, body = ask(web, path)
            assert status == 503 and "La base de datos de la central no responde" in body, path
    finally:
        web.stop()
