"""Buttons and LEDs through gpiozero: the real pins on a Pi (lgpio), or gpiozero's own MockFactory.

Every gpiozero device of a role is made with the factory returned here, so the same role code runs on a Pi,
in the tests and in the demo. gpiozero calls `when_pressed` from its own thread: roles only enqueue there.
"""
from __future__ import annotations

from gpiozero import Device
from gpiozero.pins.mock import MockFactory


def pin_factory(simulated: bool):
    """A MockFactory of the role's own (one per simulated device, so two desks can both use GPIO17), or the
    real default factory on a Pi."""
    return MockFactory() if simulated else Device._default_pin_factory()


def press(factory: MockFactory, pin: int) -> None:
    """A citizen's or advisor's press on a simulated button wired to ground (pull-up, active low)."""
    mock = factory.pin(pin)
    mock.drive_low()
    mock.drive_high()
