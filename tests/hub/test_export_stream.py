"""The CSV of a period is made and sent day by day: the streamed file is the concatenation of its days, on the
command line and from the coordinators' page (chunked), and the page makes at most a few at once."""
import time
from datetime import date, datetime, timedelta

from appliance import site as site_config
from appliance.cli import main as turnero
from appliance.records.journal import DayStore
from appliance.records.turns_csv import CHUNK_BYTES, csv_chunks, write_csv
from hub.export import rows
from appliance.web.pages import MAX_PERIODS
from tests.harness.page import ask, make_page, page_config, sign_in
from tests.harness.roles import wait_until

CONFIG = site_config.load(site_config.EXAMPLE)
NAMES = CONFIG.service_names()
FIRST, DAYS, TURNS = date(2026, 11, 16), 5, 120


def a_busy_week(days_dir) -> list[date]:
    """Five days of 120 turns: each a ticket, a call and a close, most of them rated."""
    store, days = DayStore(days_dir), [FIRST + timedelta(days=n) for n in range(DAYS)]
    for day in days:
        start, records = datetime.combine(day, datetime.min.time(), CONFIG.timezone) + timedelta(hours=8), []
        stamp = lambda minutes: (start + timedelta(minutes=minutes)).isoformat()  # noqa: E731
        for i in range(TURNS):
            common = {"day": day.isoformat(), "turn_id": f"{day}/kiosco-1/R{i + 1:03d}"}
            records += [
                {**common, "id": f"t{day}{i}", "kind": "ticket", "at": stamp(i), "number": f"R-{i + 1:03d}",
                 "service": "R", "preferential": i % 4 == 0, "kiosk": "kiosco-1", "received_at": stamp(i)},
                {**common, "id": f"c{day}{i}", "kind": "call", "at": stamp(i + 9), "desk": 1 + i % 3,
                 "advisor": "Ana María Peña", "request_id": f"q{day}{i}", "recall": False},
                {**common, "id": f"x{day}{i}", "kind": "close", "at": stamp(i + 20), "desk": 1 + i % 3,
                 "outcome": "attended", "request_id": f"q{day}{i}b"}]
        store.append(records)
    store.close()
    return days


def test_a_streamed_csv_of_many_days_is_the_concatenation_of_the_days(tmp_path):
    days = a_busy_week(tmp_path / "days")
    store = DayStore(tmp_path / "days")
    chunks = list(csv_chunks(rows(store, days[0], days[-1], NAMES)))
    single = [b"".join(csv_chunks(rows(store, day, day, NAMES))) for day in days]
    header = single[0][:single[0].index(b"\r\n") + 2]
    assert header.startswith(b"\xef\xbb\xbfturn_id;number;")
    assert b"".join(chunks) == header + b"".join(one[len(header):] for one in single)
    assert len(chunks) > 2 and all(len(chunk) < CHUNK_BYTES + 1024 for chunk in chunks)

    out = tmp_path / "turnos.csv"
    assert write_csv(out, rows(store, days[0], days[-1], NAMES)) == DAYS * TURNS
    assert out.read_bytes() == b"".join(chunks) and sorted(p.name for p in tmp_path.iterdir()) == ["days",
                                                                                                   "turnos.csv"]
    command_line = tmp_path / "cli.csv"
    assert turnero(["export", "--config", str(site_config.EXAMPLE), "--state", str(tmp_path), "--from",
                    days[0].isoformat(), "--to", days[-1].isoformat(), "--out", str(command_line)]) == 0
    assert command_line.read_bytes() == out.read_bytes()


def test_the_page_sends_the_csv_in_chunks_and_makes_only_a_few_at_once(broker, tmp_path):
    days = a_busy_week(tmp_path / "hub" / "days")
    web = make_page(page_config(CONFIG, broker), tmp_path / "hub")
    web.start()
    try:
        cookie = sign_in(web)
        path = f"/exportar/turnos.csv?desde={days[0]}&hasta={days[-1]}"
        status, headers, body = ask(web, "GET", path, cookie=cookie)        # http.client reassembles the chunks
        assert status == 200 and headers["transfer-encoding"] == "chunked"
        assert headers["content-disposition"].startswith(f'attachment; filename="turnos_{days[0]}_')
        expected = b"".join(csv_chunks(rows(DayStore(tmp_path / "hub" / "days"), days[0], days[-1], NAMES)))
        assert body.encode() == expected

        for _ in range(MAX_PERIODS):        # as many downloads and reports as the page makes at once
            assert web.periods.acquire(blocking=False)
        for busy in (path, f"/informe?desde={days[0]}&hasta={days[-1]}"):
            status, headers, body = ask(web, "GET", busy, cookie=cookie)
            assert status == 429 and headers["retry-after"] == "30"
            assert "Espere a que termine alguno y vuelva a intentarlo" in body
        web.periods.release()
        assert ask(web, "GET", path, cookie=cookie)[0] == 200
        assert ask(web, "HEAD", path, cookie=cookie)[0] == 200     # its body never made: the slot given back
        wait_until(lambda: web.periods.acquire(blocking=False), what="the one free slot free again")
    finally:
        web.stop()


def test_without_from_the_command_line_exports_the_sites_today_not_the_machines(tmp_path, monkeypatch):
    # 25 hours apart: whatever the hour, the site (UTC+14) is a day or two ahead of the machine (UTC-11).
    toml = tmp_path / "site.toml"
    toml.write_text(site_config.EXAMPLE.read_text(encoding="utf-8").replace(
        'timezone = "America/Bogota"', 'timezone = "Pacific/Kiritimati"', 1), encoding="utf-8")
    config = site_config.load(toml)
    today = config.today()
    store = DayStore(tmp_path / "days")
    store.append([{"day": today.isoformat(), "turn_id": f"{today}/kiosco-1/R001", "id": "t1", "kind": "ticket",
                   "at": datetime.now(config.timezone).isoformat(), "number": "R-001", "service": "R",
                   "preferential": False, "kiosk": "kiosco-1", "received_at": datetime.now(config.timezone).isoformat()}])
    store.close()
    monkeypatch.setenv("TZ", "Pacific/Pago_Pago")
    time.tzset()
    try:
        assert date.today() != today
        out = tmp_path / "hoy.csv"
        assert turnero(["export", "--config", str(toml), "--state", str(tmp_path), "--out", str(out)]) == 0
    finally:
        monkeypatch.undo()
        time.tzset()
    assert f"{today}/kiosco-1/R001" in out.read_text(encoding="utf-8-sig")


def test_a_formula_after_spaces_is_text_and_each_time_has_a_column_a_spreadsheet_takes_for_a_date(tmp_path):
    day = FIRST.isoformat()
    store = DayStore(tmp_path / "days")
    store.append([
        {"id": "t", "kind": "ticket", "day": day, "at": f"{day}T09:03:07.250-05:00",
         "turn_id": f"{day}/kiosco-1/R001", "number": "R-001", "service": "R", "preferential": False, "kiosk": "kiosco-1",
         "received_at": f"{day}T09:03:07.300-05:00"},
        {"id": "c", "kind": "call", "day": day, "at": f"{day}T09:15:00.000-05:00", "turn_id": f"{day}/kiosco-1/R001",
         "desk": 1, "advisor": "  =HYPERLINK(\"http://x\")", "request_id": "r", "recall": False}])
    store.close()
    text = b"".join(csv_chunks(rows(store, FIRST, FIRST, NAMES))).decode("utf-8-sig")
    header, row = (line.split(";") for line in text.splitlines())
    cell = dict(zip(header, row))
    assert cell["advisor"] == "\"'  =HYPERLINK(\"\"http://x\"\")\""     # an apostrophe first: text, even trimmed
    assert (cell["issued_at"], cell["issued_local"]) == (f"{day}T09:03:07.250-05:00", f"{day} 09:03:07")
    assert (cell["called_local"], cell["service_end_local"]) == (f"{day} 09:15:00", "")
    assert header[-7:] == ["preferential_category", "issued_local", "called_local", "service_end_local", "manual",
                           "appointment", "appointment_local"]
    assert (cell["appointment"], cell["appointment_local"]) == ("no", "")
