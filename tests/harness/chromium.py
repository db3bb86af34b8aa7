"""Headless Chromium for the tests that read a page as a browser shows it (the coordinators' page, the Informe
as a file): the Debian packages' binaries, with both paths given so that Selenium Manager never runs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium import webdriver

CHROMIUM, CHROMEDRIVER, CERTUTIL = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver"), Path("/usr/bin/certutil")


def require(path: Path, package: str) -> None:
    """CI installs these: a missing one is a failure to fix, never a silent skip."""
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: apt-get install {package} (the ./run bootstrap installs it for the tests)")


def chromium_options(profile: Path) -> webdriver.ChromeOptions:
    """A quiet headless Chromium with its own profile folder, in Colombian Spanish."""
    require(CHROMIUM, "chromium")
    require(CHROMEDRIVER, "chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1366,900", "--lang=es-CO"):
        options.add_argument(flag)
    return options


def emulate_width(driver, width: int, height: int = 844) -> None:
    """The page as a screen `width` CSS pixels wide shows it (a phone below 600)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                  "deviceScaleFactor": 1, "mobile": width < 600})
