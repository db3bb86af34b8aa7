"""The display's sound: a chime and a Spanish voice (espeak-ng, offline), one announcement after another.

Announcements wait in a queue served by one worker thread: a second call never cuts off the first, and a
recall is announced again. A machine with no audio device, or without espeak-ng, stays silent and says so
once in the log; the display goes on.
"""
from __future__ import annotations

import array
import logging
import math
import queue
import shutil
import subprocess
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class Speaker(Protocol):
    def say(self, text: str) -> None:
        """Blocks until the phrase has been heard."""


class SilentSpeaker:
    def say(self, text: str) -> None:
        log.debug("(silent) %s", text)


class EspeakSpeaker:
    """Chime through pygame.mixer, then espeak-ng's Latin-American Spanish voice."""

    RATE = 22050

    def __init__(self, *, volume: int = 80, voice: str = "es-419"):
        self.volume = volume
        self.voice = voice
        self._espeak = shutil.which("espeak-ng")
        if self._espeak is None:
            log.warning("espeak-ng is not installed: calls are shown but not spoken (apt-get install espeak-ng)")
        self._chime = self._make_chime()

    def _make_chime(self):
        try:
            import pygame
            pygame.mixer.init(frequency=self.RATE, size=-16, channels=1)
        except Exception as exc:  # noqa: BLE001 - no sound card is a normal situation for a test or a demo
            log.warning("no audio device (%s): calls are shown without the chime", exc)
            return None
        samples = array.array("h")
        for freq, seconds in ((880.0, 0.28), (659.3, 0.42)):   # a soft two-tone "ding-dong"
            n = int(self.RATE * seconds)
            for i in range(n):
                envelope = math.exp(-4.0 * i / n)
                samples.append(int(12000 * self.volume / 100 * envelope * math.sin(2 * math.pi * freq * i / self.RATE)))
        return pygame.mixer.Sound(buffer=samples.tobytes())

    def say(self, text: str) -> None:
        if self._chime is not None:
            channel = self._chime.play()
            while channel is not None and channel.get_busy():
                threading.Event().wait(0.02)
        if self._espeak is not None:
            amplitude = str(int(self.volume * 2))   # espeak-ng's amplitude goes from 0 to 200
            result = subprocess.run([self._espeak, "-v", self.voice, "-s", "145", "-a", amplitude, text],
                                    capture_output=True, timeout=30)
            if result.returncode != 0:
                log.warning("espeak-ng failed: %s", result.stderr.decode(errors="replace").strip())


class Announcer:
    """Speaks announcements in order, one at a time, from a worker thread; `announce` never blocks."""

    def __init__(self, speaker: Speaker):
        self.speaker = speaker
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def announce(self, text: str) -> None:
        self._queue.put(text)

    def _run(self) -> None:
        while (text := self._queue.get()) is not None:
            try:
                self.speaker.say(text)
            except Exception:  # noqa: BLE001 - a failed phrase must not silence the ones after it
                log.exception("announcement failed: %s", text)
