"""The Informe as a coordinator reads it, in headless Chromium: at 1280 px no table of figures is cut, whatever
the length of a name (an e-mail address typed as an advisor's); on a 390 px phone the tables read without
sideways scrolling, each row a card of named figures. Screenshots go to TURNERO_SHOTS when it is set."""
import os
from datetime import timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from hub.report.figures import build
from hub.report.render import render_document
from tests.harness.chromium import CHROMEDRIVER, chromium_options, emulate_width
from tests.harness.hub_feed import START, command, feed, request, ticket

LONG_NAME = "ana.maria.pena.rodriguez.villamizar@comfenalcovalle.com.co"


@pytest.fixture
def browser(tmp_path):
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=chromium_options(tmp_path / "chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def informe(hub, tmp_path) -> Path:
    """A morning of desk 1, whose advisor's name is one long word."""
    feed(hub, *(ticket(hub, n) for n in range(1, 6)), command("s1", "advisor", desk=1, advisor=LONG_NAME))
    for rid in "abcde":
        hub.clock.moment += timedelta(minutes=7)
        feed(hub, request(1, rid))
    page = tmp_path / "informe.html"
    page.write_text(render_document(build(hub.store, START.date(), START.date(), hub.config,
                                          now=hub.clock.moment)), encoding="utf-8")
    return page


def tables_that_scroll(driver) -> list[str]:
    """The tables of figures wider than their frame, by their section's title."""
    return driver.execute_script("""return [...document.querySelectorAll('.table-wrap')]
        .filter(frame => frame.scrollWidth > frame.clientWidth + 0.5)
        .map(frame => frame.previousElementSibling.textContent);""")


@pytest.mark.parametrize("width", [1280, 390])
def test_no_table_of_the_informe_scrolls_sideways_with_a_long_name(browser, informe, width):
    browser.get(informe.as_uri())
    emulate_width(browser, width)
    assert tables_that_scroll(browser) == []
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    assert LONG_NAME in browser.execute_script("return document.body.innerText").replace("\n", "")
    if width < 600:   # each figure named on the phone's card
        labels = browser.execute_script("""return [...document.querySelectorAll('table.figures td')].slice(0, 3)
            .map(td => getComputedStyle(td, '::before').content + ' ' + td.textContent);""")
        assert labels == ['"Turnos" 5', '"Normales" 5', '"Preferenciales" 0'], labels
    if os.environ.get("TURNERO_SHOTS"):
        height = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
        emulate_width(browser, width, int(height))
        browser.save_screenshot(str(Path(os.environ["TURNERO_SHOTS"]) / f"informe-{width}.png"))
