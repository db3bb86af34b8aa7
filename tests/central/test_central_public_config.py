"""central.toml's [public]: the sites' "Mi turno" page beside the coordinators' page, each problem named by its key."""
from pathlib import Path

import pytest

from appliance.site import ConfigError
from central.config import load

BASE = '[central]\nname = "Comfenalco Valle"\n'
PAGE = ('[public]\naddress = "https://turno.comfenalco.example"\ncert_file = "/etc/turnero/central/public.crt"\n'
        'key_file = "/etc/turnero/central/public.key"\n')


def loaded(tmp_path: Path, text: str):
    path = tmp_path / "central.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        loaded(tmp_path, text)
    return error.value.problems


def test_without_public_the_central_serves_no_page_and_with_it_the_defaults_leave_web_alone(tmp_path):
    assert loaded(tmp_path, BASE).public is None
    public = loaded(tmp_path, BASE + PAGE).public
    assert (public.address, public.host, public.port, public.http_port, public.app_port) == (
        "https://turno.comfenalco.example", "", 8444, 0, 8082)
    assert public.cert_file == Path("/etc/turnero/central/public.crt")


def test_its_own_address_may_have_443_and_80(tmp_path):
    text = BASE + '[web]\nhost = "10.0.0.5"\n' + PAGE + 'host = "203.0.113.7"\nport = 443\nhttp_port = 80\n'
    assert (loaded(tmp_path, text).public.port, loaded(tmp_path, text).public.http_port) == (443, 80)


@pytest.mark.parametrize("change, expected", [
    ('port = 443\n', "public.port: 443 is web.port already"),
    ('http_port = 80\n', "public.http_port: 80 is web.http_port already"),
    ('app_port = 8081\n', "public.app_port: 8081 is web.app_port already"),
    ('app_port = 8444\n', "public: port, http_port and app_port must differ"),
    ('port = 70000\n', "public.port: must be a TCP port from 1 to 65535, not 70000"),
    ('size = 3\n', "public.size: unknown key"),
])
def test_a_page_that_would_take_the_coordinators_ports_or_is_malformed_is_refused_by_key(tmp_path, change, expected):
    found = problems(tmp_path, BASE + PAGE + change)
    assert any(problem.startswith(expected) for problem in found), found


@pytest.mark.parametrize("page, expected", [
    (PAGE.replace("https://", "http://"), "public.address: must start with https://"),
    (PAGE.replace("turno.comfenalco.example", "turno.comfenalco.example/?a=1"), "public.address: must be an address"),
    (PAGE.replace('"/etc/turnero/central/public.key"', '"public.key"'), "public.key_file: must be an absolute path"),
    ('[public]\naddress = "https://turno.comfenalco.example"\n', "public.cert_file: is missing"),
])
def test_its_address_and_certificate_are_checked(tmp_path, page, expected):
    found = problems(tmp_path, BASE + page)
    assert any(problem.startswith(expected) for problem in found), found
