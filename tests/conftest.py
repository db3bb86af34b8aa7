import os

# Before anything imports pygame: no real window and no sound card in tests.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest  # noqa: E402

from appliance.broker import LocalBroker  # noqa: E402


@pytest.fixture
def broker(tmp_path):
    """A real Mosquitto of this test's own, on a free loopback port; stopped at the end of the test."""
    with LocalBroker(tmp_path / "broker") as running:
        yield running
