"""Buttons and LEDs through gpiozero: the real pins on a Pi (lgpio), or gpiozero's own MockFactory.

Every gpiozero device of a role is made with the factory returned here, so the same role code runs on a Pi,
in the tests and in the demo. gpiozero calls `when_pressed` from its own thread: roles only enqueue there.
"""
from __future__ import annotations

from gpiozero import Device
from gpiozero.exc import BadPinFactory
from gpiozero.pins.mock import MockFactory

from appliance.site import SetupError


class NoPinsError(SetupError):
    """This machine has no GPIO pins gpiozero can drive."""


def pin_factory(simulated: bool):
    """A MockFactory of the role's own (one per simulated device, so two desks can both use GPIO17), or the
    real default factory on a Pi (lgpio)."""
    if simulated:
        return MockFactory()
    try:
        return Device._default_pin_factory()
    except BadPinFactory:
        raise NoPinsError("no GPIO pins on this machine (is it a Raspberry Pi with python3-lgpio, and is the "
                          "service user in the 'gpio' group?); use --simulated to run with mock pins") from None


def press(factory: MockFactory, pin: int) -> None:
    """A citizen's or advisor's press on a simulated button wired to ground (pull-up, active low)."""
    mock = factory.pin(pin)
    mock.drive_low()
    mock.drive_high()
