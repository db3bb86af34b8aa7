"""The display's voice: what it says, in order and never cut off, and silence rather than a crash where
there is no sound card or no espeak-ng."""
import os

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")   # a sound card that plays in real time, into nothing

import logging  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import pygame  # noqa: E402
import pytest  # noqa: E402

from appliance.display.spoken import LETTERS, announcement, number_words, spell_turn  # noqa: E402
from appliance.drivers import sound  # noqa: E402
from appliance.drivers.sound import Announcer, EspeakSpeaker, SilentSpeaker, chime_samples  # noqa: E402


class RecordingSpeaker:
    """Records when each phrase starts and ends; each takes as long as `release` lets it."""

    def __init__(self, expected: int, fail_on: str | None = None):
        self.spans, self.expected, self.fail_on = [], expected, fail_on
        self.release, self.started, self.done = threading.Event(), threading.Event(), threading.Event()
        self.release.set()

    def say(self, text):
        start = time.monotonic()
        self.started.set()
        self.release.wait(5)                  # held for as long as a test keeps the phrase going
        threading.Event().wait(0.05)          # and it lasts: a cut-off would shorten it
        if text == self.fail_on:
            raise RuntimeError("espeak-ng crashed")
        self.spans.append((text, start, time.monotonic()))
        if len(self.spans) == self.expected:
            self.done.set()


def test_three_calls_within_100_ms_are_all_said_in_order_none_cut():
    speaker = RecordingSpeaker(expected=3)
    speaker.release.clear()   # the first phrase goes on while the other calls come
    announcer = Announcer(speaker)
    announcer.start()
    for text in ("uno", "dos", "tres"):
        announcer.announce(text)
    assert speaker.spans == []   # no announce() waited for a phrase to be said
    speaker.release.set()
    assert speaker.done.wait(5)
    announcer.stop()
    assert [text for text, _, _ in speaker.spans] == ["uno", "dos", "tres"]
    assert all(end - start >= 0.04 for _, start, end in speaker.spans)              # each said whole
    assert all(before[2] <= after[1] for before, after in zip(speaker.spans, speaker.spans[1:]))  # no overlap


def test_announce_returns_at_once_while_a_phrase_is_being_said():
    speaker = RecordingSpeaker(expected=2)
    speaker.release.clear()
    announcer = Announcer(speaker)
    announcer.start()
    announcer.announce("uno")
    assert speaker.started.wait(5)
    announcer.announce("dos")
    assert speaker.spans == []   # returned while "uno" is still being said
    speaker.release.set()
    assert speaker.done.wait(5)
    announcer.stop()


def test_a_failed_phrase_does_not_silence_the_next(caplog):
    speaker = RecordingSpeaker(expected=1, fail_on="uno")
    announcer = Announcer(speaker)
    announcer.start()
    announcer.announce("uno")
    announcer.announce("dos")
    assert speaker.done.wait(5)
    announcer.stop()
    assert [text for text, _, _ in speaker.spans] == ["dos"] and "announcement failed: uno" in caplog.text


def test_stopping_finishes_the_phrase_being_said_and_drops_the_rest():
    speaker = RecordingSpeaker(expected=1)
    speaker.release.clear()
    announcer = Announcer(speaker)
    announcer.start()
    announcer.announce("uno")
    announcer.announce("dos")
    assert speaker.started.wait(5)
    stopper = threading.Thread(target=announcer.stop)
    stopper.start()
    speaker.release.set()
    stopper.join(5)
    assert not stopper.is_alive() and [text for text, _, _ in speaker.spans] == ["uno"]


def test_with_the_voice_off_nothing_is_queued_or_said():
    speaker = RecordingSpeaker(expected=1)
    announcer = Announcer(speaker, voice=False)
    announcer.start()
    announcer.announce("uno")
    announcer.stop()
    assert speaker.spans == []
    SilentSpeaker().say("uno")


def test_the_announcement_reads_the_turn_as_printed_and_sends_the_citizen_to_the_desk():
    assert announcement("P-007", "Módulo 3", False) == "Turno pe, cero cero siete, diríjase al módulo tres."
    assert announcement("P-007", "Módulo 3", True) == ("Turno pe, cero cero siete, nuevamente: diríjase al módulo "
                                                       "tres.")
    assert announcement("W-120", "Ventanilla 21", False) == ("Turno uve doble, uno dos cero, diríjase a la ventanilla "
                                                             "veintiuno.")
    assert announcement("CH-045", "CIS Módulo 12", False).endswith("diríjase al CIS Módulo doce.")


def test_every_letter_has_its_spanish_name_and_numbers_are_words():
    assert set(LETTERS) == set("ABCDEFGHIJKLMNÑOPQRSTUVWXYZ")
    assert spell_turn("Ñ-010") == "eñe, cero uno cero" and spell_turn("12") == "uno dos"
    assert [number_words(n) for n in (0, 7, 16, 21, 30, 45, 99, 100, 101, 250, 999)] == [
        "cero", "siete", "dieciséis", "veintiuno", "treinta", "cuarenta y cinco", "noventa y nueve", "cien",
        "ciento uno", "doscientos cincuenta", "novecientos noventa y nueve"]


def test_the_chime_is_two_soft_tones_without_clipping_or_clicks():
    mono, stereo = chime_samples(22050, 1), chime_samples(44100, 2)
    assert len(mono) == int(22050 * 1.4) and len(stereo) == 2 * int(44100 * 1.4)
    assert 0.3 * 32767 < max(map(abs, mono)) < 0.9 * 32767
    assert abs(mono[0]) < 500 and abs(mono[-1]) < 500
    assert stereo[0::2] == stereo[1::2]


@pytest.fixture
def no_mixer():
    """Each test opens the mixer itself: one opened earlier would hide a failure to open it."""
    pygame.mixer.quit()
    yield
    pygame.mixer.quit()


def test_without_a_sound_card_the_speaker_is_silent_and_says_so_once(no_mixer, monkeypatch, caplog):
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-card")
    with caplog.at_level(logging.WARNING):
        speaker = EspeakSpeaker(volume=80)
        heard = []   # nothing is played or voiced, so say() waits for nothing
        monkeypatch.setattr(sound, "_play_through", heard.append)
        monkeypatch.setattr(sound.subprocess, "run", lambda command, **_: heard.append(command))
        speaker.say(announcement("P-007", "Módulo 3", False))
        speaker.say(announcement("P-008", "Módulo 3", False))
    assert heard == []
    assert sum("no audio device" in r.getMessage() for r in caplog.records) == 1


def test_without_espeak_ng_the_chime_still_plays(no_mixer, monkeypatch, caplog):
    monkeypatch.setattr(sound.shutil, "which", lambda _name: None)
    with caplog.at_level(logging.WARNING):
        speaker = EspeakSpeaker(volume=80)
        start = time.monotonic()
        speaker.say("Turno pe, cero cero siete")
    assert time.monotonic() - start > 1.3               # the whole chime, heard before say() returns
    assert len(caplog.records) == 1 and "espeak-ng is not installed" in caplog.text


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_speaks_spanish_after_the_chime_and_say_returns_when_it_has_been_heard(no_mixer, caplog):
    speaker = EspeakSpeaker(volume=80)
    assert speaker.voice in ("es-419", "es")
    start = time.monotonic()
    speaker.say("Turno pe, siete.")
    assert time.monotonic() - start > 1.4 + 0.5         # the chime, then a second or so of speech
    assert "espeak-ng failed" not in caplog.text
