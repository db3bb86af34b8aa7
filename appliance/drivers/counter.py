"""The desk's counter display: shows the turn being served above the advisor's desk.

`LogCounter` is the stand-in used by the demo and the tests (it keeps and logs what it shows); the serial
LED counter of a real desk implements the same `show`.
"""
from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class CounterDisplay(Protocol):
    def show(self, text: str) -> None: ...


class LogCounter:
    def __init__(self, name: str):
        self.name = name
        self.text = ""

    def show(self, text: str) -> None:
        if text != self.text:
            self.text = text
            log.info("%s shows %r", self.name, text)
