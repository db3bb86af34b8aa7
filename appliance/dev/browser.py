"""Headless Chromium for what reads a page as a browser shows it (the demo's screenshots of the central's pages,
the tests): the Debian packages' binaries, with both paths given so that Selenium Manager never runs, trusting
one CA in its own NSS store as a coordinator's browser does once the CA is imported (docs/install.md)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM, CHROMEDRIVER, CERTUTIL = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver"), Path("/usr/bin/certutil")


class MissingTool(RuntimeError):
    """A binary the browser needs is not installed; the text says which package brings it."""


def require(path: Path, package: str) -> None:
    if not os.access(path, os.X_OK):
        raise MissingTool(f"{path} is missing: apt-get install {package} (the ./run bootstrap installs it)")


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


def trusting_chromium(folder: Path, ca_file: Path) -> webdriver.Chrome:
    """A headless Chromium whose profile lives in `folder` and that trusts `ca_file`, and nothing else relaxed;
    its downloads go to `folder`/descargas (`driver.downloads`)."""
    require(CERTUTIL, "libnss3-tools")
    home = Path(folder) / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for command in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "turnero CA", "-i", str(ca_file)]):
        subprocess.run([str(CERTUTIL), "-d", f"sql:{nssdb}", *command], check=True, capture_output=True, timeout=30)
    options = chromium_options(Path(folder) / "chromium-profile")
    downloads = Path(folder) / "descargas"
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
    return driver


def save_shot(driver, path: Path, width: int = 1366) -> None:
    """The whole page, not only the window: the viewport is made as tall as the page for the picture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    phone = width < 600
    metrics = {"width": width, "height": 844 if phone else 768, "deviceScaleFactor": 1, "mobile": phone}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    height = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": max(metrics["height"],
                                                                                          int(height))})
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
