"""Every key of the shipped site file, taken away or given a value of the wrong type: one clear problem naming
that key, and no program starts half-configured. (test_site_file.py covers wrong values of the right type.)"""
import copy
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from appliance import site as site_config

TURNERO = Path(sys.executable).with_name("turnero")
EXAMPLE = tomllib.loads(site_config.EXAMPLE.read_text(encoding="utf-8"))
# Keys without a default: a site file without them is refused. Every other key may be left out.
REQUIRED = {"site", "site.name", "broker", "hours", "hours.days", "hours.periods", "ticket", "services", "kiosks",
            "desks", "desk_pins", "desk_pins.next", "desk_pins.status_led", "desk_pins.rating",
            "desk_pins.rating_leds", "displays", "web.users", "ticket.notice", "appointments.capacity",
            "appointments.address",
            "services[5].short_name"}   # "Servicios Financieros" is too long for the desk's counter display
REQUIRED_IN_EACH = {"services": {"letter", "name"}, "kiosks": {"id", "buttons"}, "buttons": {"pin", "service"},
                    "printer": {"kind"}, "desks": {"number", "services"}, "displays": {"id"},
                    "users": {"name", "password_hash"}}
WRONG = {str: 7, int: "7", float: "1,5", bool: "sí", list: "R", dict: 7}


def toml(value) -> str:
    """TOML for a value (inline tables and arrays: a whole site file fits on a few lines)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)      # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(key, ensure_ascii=False)} = {toml(item)}" for key, item in value.items()) + "}"


def document(data: dict) -> str:
    return "\n".join(f"{json.dumps(key, ensure_ascii=False)} = {toml(value)}" for key, value in data.items())


def keys(node, path: str = "", trail: tuple = ()):
    """(key as the site file's problems name it, the way to it in the parsed tree, its value)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            yield where, (*trail, key), value
            yield from keys(value, where, (*trail, key))
    elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        for i, item in enumerate(node):
            yield from keys(item, f"{path}[{i + 1}]", (*trail, i))


def required(where: str, trail: tuple) -> bool:
    last = trail[-1]
    parent = next((step for step in reversed(trail[:-1]) if isinstance(step, str)), None)
    return where in REQUIRED or last in REQUIRED_IN_EACH.get(parent, ())


def changed(trail: tuple, value=None, *, remove: bool = False) -> str:
    data = copy.deepcopy(EXAMPLE)
    parent = data
    for step in trail[:-1]:
        parent = parent[step]
    if remove:
        del parent[trail[-1]]
    else:
        parent[trail[-1]] = value
    return document(data)


def problems_of(text: str) -> list[str]:
    with pytest.raises(site_config.ConfigError) as error:
        site_config.parse(text)
    return error.value.problems


def names(problems: list[str], where: str) -> bool:
    return any(p.startswith((f"{where}:", f"{where}.")) for p in problems)


ALL_KEYS = list(keys(EXAMPLE))


def test_the_example_written_back_is_the_same_site():
    assert site_config.parse(document(EXAMPLE)) == site_config.load(site_config.EXAMPLE)
    assert {"desks[2].services", "kiosks[1].buttons[7].prefix", "kiosks[1].printer.vendor_id", "desk.counter.baudrate",
            "web.http_port"} <= {where for where, _, _ in ALL_KEYS}


@pytest.mark.parametrize("where, trail, value", ALL_KEYS, ids=[k[0] for k in ALL_KEYS])
def test_a_value_of_the_wrong_type_is_named_by_its_key(where, trail, value):
    wrong = WRONG[type(value)]
    problems = problems_of(changed(trail, wrong))
    assert names(problems, where), problems
    assert all(p.count(":") >= 1 and p.split(":")[1].strip() for p in problems)


@pytest.mark.parametrize("where, trail, value", ALL_KEYS, ids=[k[0] for k in ALL_KEYS])
def test_a_missing_key_is_named_when_it_is_required_and_defaulted_otherwise(where, trail, value):
    text = changed(trail, remove=True)
    if required(where, trail):
        assert names(problems_of(text), where)
    else:
        site_config.parse(text)


def scalar_lists(node, path: str = "", trail: tuple = ()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from scalar_lists(value, f"{path}.{key}" if path else key, (*trail, key))
    elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        for i, item in enumerate(node):
            yield from scalar_lists(item, f"{path}[{i + 1}]", (*trail, i))
    elif isinstance(node, list):
        yield path, trail


def item(trail: tuple):
    node = EXAMPLE
    for step in trail:
        node = node[step]
    return node[0]


LISTS = [(where, trail, wrong) for where, trail in scalar_lists(EXAMPLE) for wrong in (7, "7", True, [5], {"a": 1}, 1.5)
         if type(wrong) is not type(item(trail))]


@pytest.mark.parametrize("where, trail, wrong", LISTS, ids=[f"{w}-{v!r}" for w, _, v in LISTS])
def test_an_item_of_the_wrong_type_in_a_list_is_named_by_the_lists_key(where, trail, wrong):
    data = copy.deepcopy(EXAMPLE)
    items = data
    for step in trail:
        items = items[step]
    items[0] = wrong
    assert names(problems_of(document(data)), where)


# --- the command line: exit status 2 and the message, never a traceback ------------------------------------------

BAD_FILES = {
    "a wrong type": (site_config.EXAMPLE.read_text(encoding="utf-8").replace('services = ["R", "S", "F"]', 'services = "R"'),
                     "desks[1].services: must be a list, not 'R'"),
    "a missing key": (site_config.EXAMPLE.read_text(encoding="utf-8").replace("next = 17", ""),
                      "desk_pins.next: is missing"),
    "not TOML": ("[site\nname = 1", "not valid TOML"),
    "not UTF-8": ('[site]\nname = "Caja de Compensaci\xf3n"\n'.encode("latin-1"), "not UTF-8 text"),
}


ROLES = [["hub", "--state", "{state}"], ["kiosk", "--id", "kiosco-1", "--simulated", "--state", "{state}"],
         ["desk", "--number", "1", "--simulated", "--state", "{state}"], ["display", "--id", "pantalla-1"]]
# `turnero check` with every kind of bad file; each role with one of them.
RUNS = [(["check"], bad) for bad in BAD_FILES] + list(zip(ROLES, BAD_FILES))


@pytest.mark.parametrize("role, bad", RUNS, ids=[f"{role[0]}-{bad}" for role, bad in RUNS])
def test_a_program_given_a_bad_site_file_says_what_is_wrong_and_does_not_start(tmp_path, role, bad):
    content, message = BAD_FILES[bad]
    site = tmp_path / "site.toml"
    site.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    arguments = [part.format(state=tmp_path / "state") for part in role]
    done = subprocess.run([str(TURNERO), *arguments, "--config", str(site)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and f"{site}: the site configuration has" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("*"))   # nothing started


@pytest.mark.parametrize("address, why", [
    ("http://turno.cis-cali.example", "must start with https://"),
    ("turno.cis-cali.example", "must start with https://"),
    ("https://turno.cis-cali.example/?sede=1", "no user, query or fragment"),
    ("https://ana@turno.cis-cali.example", "no user, query or fragment"),
    ("https://turno.una-direccion-demasiado-larga.example", "at most 40 characters"),
    ("https://turno cis", "no user, query or fragment"),
])
def test_the_public_address_the_tickets_print_must_be_https_and_short(address, why):
    problems = problems_of(document(EXAMPLE) + f'\n[public]\naddress = "{address}"\n')
    assert any(p.startswith("public.address:") and why in p for p in problems), problems


CENTRAL = '\n[central]\nsite = "cali"\nhost = "central.comfenalco.example"\n'


def test_a_site_without_public_has_no_page_and_one_with_it_serves_nothing_from_the_hub_unless_told():
    assert site_config.load(site_config.EXAMPLE).public is None
    public = site_config.parse(document(EXAMPLE) + CENTRAL +
                               '\n[public]\naddress = "https://turno.cis-cali.example/"\n').public
    assert (public.address, public.listen) == ("https://turno.cis-cali.example", False)
    assert public.secret_file == site_config.DEFAULT_CREDENTIALS_DIR / "public-secret"


@pytest.mark.parametrize("listen", ["", "listen = false\n"])
def test_an_address_nobody_would_serve_is_refused_naming_listen_and_central(listen):
    """Neither the hub (no listen) nor a central (no [central]) would answer the tickets' address."""
    problems = problems_of(document(EXAMPLE) + f'\n[public]\naddress = "https://turno.cis-cali.example"\n{listen}')
    assert [p for p in problems if p.startswith("public.")] == [
        'public.listen: a site without [central] serves the "Mi turno" page itself: set listen = true (and host, '
        'on the guest Wi-Fi), or add [central] so that the central serves [public] address (docs/mi-turno.md)']
