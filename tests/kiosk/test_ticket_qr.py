"""The QR code on the ticket: read back from the bytes a kiosk sends its printer, drawn by the printer or sent as
an image, with its address in text under it, on both paper widths; and a ticket as before where the site has no
page or the kiosk has no secret."""
import dataclasses
import secrets

import pytest
from gpiozero.pins.mock import MockFactory

from appliance import site as site_config
from appliance.core.public_code import public_code, ticket_address
from appliance.dev.always_open import AlwaysOpen
from appliance.drivers.printer import SimulatedPrinter
from appliance.kiosk.unit import KioskUnit
from appliance.site import PublicSettings
from tests.harness.escpos_text import printed_lines, printed_qr_codes, printed_text
from tests.harness.roles import SettableClock

CONFIG = site_config.load(site_config.EXAMPLE)
ADDRESS = "https://turno.cis-cali.example"


def kiosk(tmp_path, config, profile: str = "TM-T20II"):
    printer = SimulatedPrinter(profile)
    unit = KioskUnit(config, "kiosco-1", tmp_path / "kiosk", pin_factory=MockFactory(), printer=printer,
                     monotonic=SettableClock(1000.0), opening=AlwaysOpen())
    return unit, printer


def with_page(tmp_path, paper_mm: int = 80) -> tuple[site_config.SiteConfig, bytes]:
    secret = secrets.token_hex(32).encode()
    (tmp_path / "secret").write_bytes(secret + b"\n")
    public = PublicSettings(address=ADDRESS, secret_file=tmp_path / "secret")
    return dataclasses.replace(CONFIG, paper_mm=paper_mm, public=public), secret


@pytest.mark.parametrize("paper_mm", [58, 80])
@pytest.mark.parametrize("profile, drawn", [("TM-T20II", "native"), ("POS-5890", "image")])
def test_the_ticket_carries_its_pages_qr_code_and_the_address_under_it(tmp_path, paper_mm, profile, drawn):
    config, secret = with_page(tmp_path, paper_mm)
    unit, printer = kiosk(tmp_path, config, profile)
    button = config.kiosks["kiosco-1"].buttons[0]
    first, second = unit.issue(button), unit.issue(button)
    turns = [f"{unit.numbering.day}/kiosco-1/R00{n}" for n in (1, 2)]
    addresses = [ticket_address(ADDRESS, public_code(secret, turn)) for turn in turns]
    assert [first.qr, second.qr] == addresses and addresses[0] != addresses[1]
    assert printed_qr_codes(printer.output) == [(drawn, address) for address in addresses]
    lines = [text for text, _width in printed_lines(printer.output, profile)]
    typed = addresses[0].removeprefix("https://")
    if paper_mm == 80:
        assert typed in lines
    else:      # 32 characters a line: the host, then the path, never cut in the middle of either
        host, path = typed.split("/", 1)
        assert lines[lines.index(host) + 1] == f"/{path}"
    assert "Siga su turno desde su celular:" in lines
    assert all(len(text) <= {58: 32, 80: 48}[paper_mm] for text in lines)


def test_the_code_names_no_turn_and_another_sites_secret_gives_another(tmp_path):
    config, secret = with_page(tmp_path)
    turn = "2026-12-06/kiosco-1/R001"
    code = public_code(secret, turn)
    assert code == public_code(secret, turn + ">V")        # a transferred turn keeps its ticket's code
    assert code != public_code(secrets.token_hex(32).encode(), turn)
    assert not any(part in code for part in ("r001", "2026", "kiosco"))


def test_without_a_page_or_without_the_secret_the_ticket_is_as_before(tmp_path, caplog):
    plain, plain_printer = kiosk(tmp_path / "sin-pagina", CONFIG)
    plain.issue(CONFIG.kiosks["kiosco-1"].buttons[0])
    config, _ = with_page(tmp_path)
    (tmp_path / "secret").unlink()
    missing, missing_printer = kiosk(tmp_path / "sin-secreto", config)
    missing.issue(config.kiosks["kiosco-1"].buttons[0])
    for printer in (plain_printer, missing_printer):
        assert printed_qr_codes(printer.output) == []
        assert "celular" not in printed_text(printer.output) and "R-001" in printed_text(printer.output)
    assert "the tickets carry no QR code until it is there" in caplog.text
