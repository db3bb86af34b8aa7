import os

# Before anything imports pygame: no real window and no sound card in tests.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest  # noqa: E402

from appliance.dev.local_broker import LocalBroker  # noqa: E402

# Fixtures shared by folders of tests.
pytest_plugins = ["tests.harness.hub_feed"]

# Set by .ci/arm64-check, which runs the suite on arm64 through user-mode emulation (qemu-user).
EMULATED = os.environ.get("TURNERO_EMULATED")


@pytest.fixture
def broker(tmp_path):
    """A real Mosquitto of this test's own, on a free loopback port; stopped at the end of the test."""
    with LocalBroker(tmp_path / "broker") as running:
        yield running


def pytest_runtest_setup(item):
    if EMULATED and "browser" in item.fixturenames:
        pytest.skip(f"headless Chromium cannot start its child processes under {EMULATED} emulation "
                    "(TURNERO_EMULATED); the suite run natively (CI, a Pi) tests the page in the browser")
