"""The site configuration: the shipped example is valid, and each wrong value is named with its key."""
from pathlib import Path

import pytest

from appliance import site as site_config


def example_text() -> str:
    return site_config.EXAMPLE.read_text(encoding="utf-8")


def test_the_shipped_example_is_a_complete_site():
    site = site_config.load(site_config.EXAMPLE)
    assert site.services["E"].name == "Educación"
    assert site.desks[1].name == "Módulo 1" and site.desks[2].advisor == "José Muñoz"
    assert [b.prefix for b in site.kiosks["kiosco-1"].buttons] == ["R", "S", "F", "E", "V", "C", "P", "M"]
    assert site.kiosks["kiosco-1"].buttons[-1].category == "persona_mayor"
    assert site.hours.text() == "Lunes a viernes de 8:00 a 12:00 y de 14:00 a 16:00"
    assert str(site.timezone) == "America/Bogota"


@pytest.mark.parametrize("old, new, message", [
    ('letter = "E"', 'letter = "e"', "services[4].letter: must be one capital letter A-Z, not 'e'"),
    ('services = ["R", "S", "F"]', 'services = ["R", "X"]', "desks[1].services: unknown service 'X'"),
    ("port = 8883", "port = 70000", "broker.port: must be a TCP port from 1 to 65535, not 70000"),
    ("port = 8883", 'port = "8883"', "broker.port: must be a whole number, not '8883'"),
    ('timezone = "America/Bogota"', 'timezone = "America/Bogote"', "site.timezone: unknown time zone"),
    ("next = 17", "next = 40", "desk_pins.next: must be a BCM GPIO number from 2 to 27, not 40"),
    ('periods = ["08:00-12:00", "14:00-16:00"]', 'periods = ["8-12"]', "hours.periods: '8-12' is not a period"),
    ('kind = "usb"', 'kind = "bluetooth"', "kiosks[1].printer.kind: must be one of"),
    ("paper_mm = 80", "paper_mm = 75", "ticket.paper_mm: must be 58 or 80, not 75"),
    ("[rating]", "[ratings]", "ratings: is not a known setting"),
    ('name = "Módulo 2"', 'name = "Módulo 2, el del fondo a la derecha junto a la ventana"',
     "desks[2].name: has 54 characters; at most 40 (the board carries it to the screens)"),
    ('name = "Educación"', 'name = "Educación\\u0007"', "services[4].name: has the unprintable character U+0007"),
    ("number = 2\n", "number = 1\n", "desks[2].number: desk 1 is configured twice"),
    ('"12-24" = "Nochebuena"', '"24-12" = "Nochebuena"', "hours.closed.24-12: '24-12' is not a date"),
    ('"12-31" = "fin de año"', '"12-31" = ""', "hours.closed.12-31: must be the day's name"),
    ('"2026-12-07" =', '"20261207" =', "hours.closed.20261207: '20261207' is not a date"),
    ('last_ticket = "15:45"', 'last_ticket = "16:30"', "hours.last_ticket: 16:30 must be within an opening"),
    ('last_ticket = "15:45"', 'last_ticket = "13:00"', "hours.last_ticket: 13:00 must be within an opening"),
    ('last_ticket = "15:45"', 'last_ticket = "3:45 pm"', "hours.last_ticket: '3:45 pm' is not a time of day"),
    ("port = 8443", 'port = 8443\nhost = "hub central"', "web.host: must be an address of the hub"),
    ("press_limit = 10", "press_limit = -1", "ticket.press_limit: must be from 0 (no limit) to 100"),
    ('"5213" = "Carlos', '"5216" = "Carlos', "desk.advisor_codes.5216: '5216' is not a code: four digits from 1 to 5"),
    ("kiosk_limit = 20", "kiosk_limit = -5", "ticket.kiosk_limit: must be from 0 (no limit) to 1000 tickets, not -5"),
    ('category = "persona_mayor"', 'category = "anciano"', "kiosks[1].buttons[8].category: 'anciano' is not a"),
    ('preferential = true\ncategory = "persona_mayor"', 'preferential = false\ncategory = "gestante"',
     "kiosks[1].buttons[8].category: is only for a preferential button"),
    ("attention_warning_minutes = 3", "attention_warning_minutes = 15",
     "desk.attention_warning_minutes: must be from 0 (no warning) to less than attention_limit_minutes (15)"),
    ("min_attention_seconds = 60", "min_attention_seconds = 900",
     "rating.min_attention_seconds: must be between 0 and 600 seconds, not 900"),
    ("pause = 18", "pause = 17", "desk_pins: a pin is used twice"),
    ('# [central]\n# site = "cali"', '[central]\nsite = "Cali"\nhost = "central.example.org"',
     "central.site: must be a short id of lower-case letters, digits and '-' (like \"cali\"), not 'Cali'"),
    ('# [central]\n# site = "cali"', '[central]\nsite = "cali"', "central.host: is missing"),
    ('# [central]\n# site = "cali"', '[central]\nsite = "cali"\nhost = "central example"\nport = 0',
     "central.host: must be the central's host name or address, not 'central example'"),
    ('# [central]\n# site = "cali"', '[central]\nsite = "cali"\nhost = "c.example.org"\nca_file = "ca.crt"',
     "central.ca_file: must be an absolute path like /etc/turnero/credentials/central-ca.crt, not 'ca.crt'"),
    ('encoding = "CP858"', 'encoding = "CP437"',
     "kiosks[1].printer.encoding: must be a code page that holds every Spanish letter (CP858, CP850, CP1252, "
     "ISO_8859-15), not 'CP437'"),
    ('name = "Salud"', 'name = "Salud “integral”"',
     "services[2].name: '“”' cannot be printed in code page CP858 (kiosks.kiosco-1 printer.encoding)"),
])
def test_a_wrong_value_is_reported_with_its_key(old, new, message):
    assert old in example_text()
    with pytest.raises(site_config.ConfigError) as error:
        site_config.parse(example_text().replace(old, new, 1))
    assert message in str(error.value)


def test_a_site_of_a_network_names_its_central_and_the_files_beside_its_credentials():
    text = example_text()
    for line in ("[central]", "site = ", "host = "):     # the example's table, commented out, taken in
        text = text.replace(f"# {line}", line, 1)
    config = site_config.parse(text)
    assert config.central == site_config.CentralLink(     # the example books appointments: the central's orders
        "cali", "central.comfenalco.example", 8883, Path("/etc/turnero/credentials/central-ca.crt"),
        Path("/etc/turnero/credentials/central"), orders=True)
    assert site_config.parse(example_text()).central is None


def test_a_site_whose_tickets_carry_the_mi_turno_code_names_its_address_and_its_guest_listener():
    text = example_text()
    for line in ("[public]", "address = ", "listen = ", "host = \"192", "cert_file = ", "key_file = "):
        text = text.replace(f"# {line}", line, 1)
    public = site_config.parse(text).public
    assert (public.address, public.listen, public.host, public.port) == (
        "https://turno.cis-cali.example", True, "192.168.50.2", 443)
    assert public.secret_file == Path("/etc/turnero/credentials/public-secret")


def test_every_problem_is_reported_at_once():
    text = example_text().replace("port = 8883", "port = 0").replace("next = 17", "next = 99")
    with pytest.raises(site_config.ConfigError) as error:
        site_config.parse(text)
    assert len(error.value.problems) == 2


def test_a_prefix_shared_by_two_kiosks_is_refused():
    second = '\n[[kiosks]]\nid = "kiosco-2"\n[[kiosks.buttons]]\npin = 5\nservice = "S"\n'
    text = example_text().replace("# Desks:", second + "\n# Desks:")
    with pytest.raises(site_config.ConfigError, match="'S' is already the prefix of kiosk 'kiosco-1'"):
        site_config.parse(text)


def test_a_missing_file_and_broken_toml_are_clear(tmp_path):
    with pytest.raises(site_config.ConfigError, match="cannot read the file"):
        site_config.load(tmp_path / "nope.toml")
    with pytest.raises(site_config.ConfigError, match="not valid TOML"):
        site_config.parse("[site\nname = 1")


def test_the_page_listens_on_every_interface_unless_the_site_file_names_one_address():
    assert site_config.load(site_config.EXAMPLE).web.host == "0.0.0.0"
    behind_a_proxy = site_config.parse(example_text().replace("port = 8443", 'port = 8443\nhost = "127.0.0.1"'))
    assert behind_a_proxy.web.host == "127.0.0.1"
