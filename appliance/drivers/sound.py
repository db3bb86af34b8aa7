"""The display's sound: a chime, then a Spanish voice (espeak-ng, offline), one announcement after another.

Announcements wait in a queue served by one worker thread, so a new call never cuts off the phrase being
said (the failure FQM #138 reports) and phrases are heard in the order the calls were made. The chime and
the voice both play through pygame.mixer: espeak-ng only writes the WAV (--stdout), because on a Pi the ALSA
device that the mixer holds open is not free for a second program. A machine with no audio device or without
espeak-ng says so once in the log and goes on showing the calls.
"""
from __future__ import annotations

import array
import io
import logging
import math
import queue
import shutil
import subprocess
import threading
import time
from typing import Protocol

import pygame

log = logging.getLogger(__name__)


class Speaker(Protocol):
    def say(self, text: str) -> None:
        """Blocks until the phrase has been heard."""


class SilentSpeaker:
    """For a display whose voice is off in the site configuration."""

    def say(self, text: str) -> None:
        log.debug("(silent) %s", text)


def chime_samples(rate: int, channels: int) -> array.array:
    """A soft two-tone "ding-dong" (E5 then C5) as signed 16-bit samples, interleaved per channel: a few
    harmonics make it sound like a bell rather than a beep; a quick attack and a fade-out avoid clicks."""
    notes = ((659.26, 0.0), (523.25, 0.38))      # (frequency in Hz, start in s); the first rings under the second
    length, fade = 1.4, 0.15
    samples = array.array("h")
    for i in range(int(rate * length)):
        t = i / rate
        value = 0.0
        for freq, start in notes:
            if t >= start:
                s = t - start
                envelope = min(1.0, s / 0.008) * math.exp(-3.2 * s)
                value += envelope * sum(weight * math.sin(2 * math.pi * freq * harmonic * s)
                                        for harmonic, weight in ((1, 1.0), (2, 0.35), (3, 0.12)))
        value *= 0.32 * min(1.0, (length - t) / fade)
        samples.extend([int(max(-1.0, min(1.0, value)) * 32767)] * channels)
    return samples


class EspeakSpeaker:
    """The chime, then espeak-ng's Latin-American Spanish voice ("es" where es-419 is not installed)."""

    RATE = 22050            # espeak-ng's own rate: its speech plays without resampling
    WORDS_PER_MINUTE = 150  # a little slower than espeak-ng's 175, for a hall with echo

    def __init__(self, *, volume: int = 80):
        self.volume = volume / 100
        self._espeak = shutil.which("espeak-ng")
        self._chime = self._open_mixer()
        self.voice = self._spanish_voice()

    def _open_mixer(self) -> pygame.mixer.Sound | None:
        try:
            pygame.mixer.init(frequency=self.RATE, size=-16, channels=1)
        except pygame.error as exc:
            log.warning("no audio device (%s): calls are shown but not heard", exc)
            return None
        rate, _size, channels = pygame.mixer.get_init()     # SDL may have chosen another rate or stereo
        chime = pygame.mixer.Sound(buffer=chime_samples(rate, channels).tobytes())
        chime.set_volume(self.volume)
        return chime

    def _spanish_voice(self) -> str:
        if self._espeak is None:
            log.warning("espeak-ng is not installed: calls get the chime but no voice (apt-get install espeak-ng)")
            return "es"
        listing = subprocess.run([self._espeak, "--voices=es"], capture_output=True, text=True, timeout=10).stdout
        languages = {line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1}
        return "es-419" if "es-419" in languages else "es"

    def say(self, text: str) -> None:
        if self._chime is None:
            return
        speech = None
        if self._espeak is not None:
            result = subprocess.run([self._espeak, "-v", self.voice, "-s", str(self.WORDS_PER_MINUTE), "--stdout",
                                     text], capture_output=True, timeout=30)
            if result.returncode == 0:
                speech = pygame.mixer.Sound(file=io.BytesIO(result.stdout))
                speech.set_volume(self.volume)
            else:
                log.warning("espeak-ng failed: %s", result.stderr.decode(errors="replace").strip())
        for sound in (self._chime, speech):
            if sound is not None:
                _play_through(sound)


def _play_through(sound: pygame.mixer.Sound) -> None:
    """Plays a sound and returns when it has finished (with a deadline, should the device stall)."""
    channel = sound.play()
    deadline = time.monotonic() + sound.get_length() + 2.0
    while channel is not None and channel.get_busy() and time.monotonic() < deadline:
        time.sleep(0.02)


class Announcer:
    """Speaks announcements in order, one at a time, from a worker thread; `announce` never blocks."""

    def __init__(self, speaker: Speaker, *, voice: bool = True):
        self.speaker = speaker
        self.voice = voice
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)

    def start(self) -> None:
        if self.voice:
            self._thread.start()

    def stop(self) -> None:
        """Lets the phrase being said finish and drops those still waiting: a stopping display is silent."""
        self._stopping.set()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(10)

    def announce(self, text: str) -> None:
        if self.voice:
            self._queue.put(text)

    def _run(self) -> None:
        while (text := self._queue.get()) is not None and not self._stopping.is_set():
            try:
                self.speaker.say(text)
            except Exception:  # noqa: BLE001 - one failed phrase must not silence the ones after it
                log.exception("announcement failed: %s", text)
