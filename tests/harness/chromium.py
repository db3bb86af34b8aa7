"""Headless Chromium for the tests that read a page as a browser shows it (appliance/dev/browser.py): a missing
binary is a failure to fix, never a silent skip (CI installs them)."""
from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver

from appliance.dev import browser
from appliance.dev.browser import CERTUTIL, CHROMEDRIVER, CHROMIUM, MissingTool, save_shot

__all__ = ["CERTUTIL", "CHROMEDRIVER", "CHROMIUM", "browser_trusting", "chromium_options", "emulate_width",
           "require", "save_shot"]


def require(path: Path, package: str) -> None:
    try:
        browser.require(path, package)
    except MissingTool as exc:
        pytest.fail(str(exc))


def chromium_options(profile: Path) -> webdriver.ChromeOptions:
    try:
        return browser.chromium_options(profile)
    except MissingTool as exc:
        pytest.fail(str(exc))


def browser_trusting(tmp_path: Path, ca_file: Path):
    """Headless Chromium trusting `ca_file` (a generator, for a fixture)."""
    try:
        driver = browser.trusting_chromium(tmp_path, ca_file)
    except MissingTool as exc:
        pytest.fail(str(exc))
    yield driver
    driver.quit()


def emulate_width(driver, width: int, height: int = 844) -> None:
    """The page as a screen `width` CSS pixels wide shows it (a phone below 600)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                  "deviceScaleFactor": 1, "mobile": width < 600})
