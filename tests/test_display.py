"""The waiting-room screen: the scene for each state, its pixels, and announcements in order, none cut."""
import threading
import time
from datetime import datetime

import paho.mqtt.client as mqtt
import pygame
import pytest

from appliance import config as site_config
from appliance import contract
from appliance.display import DisplayUnit
from appliance.drivers.sound import Announcer
from appliance.screens.painter import ACCENT, BACKGROUND, PANEL, paint
from appliance.screens.scene import OFFLINE_BANNER, build_scene
from appliance.spoken import announcement

CONFIG = site_config.load(site_config.EXAMPLE)
NOW = datetime(2026, 11, 24, 9, 3, tzinfo=CONFIG.timezone)
AT = NOW.isoformat()
FOOTER = CONFIG.displays["pantalla-1"].footer


def call(i: int, number: str, desk: int, *, preferential=False, recall=False, call_id=None) -> contract.Call:
    return contract.Call(id=call_id or f"c{i}", at=AT, source="hub", turn_id=f"2026-11-24/kiosco-1/{number[0]}{i:03d}",
                         number=number, service="S", service_name="Salud", preferential=preferential, desk=desk,
                         desk_name=f"Módulo {desk}", recall=recall)


def board(*calls, waiting=()) -> contract.Board:
    return contract.Board(id="b", at=AT, source="hub", calls=list(calls), waiting=list(waiting))


def scene(b, **changes):
    args = dict(size=(1920, 1080), portrait=False, highlight=True, hub_online=True, footer=FOOTER)
    return build_scene(b, NOW, **{**args, **changes})


def test_a_new_call_is_the_highlighted_headline_with_its_desk_and_the_date_in_spanish():
    s = scene(board(call(1, "S-012", 1)))
    assert (s.headline.number, s.headline.desk, s.highlight) == ("S-012", "Módulo 1", True)
    assert (s.date, s.time, s.banner, s.idle) == ("martes 24 de noviembre de 2026", "9:03", None, None)


def test_a_preferential_call_and_a_recall_are_marked():
    s = scene(board(call(2, "P-007", 3, preferential=True, recall=True), call(1, "P-007", 3, preferential=True)))
    assert s.headline.preferential and s.headline.recall
    assert s.history == ()  # the recalled turn is not listed twice


def test_ten_calls_in_a_row_keep_the_newest_first_and_seven_before_it():
    calls = [call(i, f"R-{i:03d}", 1 + i % 3) for i in range(10, 0, -1)]
    s = scene(board(*calls))
    assert s.headline.number == "R-010"
    assert [c.number for c in s.history] == [f"R-{i:03d}" for i in range(9, 2, -1)]


def test_the_offline_banner_and_the_idle_screen():
    assert scene(board(call(1, "S-012", 1)), hub_online=False).banner == OFFLINE_BANNER
    idle = scene(None)
    assert idle.headline is None and "espere el llamado" in idle.idle and not idle.highlight


def test_portrait_and_footer_rotation():
    s = scene(board(call(1, "S-012", 1)), size=(1080, 1920), portrait=True, footer_index=4)
    assert s.portrait and s.footer == FOOTER[4 % len(FOOTER)]


@pytest.mark.parametrize("size, portrait", [((1920, 1080), False), ((1280, 720), False), ((1080, 1920), True)])
def test_the_painted_headline_is_highlighted_and_differs_from_a_calm_one(size, portrait, tmp_path):
    pygame.font.init()
    b = board(call(1, "P-007", 3, preferential=True), waiting=[contract.Waiting(
        service="S", service_name="Salud", normal=3, preferential=1)])
    loud, calm = pygame.Surface(size), pygame.Surface(size)
    paint(loud, scene(b, size=size, portrait=portrait))
    paint(calm, scene(b, size=size, portrait=portrait, highlight=False))
    probe = (size[0] // 10, size[1] // 4) if not portrait else (size[0] // 10, size[1] // 6)
    assert loud.get_at(probe)[:3] == ACCENT and calm.get_at(probe)[:3] == PANEL
    assert loud.get_at((2, size[1] // 2))[:3] == BACKGROUND
    pygame.image.save(loud, str(tmp_path / "screen.png"))


class RecordingSpeaker:
    """Records when each phrase starts and ends, taking a little time to say it."""

    def __init__(self):
        self.spans, self.done = [], threading.Event()

    def say(self, text):
        start = time.monotonic()
        time.sleep(0.05)  # the length of a phrase: what a cut-off would shorten
        self.spans.append((text, start, time.monotonic()))
        if len(self.spans) == 3:
            self.done.set()


def test_three_calls_in_100_ms_are_all_announced_in_order_none_cut():
    speaker = RecordingSpeaker()
    announcer = Announcer(speaker)
    announcer.start()
    for text in ("uno", "dos", "tres"):
        announcer.announce(text)
    assert speaker.done.wait(5)
    announcer.stop()
    assert [t for t, _, _ in speaker.spans] == ["uno", "dos", "tres"]
    assert all(prev[2] <= nxt[1] for prev, nxt in zip(speaker.spans, speaker.spans[1:]))


def test_the_announcement_reads_the_number_as_printed():
    assert announcement("P-007", "Módulo 3", False) == "Turno pe, cero cero siete. Módulo tres."
    assert "nuevamente" in announcement("R-012", "Módulo 12", True)


class FakeAnnouncer:
    def __init__(self):
        self.said = []

    def start(self):
        pass

    def stop(self):
        pass

    def announce(self, text):
        self.said.append(text)


def test_the_display_announces_each_new_call_once_and_not_the_board_it_finds_at_start():
    unit = DisplayUnit(CONFIG, "pantalla-1", announcer=FakeAnnouncer(), now=lambda: NOW)

    def deliver(b):
        message = mqtt.MQTTMessage(topic=contract.BOARD_TOPIC.encode())
        message.payload = b.to_json()
        unit.inbox.put(message)
        unit.step(0)

    deliver(board(call(1, "R-001", 1)))                       # retained, from before the restart
    deliver(board(call(3, "S-002", 2), call(2, "R-002", 1), call(1, "R-001", 1)))   # two calls at once
    deliver(board(call(4, "S-002", 2, recall=True), call(3, "S-002", 2), call(2, "R-002", 1)))
    assert [c.number for c in unit.announced] == ["R-002", "S-002", "S-002"]
    assert unit.announcer.said[-1] == announcement("S-002", "Módulo 2", True)
    assert unit.scene().highlight


def test_a_display_shows_the_retained_board_at_start_and_follows_it_after_a_broker_restart(broker, tmp_path):
    from hub.service import Hub
    from support import Running, wait_until

    config = CONFIG.with_broker(broker.host, broker.port)
    with Running(Hub(config, tmp_path / "hub")) as hub:
        assert hub.link.wait_connected(5)
        event = contract.TicketIssued(id="t1", at=hub.now().isoformat(), source="kiosco-1",
                                      turn_id=f"{hub.today}/kiosco-1/R001", number="R-001", service="R",
                                      preferential=False)
        hub.link.publish(contract.ticket_topic("kiosco-1"), event.to_json())
        request = contract.DeskRequest(id="q1", at=hub.now().isoformat(), source="escritorio-2", desk=2,
                                       action="next")
        hub.link.publish(contract.request_topic(2), request.to_json())
        wait_until(lambda: hub.ledger.serving.get(2), what="the call")
        with Running(DisplayUnit(config, "pantalla-1", announcer=FakeAnnouncer())) as display:
            wait_until(lambda: display.board and display.hub_online, what="the retained board and hub status")
            assert display.scene().headline.number == "R-001" and display.announced == []  # shown, not re-announced
            broker.restart()
            wait_until(lambda: display.link.connected and hub.link.connected, timeout=15, what="reconnection")
            event = contract.TicketIssued(id="t2", at=hub.now().isoformat(), source="kiosco-1",
                                          turn_id=f"{hub.today}/kiosco-1/R002", number="R-002", service="R",
                                          preferential=False)
            hub.link.publish(contract.ticket_topic("kiosco-1"), event.to_json())
            hub.link.publish(contract.request_topic(2), contract.DeskRequest(
                id="q2", at=hub.now().isoformat(), source="escritorio-2", desk=2, action="next").to_json())
            wait_until(lambda: display.scene().headline.number == "R-002", timeout=10, what="the new call")
            assert [c.number for c in display.announced] == ["R-002"]
