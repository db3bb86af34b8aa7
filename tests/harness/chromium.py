"""Headless Chromium for the tests that read a page as a browser shows it (the coordinators' page, the Informe
as a file): the Debian packages' binaries, with both paths given so that Selenium Manager never runs."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

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


def trusting_browser(tmp_path: Path, ca_file: Path):
    """Headless Chromium that trusts the site CA as a coordinator's browser does once it is imported
    (docs/install.md): in its NSS certificate store, and nothing else is relaxed. A generator for a fixture: it
    yields the driver, then quits it."""
    require(CERTUTIL, "libnss3-tools")
    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for command in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "turnero site CA", "-i", str(ca_file)]):
        subprocess.run([str(CERTUTIL), "-d", f"sql:{nssdb}", *command], check=True, capture_output=True, timeout=30)

    options = chromium_options(tmp_path / "chromium-profile")
    downloads = tmp_path / "descargas"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False,
                                              "intl.accept_languages": "es-CO,es"})
    # Chromium on Linux takes its language from the environment (date fields as dd/mm/aaaa).
    service = Service(executable_path=str(CHROMEDRIVER), env={**os.environ, "LANGUAGE": "es_CO", "LANG": "es_CO.UTF-8",
                                                              "HOME": str(home)})
    driver = webdriver.Chrome(service=service, options=options)
    driver.downloads = downloads
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def full_page_shot(driver, path: Path, width: int) -> None:
    """The whole page, not only the window, as a screen `width` CSS pixels wide shows it (a phone below 600):
    the viewport is made as tall as the page for the picture."""
    phone = width < 600
    metrics = {"width": width, "height": 844 if phone else 768, "deviceScaleFactor": 1, "mobile": phone}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    height = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": max(metrics["height"],
                                                                                          int(height))})
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
