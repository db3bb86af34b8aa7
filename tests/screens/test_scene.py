"""The waiting-room screen as data: what each state of the board puts on screen, in Spanish."""
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from appliance.contract import DeskStatus, Waiting
from appliance.screens.scene import (IDLE_MESSAGE, OFFLINE_BANNER, PREFERENTIAL_MARK, RECALLED, SHOWN_CALLS,
                                     WaitingView, build_scene)
from tests.harness.scenes import DESKS, FOOTER, NOW, PACED, WAITING, board, call, scene, ten_calls


def test_a_new_call_is_the_highlighted_headline_with_its_desk_and_the_time_in_spanish():
    s = scene(board(call(1, "S-012", 1)))
    assert (s.headline.number, s.headline.desk, s.headline.caption, s.highlight) == ("S-012", "Módulo 1", "Turno",
                                                                                     True)
    assert (s.date, s.time) == ("martes 24 de noviembre de 2026", "9:03")
    assert (s.banner, s.idle, s.key_help, s.history) == (None, None, None, ())


def test_the_highlight_is_the_callers_to_give_and_take():
    assert not scene(board(call(1, "S-012", 1)), highlight=False).highlight


def test_a_recall_says_so_and_does_not_list_the_turn_twice():
    s = scene(board(call(3, "P-007", 3, recall=True), call(2, "S-012", 1), call(1, "P-007", 3)))
    assert s.headline.recall and s.headline.caption == RECALLED == "Llamado de nuevo"
    assert [c.number for c in s.history] == ["S-012"]


def test_a_preferential_call_is_marked_in_the_headline_and_in_the_history():
    s = scene(board(call(2, "P-008", 3, preferential=True), call(1, "P-007", 2, preferential=True),
                    call(0, "S-011", 1)))
    assert s.headline.preferential and [c.preferential for c in s.history] == [True, False]
    assert PREFERENTIAL_MARK == "Preferencial"


def test_ten_calls_in_a_row_show_the_newest_and_the_ones_before_it_in_order():
    s = scene(board(*ten_calls()))
    assert s.headline.number == "S-010"
    assert [c.number for c in s.history] == ["R-009", "F-008", "S-007", "R-006", "F-005", "S-004", "R-003"]
    assert 5 <= len(s.history) == SHOWN_CALLS <= 8
    assert [(c.desk, c.preferential) for c in s.history[:2]] == [("Módulo 2", False), ("Módulo 1", True)]


def test_the_queues_count_normal_and_preferential_turns_per_service():
    s = scene(board(call(1, "S-012", 1)))
    assert s.waiting[0] == WaitingView("Registro y Aportes", 5)
    assert [w.service for w in s.waiting] == [w.service_name for w in WAITING]


def test_an_estimate_at_the_pace_of_other_days_says_so():
    other_days = [Waiting(**{**vars(w), "from_history": True}) for w in PACED]
    registro = scene(board(call(1, "S-012", 1), waiting=other_days)).waiting[0]
    assert (registro.count, registro.estimate) == (5, "18 min (otros días)")    # five ahead, at 3 minutes
    assert scene(board(call(1, "S-012", 1), waiting=PACED)).waiting[0].estimate == "18 min aprox."


def test_the_paused_and_closed_desks_are_named_and_singular_and_plural_agree():
    named = scene(board(call(1, "S-012", 1), desks=DESKS)).desks
    assert named == "En pausa: Módulo 2 · Cerrados: Módulo 4, Módulo 5"
    one_closed = [DeskStatus(desk=1, desk_name="Módulo 1", status="closed")]
    assert scene(board(desks=one_closed)).desks == "Cerrado: Módulo 1"
    assert scene(board(desks=[DeskStatus(desk=1, desk_name="Módulo 1", status="open")])).desks is None
    assert scene(board(desks=DESKS, waiting=[])).desks is None    # no queues on screen, nothing beside them


def test_a_call_to_a_desk_now_closed_leaves_the_headline_to_the_newest_call_of_an_open_desk():
    closed = [DeskStatus(desk=3, desk_name="Módulo 3", status="closed")]
    s = scene(board(call(2, "S-003", 3), call(1, "R-010", 1), desks=closed))
    assert (s.headline.number, s.headline.desk, s.highlight) == ("R-010", "Módulo 1", False)   # not news: no highlight
    assert [c.number for c in s.history] == ["S-003"] and s.desks == "Cerrado: Módulo 3"
    alone = scene(board(call(2, "S-003", 3), desks=closed))
    assert alone.headline is None and [c.number for c in alone.history] == ["S-003"] and alone.idle == IDLE_MESSAGE


def test_calls_of_an_earlier_day_are_not_shown():
    s = scene(board(*ten_calls()), NOW + timedelta(days=1))
    assert (s.headline, s.history, s.idle) == (None, (), IDLE_MESSAGE)


def test_without_the_hub_a_calm_banner_says_the_turn_is_kept():
    assert scene(board(call(1, "S-012", 1)), hub_online=False).banner == OFFLINE_BANNER
    assert "su turno se conserva" in OFFLINE_BANNER and not OFFLINE_BANNER.isupper()


def test_before_any_board_a_welcome_and_no_highlight():
    s = scene(None)
    assert (s.headline, s.history, s.waiting, s.highlight) == (None, (), (), False)
    assert s.idle == IDLE_MESSAGE and IDLE_MESSAGE.startswith("Bienvenido.") and "espere el llamado" in s.idle


def test_a_board_with_no_calls_yet_welcomes_and_shows_the_queues():
    s = scene(board())
    assert s.headline is None and s.idle == IDLE_MESSAGE and len(s.waiting) == len(WAITING)


def test_portrait_footer_rotation_and_key_help():
    s = scene(board(call(1, "S-012", 1)), size=(1080, 1920), portrait=True, footer_index=5, key_help="Teclas: n")
    assert (s.size, s.portrait, s.footer, s.key_help) == ((1080, 1920), True, FOOTER[1], "Teclas: n")
    assert scene(None, footer=()).footer == ""


def test_equal_inputs_give_equal_scenes_so_an_idle_screen_redraws_once_a_minute():
    b = board(*ten_calls())
    assert scene(b) == scene(b)
    assert scene(b) != build_scene(b, NOW + timedelta(minutes=1), size=(1920, 1080), portrait=False, highlight=True,
                                   hub_online=True, footer=FOOTER)


def test_the_scene_does_not_need_pygame():
    code = "import sys, appliance.screens.scene; assert 'pygame' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
