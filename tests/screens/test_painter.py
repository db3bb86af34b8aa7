"""The waiting-room screen in pixels: sizes readable from five metres, text inside its boxes, the highlight and
the banner where they belong, a redraw that shows nothing stale; screenshots of every state at every size. How
long a frame takes is bench/bench_devices.py's.

TURNERO_SHOTS=/some/dir keeps the screenshots there, to look at them; otherwise they go to a temporary folder.
"""
import dataclasses
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from datetime import timedelta  # noqa: E402
from itertools import combinations  # noqa: E402
from pathlib import Path  # noqa: E402

import pygame  # noqa: E402
import pytest  # noqa: E402

from appliance.contract import DeskStatus, Waiting  # noqa: E402
from appliance.screens.painter import (ACCENT, BACKGROUND, BANNER, FONT_BOLD, MUTED, NOTICE, PANEL,  # noqa: E402
                                       PREFERENTIAL, fit, layout, paint)
from appliance.screens.window import Screen  # noqa: E402
from tests.harness.scenes import (CLOSED, DESKS, LATER, NO_PAPER, NOW, PACED, WAITING, board, call,  # noqa: E402
                                  scene, ten_calls)

SIZES = [((1920, 1080), False), ((1280, 720), False), ((1080, 1920), True)]
CLOSED_3 = [DeskStatus(desk=3, desk_name="Módulo 3", status="closed")]
LONG_DESK = "Ventanilla de atención preferencial 12"
STATES = {
    "llamado": lambda: (board(*ten_calls()), {}),
    "calmo": lambda: (board(*ten_calls()), {"highlight": False}),
    "preferencial": lambda: (board(call(11, "P-007", 3, preferential=True), *ten_calls()), {}),
    "llamado-de-nuevo": lambda: (board(call(12, "P-007", 3, preferential=True, recall=True),
                                       call(11, "P-007", 3, preferential=True), *ten_calls()), {}),
    "largo": lambda: (board(call(11, "PR-1234", 12, preferential=True, desk_name=LONG_DESK), *ten_calls()), {}),
    "sin-hub": lambda: (board(*ten_calls()), {"hub_online": False, "highlight": False}),
    "sin-llamados": lambda: (board(), {}),
    "inicio": lambda: (None, {}),
    "con-estimado": lambda: (board(*ten_calls(), waiting=PACED), {}),
    "con-estimado-de-otros-dias": lambda: (board(*ten_calls(), waiting=[Waiting(**{**vars(w), "from_history": True})
                                                                        for w in PACED]), {}),
    "fuera-de-horario": lambda: (board(*ten_calls(), waiting=[]), {"closed": CLOSED, "now": LATER}),
    "sin-papel": lambda: (board(*ten_calls(), waiting=PACED), {"notice": NO_PAPER}),
    "modulos-en-pausa": lambda: (board(*ten_calls(), waiting=PACED, desks=DESKS), {}),
    "llamado-a-modulo-cerrado": lambda: (board(call(11, "S-003", 3), *ten_calls(), waiting=PACED,
                                               desks=CLOSED_3), {}),
    "fuera-de-horario-sin-hub": lambda: (board(*ten_calls(), waiting=[]), {"closed": CLOSED, "now": LATER,
                                                                          "hub_online": False}),
    "festivo-tras-un-dia-de-llamados": lambda: (board(*ten_calls(), waiting=[]), {"closed": CLOSED,
                                                                                  "now": NOW + timedelta(days=14)}),
}


@pytest.fixture(autouse=True, scope="module")
def fonts():
    pygame.font.init()


def painted(s, size) -> pygame.Surface:
    surface = pygame.Surface(size)
    paint(surface, s)
    return surface


def changed(a: pygame.Surface, b: pygame.Surface) -> pygame.Rect | None:
    """The box around every pixel that differs between two pictures."""
    ab, ba = a.copy(), b.copy()
    ab.blit(b, (0, 0), special_flags=pygame.BLEND_RGB_SUB)
    ba.blit(a, (0, 0), special_flags=pygame.BLEND_RGB_SUB)
    ab.blit(ba, (0, 0), special_flags=pygame.BLEND_RGB_ADD)
    mask = pygame.mask.from_threshold(ab, (0, 0, 0), (1, 1, 1, 255))
    mask.invert()
    rects = mask.get_bounding_rects()
    return rects[0].unionall(rects[1:]) if rects else None


def count(surface: pygame.Surface, rect: pygame.Rect, colour) -> int:
    return pygame.mask.from_threshold(surface.subsurface(rect), colour, (1, 1, 1, 255)).count()


def only(surface: pygame.Surface, rect: pygame.Rect, *colours) -> bool:
    return sum(count(surface, rect, c) for c in colours) == rect.width * rect.height


def parts(size, portrait, services=len(WAITING)):
    return layout(size, portrait, services)


@pytest.mark.parametrize("size, portrait", [*SIZES, ((800, 480), False), ((1024, 768), False), ((320, 240), False),
                                            ((1920, 1080), True), ((1080, 1920), False)])
def test_every_part_lies_inside_the_screen_and_apart_from_the_others(size, portrait):
    for services in range(13):
        boxes = [r for r in parts(size, portrait, services) if isinstance(r, pygame.Rect)]
        assert all(pygame.Rect((0, 0), size).contains(r) for r in boxes)
        assert not any(a.colliderect(b) for a, b in combinations(boxes, 2))
        # A scene whose orientation is not the screen's (a configuration mistake) still fits, if not well.
        assert parts(size, portrait, services).headline.height > min(size) // (4 if portrait == (size[1] > size[0])
                                                                              else 10)


@pytest.mark.parametrize("size, portrait", SIZES)
def test_the_headline_number_is_at_least_18_percent_of_the_short_side(size, portrait):
    one, other = (painted(scene(board(call(1, number)), size=size, portrait=portrait), size)
                  for number in ("P-007", "P-008"))
    digit = changed(one, other)          # the last digit: capital height, not the line's
    assert parts(size, portrait).headline.contains(digit)
    assert digit.height >= 0.18 * min(size)


@pytest.mark.parametrize("size, portrait", SIZES)
def test_the_highlight_colours_the_headline_and_nothing_else(size, portrait):
    b = board(*ten_calls())
    loud, calm = (painted(scene(b, size=size, portrait=portrait, highlight=h), size) for h in (True, False))
    box = parts(size, portrait).headline
    assert box.contains(changed(loud, calm))
    corner = (box.x + box.width // 20, box.y + box.height // 8)
    assert (loud.get_at(corner)[:3], calm.get_at(corner)[:3]) == (ACCENT, PANEL)
    assert loud.get_at((1, size[1] // 2))[:3] == BACKGROUND


@pytest.mark.parametrize("size, portrait", SIZES)
def test_long_numbers_and_desk_names_shrink_to_stay_inside_their_boxes(size, portrait):
    calls = [call(20 - i, f"PR-{1234 + i}", 12, preferential=True, desk_name=LONG_DESK) for i in range(8)]
    waiting = [Waiting(service="X", service_name="Servicios Financieros y de Crédito Empresarial", normal=12,
                       preferential=3), *WAITING[1:]]
    picture = painted(scene(board(*calls, waiting=waiting), size=size, portrait=portrait), size)
    unit, layout_ = min(size), parts(size, portrait)
    box, margin = layout_.headline, unit // 40
    inner = box.inflate(-2 * margin, -2 * margin)
    for edge in (pygame.Rect(box.x + margin, inner.y, margin, inner.height),             # left, right, top, bottom
                 pygame.Rect(inner.right - margin, inner.y, margin, inner.height),
                 pygame.Rect(inner.x, box.y + margin, inner.width, margin),
                 pygame.Rect(inner.x, inner.bottom - margin, inner.width, margin)):
        assert only(picture, edge, ACCENT)
    for right_edge in (layout_.history, layout_.waiting):
        strip = pygame.Rect(right_edge.right - unit // 80, right_edge.y, unit // 80, right_edge.height)
        assert only(picture, strip, PANEL, BACKGROUND)


def test_fit_shrinks_text_to_the_width_and_leaves_short_text_alone():
    assert fit("P-007", 120, True, 2000) == 120
    size = fit(LONG_DESK, 120, True, 600)
    assert pygame.font.Font(FONT_BOLD, size).size(LONG_DESK)[0] <= 600 < pygame.font.Font(FONT_BOLD, size + 2).size(
        LONG_DESK)[0]


@pytest.mark.parametrize("size, portrait", SIZES)
def test_preferential_turns_carry_the_green_badge(size, portrait):
    layout_ = parts(size, portrait)
    plain = painted(scene(board(call(2, "S-012"), call(1, "S-011")), size=size, portrait=portrait), size)
    marked = painted(scene(board(call(2, "P-008", preferential=True), call(1, "P-007", preferential=True)),
                           size=size, portrait=portrait), size)
    for box in (layout_.headline, layout_.history):
        assert count(plain, box, PREFERENTIAL) == 0 < count(marked, box, PREFERENTIAL)


@pytest.mark.parametrize("size, portrait", SIZES)
def test_the_offline_banner_takes_the_footers_place(size, portrait):
    footer = parts(size, portrait).footer
    for online, colour in ((True, PANEL), (False, BANNER)):
        picture = painted(scene(board(*ten_calls()), size=size, portrait=portrait, hub_online=online), size)
        assert picture.get_at((1, footer.centery))[:3] == colour


@pytest.mark.parametrize("size, portrait", SIZES)
def test_a_notice_for_the_room_takes_the_footer_but_gives_way_to_the_offline_banner(size, portrait):
    footer = parts(size, portrait).footer
    for online, colour in ((True, NOTICE), (False, BANNER)):
        picture = painted(scene(board(*ten_calls()), size=size, portrait=portrait, hub_online=online,
                                notice=NO_PAPER), size)
        assert picture.get_at((1, footer.centery))[:3] == colour


@pytest.mark.parametrize("size, portrait", SIZES)
def test_the_estimated_wait_is_written_inside_each_tile_of_the_queues(size, portrait):
    box = parts(size, portrait).waiting
    plain = painted(scene(board(*ten_calls()), size=size, portrait=portrait), size)
    paced = painted(scene(board(*ten_calls(), waiting=PACED), size=size, portrait=portrait), size)
    assert count(plain, box, MUTED) < count(paced, box, MUTED)           # the muted "min aprox." beside counts
    assert box.contains(changed(plain, paced))


@pytest.mark.parametrize("size, portrait", SIZES)
def test_paused_and_closed_desks_are_named_on_the_line_of_the_queues_title(size, portrait):
    box = parts(size, portrait).waiting
    plain = painted(scene(board(*ten_calls(), waiting=PACED), size=size, portrait=portrait), size)
    named = painted(scene(board(*ten_calls(), waiting=PACED, desks=DESKS), size=size, portrait=portrait), size)
    line = changed(plain, named)
    with_accents = box.inflate(0, line.height // 2).move(0, -line.height // 4)   # "ó" rises above the capitals
    assert with_accents.contains(line) and line.height < box.height // 3 and line.right > box.centerx
    assert count(named, line, MUTED) > count(plain, line, MUTED)


@pytest.mark.parametrize("size, portrait", SIZES)
def test_a_long_closed_text_shrinks_to_stay_inside_the_headline_box(size, portrait):
    queues = scene(board(waiting=PACED), size=size, portrait=portrait)      # the tiles leave the box short
    long_text = dataclasses.replace(queues, idle=f"Fuera de horario\n{CLOSED} {CLOSED}")
    box = parts(size, portrait).headline
    assert box.contains(changed(painted(dataclasses.replace(queues, idle=""), size), painted(long_text, size)))


@pytest.mark.parametrize("size, portrait", SIZES)
def test_the_closed_site_is_said_in_the_headlines_place(size, portrait):
    where = parts(size, portrait, services=0)
    closed = painted(scene(board(*ten_calls(), waiting=[]), LATER, size=size, portrait=portrait, closed=CLOSED), size)
    open_ = painted(scene(board(*ten_calls(), waiting=[]), LATER, size=size, portrait=portrait), size)
    # The last call joins the earlier ones; the header and the footer stay as they were.
    assert where.headline.union(where.history).contains(changed(open_, closed))
    assert count(closed, where.headline, ACCENT) == 0       # no call is highlighted: there is none


@pytest.mark.parametrize("size, portrait", SIZES)
def test_a_call_to_a_desk_now_closed_is_not_highlighted_beside_its_desk_named_closed(size, portrait):
    box = parts(size, portrait).headline
    calls = (call(11, "S-003", 3), *ten_calls())
    open_ = painted(scene(board(*calls, waiting=PACED), size=size, portrait=portrait), size)
    closed = painted(scene(board(*calls, waiting=PACED, desks=CLOSED_3), size=size, portrait=portrait), size)
    assert count(open_, box, ACCENT) > 0 == count(closed, box, ACCENT)


@pytest.mark.parametrize("size, portrait", SIZES)
def test_the_closed_screen_with_the_hub_away_has_no_restoring_banner_nor_an_earlier_days_calls(size, portrait):
    where = parts(size, portrait, services=0)
    away = painted(scene(board(*ten_calls(), waiting=[]), LATER, size=size, portrait=portrait, closed=CLOSED,
                         hub_online=False), size)
    assert away.get_at((1, where.footer.centery))[:3] == PANEL
    holiday = NOW + timedelta(days=14)
    after_a_day_of_calls, no_calls = (painted(scene(board(*calls, waiting=[]), holiday, size=size, portrait=portrait,
                                                    closed=CLOSED), size) for calls in (ten_calls(), ()))
    assert changed(after_a_day_of_calls, no_calls) is None


def test_a_frame_with_a_new_call_paints_what_a_first_drawing_of_it_paints():
    """A frame reuses the texts of the frame before it and renders only the new ones: the calls that move down
    the history, and a headline number never drawn before, show as if drawn afresh."""
    size = (1920, 1080)
    calls = [call(i, f"{'PRS'[i % 3]}-{i:03d}", 1 + i % 5, preferential=i % 4 == 0) for i in range(12)]
    frames = [scene(board(*reversed(calls[i - 8:i]))) for i in range(8, 12)]
    for before, frame in zip(frames, frames[1:]):
        painted(before, size)
        redrawn = painted(frame, size)
        for _ in range(2):   # two frames without a call: nothing of `frame` left to reuse
            painted(scene(board()), size)
        assert changed(redrawn, painted(frame, size)) is None


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("size, portrait", SIZES)
def test_every_state_at_every_size_makes_a_screenshot(state, size, portrait, tmp_path):
    b, changes = STATES[state]()
    screen = Screen(size, fullscreen=False)
    try:
        screen.show(scene(b, size=size, portrait=portrait, **changes))
        path = screen.save(Path(os.environ.get("TURNERO_SHOTS", tmp_path)) / f"{state}-{size[0]}x{size[1]}.png")
    finally:
        screen.close()
    assert pygame.image.load(path).get_size() == size


def test_the_window_reports_keys_by_name_and_its_closing():
    screen = Screen((640, 360), fullscreen=False)
    try:
        screen.keys()
        for key in (pygame.K_n, pygame.K_1, pygame.K_F1):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        assert screen.keys() == ["n", "1", "f1", "quit"]
        assert screen.keys() == []
    finally:
        screen.close()
