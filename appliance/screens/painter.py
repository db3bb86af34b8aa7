"""Draws a Scene with pygame: large, calm and readable from five metres, landscape or portrait.

Every size is a fraction of the screen's short side, so 720p, 1080p and portrait share one layout. Text is
placed by its capital height, so lines with accents or descenders still look centred. Fonts are cached by
size and rendered text from one frame to the next: a redraw is a fill, a few rectangles and blits.
"""
from __future__ import annotations

import logging
import math
import os
from functools import lru_cache
from typing import NamedTuple

import pygame

from appliance.screens.scene import (HISTORY_EMPTY, HISTORY_TITLE, PREFERENTIAL_MARK, SHOWN_CALLS, WAITING_TITLE,
                                     CallView, Scene)

log = logging.getLogger(__name__)

FONT_REGULAR = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

BACKGROUND = (14, 32, 56)
PANEL = (26, 52, 88)
TEXT = (245, 247, 250)
MUTED = (166, 184, 208)
ACCENT = (255, 196, 61)            # the new call, for a few seconds
PREFERENTIAL = (22, 128, 92)       # white on it reads at 4.9:1
BANNER = (146, 60, 46)
NOTICE = (138, 88, 10)             # white on it reads at 5.6:1


class Layout(NamedTuple):
    header: pygame.Rect
    headline: pygame.Rect
    history: pygame.Rect
    waiting: pygame.Rect
    waiting_columns: int
    footer: pygame.Rect


def layout(size: tuple[int, int], portrait: bool, services: int) -> Layout:
    """Where each part goes: header on top, footer bar at the bottom, the queues above it, and between them
    the headline with the earlier calls beside it (landscape) or under it (portrait)."""
    width, height = size
    unit = min(width, height)
    pad = unit // 27
    header = pygame.Rect(pad, pad, width - 2 * pad, unit * 8 // 100)
    footer = pygame.Rect(0, height - unit * 3 // 40, width, unit * 3 // 40)
    columns = min(services, 2 if portrait else 3)
    rows = math.ceil(services / columns) if services else 0
    waiting_h = _title_height(unit) + rows * _tile_height(unit) if rows else 0
    waiting = pygame.Rect(pad, footer.top - pad - waiting_h, width - 2 * pad, waiting_h)
    top = header.bottom + pad
    main = pygame.Rect(pad, top, width - 2 * pad, (waiting.top if rows else footer.top) - pad - top)
    if portrait:
        # Half the room at most: a portrait scene on a landscape screen still gets a headline.
        history_h = min(_title_height(unit) + SHOWN_CALLS * unit * 3 // 40, main.height // 2)
        headline = pygame.Rect(main.x, main.y, main.width, main.height - history_h - pad)
        history = pygame.Rect(main.x, headline.bottom + pad, main.width, history_h)
    else:
        headline = pygame.Rect(main.x, main.y, main.width * 3 // 5 - pad // 2, main.height)
        history = pygame.Rect(headline.right + pad, main.y, main.right - headline.right - pad, main.height)
    return Layout(header, headline, history, waiting, columns, footer)


def _title_height(unit: int) -> int:
    return unit * 9 // 200


def _tile_height(unit: int) -> int:
    return unit * 11 // 200


# --- text ------------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _font_file(bold: bool) -> str | None:
    path = FONT_BOLD if bold else FONT_REGULAR
    if os.path.exists(path):
        return path
    log.warning("%s is missing (apt-get install fonts-dejavu-core): accents may not show", path)
    return None


@lru_cache(maxsize=64)
def _font(size: int, bold: bool) -> pygame.font.Font:
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.Font(_font_file(bold), size)


class _FrameTexts:
    """Rendered texts of the frame being painted and of the one before. A redraw renders only what changed,
    and memory holds about one frame's texts, not every number of the day (one headline number is over a
    megabyte at 1080p)."""

    def __init__(self):
        self._previous: dict = {}
        self._current: dict = {}

    def next_frame(self) -> None:
        self._previous, self._current = self._current, {}

    def render(self, text: str, size: int, bold: bool, colour: tuple) -> pygame.Surface:
        key = (text, size, bold, colour)
        image = self._current.get(key)
        if image is None:
            image = self._previous.get(key)
        if image is None:
            image = _font(size, bold).render(text, True, colour)
        self._current[key] = image
        return image


_texts = _FrameTexts()


@lru_cache(maxsize=128)
def _cap(size: int, bold: bool) -> int:
    """Height of a capital letter: what the eye takes as the size of a line."""
    return _font(size, bold).render("H", True, TEXT).get_bounding_rect().height


@lru_cache(maxsize=512)
def fit(text: str, size: int, bold: bool, width: int) -> int:
    """The largest size up to `size` at which the text is at most `width` pixels wide."""
    while size > 6 and _font(size, bold).size(text)[0] > width:
        size = max(6, min(size - 1, int(size * width / _font(size, bold).size(text)[0])))
    return size


def _text(surface: pygame.Surface, text: str, size: int, bold: bool, colour: tuple, x: int, cap_top: int,
          align: str = "left") -> int:
    """Draws one line whose capitals start at `cap_top`; returns its width."""
    image = _texts.render(text, size, bold, colour)
    if align == "center":
        x -= image.get_width() // 2
    elif align == "right":
        x -= image.get_width()
    font = _font(size, bold)
    surface.blit(image, (x, cap_top + _cap(size, bold) - font.get_ascent()))
    return image.get_width()


def _middle(cy: int, size: int, bold: bool) -> int:
    """The cap_top that centres a line's capitals on `cy`."""
    return cy - _cap(size, bold) // 2


def _pill_width(text: str, size: int) -> int:
    return _font(size, True).size(text)[0] + 2 * _cap(size, True)


def _pill(surface: pygame.Surface, text: str, size: int, x: int, cy: int) -> int:
    """The preferential badge, its left edge at x; returns its width."""
    box = pygame.Rect(x, 0, _pill_width(text, size), _cap(size, True) * 11 // 5)
    box.centery = cy
    pygame.draw.rect(surface, PREFERENTIAL, box, border_radius=box.height // 2)
    _text(surface, text, size, True, TEXT, box.centerx, _middle(cy, size, True), "center")
    return box.width


# --- parts -----------------------------------------------------------------------------------------------

def paint(surface: pygame.Surface, scene: Scene) -> None:
    width, height = surface.get_size()
    unit = min(width, height)
    parts = layout((width, height), scene.portrait, len(scene.waiting))
    _texts.next_frame()
    surface.fill(BACKGROUND)
    _header(surface, scene, parts.header, unit)
    _headline(surface, scene, parts.headline, unit)
    _history(surface, scene, parts.history, unit)
    _waiting(surface, scene, parts.waiting, parts.waiting_columns, unit)
    _footer(surface, scene, parts.footer, unit)


def _header(surface, scene: Scene, box: pygame.Rect, unit: int) -> None:
    time_size, date_size = unit // 14, unit // 25
    clock_w = _text(surface, scene.time, time_size, True, TEXT, box.right, _middle(box.centery, time_size, True),
                    "right")
    date = scene.date[:1].upper() + scene.date[1:]        # a line of its own starts with a capital
    size = fit(date, date_size, False, box.width - clock_w - unit // 20)
    _text(surface, date, size, False, MUTED, box.x, _middle(box.centery, size, False))


def _headline(surface, scene: Scene, box: pygame.Rect, unit: int) -> None:
    pygame.draw.rect(surface, ACCENT if scene.highlight else PANEL, box, border_radius=unit // 36)
    ink = BACKGROUND if scene.highlight else TEXT
    inner = box.inflate(-unit // 10, -unit // 14)
    if scene.headline is None:
        _welcome(surface, scene.idle or "", inner, unit, ink)
        return
    call: CallView = scene.headline
    caption, number, desk = unit // 17, unit * 27 // 100, unit // 9
    # Shrink the whole stack, not one line, when it is taller than the box (a short screen, many services).
    scale = min(1.0, inner.height / _stack_height(caption, number, desk))
    caption, badge = int(caption * scale), int(caption * scale * 0.85)
    badge_w = _pill_width(PREFERENTIAL_MARK, badge) + unit // 40 if call.preferential else 0
    caption = fit(call.caption, caption, False, inner.width - badge_w)
    number = fit(call.number, int(number * scale), True, inner.width)
    desk = fit(call.desk, int(desk * scale), True, inner.width)
    y = inner.centery - _stack_height(caption, number, desk) // 2
    # The caption and the badge beside it, centred together.
    left = inner.centerx - (_font(caption, False).size(call.caption)[0] + badge_w) // 2
    caption_w = _text(surface, call.caption, caption, False, ink, left, y)
    if badge_w:
        _pill(surface, PREFERENTIAL_MARK, badge, left + caption_w + unit // 40, y + _cap(caption, False) // 2)
    y += _cap(caption, False) + _gap(caption, number)
    _text(surface, call.number, number, True, ink, inner.centerx, y, "center")
    y += _cap(number, True) + _gap(number, desk)
    _text(surface, call.desk, desk, True, ink, inner.centerx, y, "center")


def _gap(above: int, below: int) -> int:
    """Room for the descenders of one line and the accents of the next (Módulo), plus some air."""
    return (above + below) // 5


def _stack_height(caption: int, number: int, desk: int) -> int:
    return (_cap(caption, False) + _gap(caption, number) + _cap(number, True) + _gap(number, desk)
            + _cap(desk, True))


def _welcome(surface, text: str, box: pygame.Rect, unit: int, colour: tuple) -> None:
    """The idle message: its first line as a title, the rest wrapped at words, centred; smaller when a short
    box cannot hold it."""
    title, _, body = text.partition("\n")
    scale = 1.0
    while True:
        title_size, body_size = fit(title, int(unit * scale) // 9, True, box.width), int(unit * scale) // 19
        lines = _wrapped(body, body_size, box.width * 17 // 20)                     # narrower reads calmer
        title_cap, body_cap = _cap(title_size, True), _cap(body_size, False)
        height = title_cap + len(lines) * body_cap * 2 + (body_cap if lines else 0)
        if height <= box.height * 9 // 10 or scale < 0.4:
            break
        scale *= 0.9
    y = box.centery - height // 2
    _text(surface, title, title_size, True, colour, box.centerx, y, "center")
    y += title_cap + body_cap * 3                # the title stands apart from the text
    for line in lines:
        _text(surface, line, fit(line, body_size, False, box.width), False, colour, box.centerx, y, "center")
        y += body_cap * 2


def _wrapped(text: str, size: int, width: int) -> list[str]:
    font, lines = _font(size, False), []
    for word in text.split():
        if lines and font.size(f"{lines[-1]} {word}")[0] <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _section_title(surface, text: str, box: pygame.Rect, unit: int) -> int:
    """Draws a small title at the top of the box; returns where the content starts."""
    size = unit // 30
    _text(surface, text, size, True, MUTED, box.x, box.y)
    return box.y + _title_height(unit)


def _history(surface, scene: Scene, box: pygame.Rect, unit: int) -> None:
    top = _section_title(surface, HISTORY_TITLE, box, unit)
    row_h = (box.bottom - top) // SHOWN_CALLS
    inset = unit // 40
    if not scene.history:
        size = unit // 32
        _text(surface, HISTORY_EMPTY, fit(HISTORY_EMPTY, size, False, box.width), False, MUTED, box.x,
              _middle(top + row_h // 2, size, False))
    # Tall rows (no queues under them) must not make the number so wide that the desk beside it shrinks.
    number_size = min(unit // 17, row_h * 3 // 5, box.width // 14)
    for i, call in enumerate(scene.history):
        row = pygame.Rect(box.x, top + i * row_h, box.width, row_h - unit // 90)
        pygame.draw.rect(surface, PANEL, row, border_radius=unit // 90)
        x = row.x + inset
        x += _text(surface, call.number, number_size, True, TEXT, x, _middle(row.centery, number_size, True))
        if call.preferential:
            x += unit // 60 + _pill(surface, PREFERENTIAL_MARK, number_size * 3 // 5, x + unit // 60, row.centery)
        desk_size = fit(call.desk, number_size * 4 // 5, False, row.right - inset - x - unit // 30)
        _text(surface, call.desk, desk_size, False, TEXT, row.right - inset, _middle(row.centery, desk_size, False),
              "right")


def _waiting(surface, scene: Scene, box: pygame.Rect, columns: int, unit: int) -> None:
    if not scene.waiting:
        return
    top = _section_title(surface, WAITING_TITLE, box, unit)
    if scene.desks:   # on the title's line, right-aligned, in what room the title leaves
        title_size = unit // 30
        room = box.width - _font(title_size, True).size(WAITING_TITLE)[0] - unit // 15
        size = fit(scene.desks, title_size, False, room)
        _text(surface, scene.desks, size, False, MUTED, box.right, box.y + _cap(title_size, True) - _cap(size, False),
              "right")
    gap, inset, size = unit // 60, unit // 40, unit // 30
    tile_w = (box.width - gap * (columns - 1)) // columns
    for i, waiting in enumerate(scene.waiting):
        row, column = divmod(i, columns)
        tile = pygame.Rect(box.x + column * (tile_w + gap), top + row * _tile_height(unit), tile_w,
                           _tile_height(unit) - unit // 90)
        pygame.draw.rect(surface, PANEL, tile, border_radius=unit // 90)
        count_w = _text(surface, str(waiting.count), size, True, TEXT, tile.right - inset,
                        _middle(tile.centery, size, True), "right")
        # Muted, beside the count: the wait a ticket taken now would have; left out where it would crowd the name.
        small, room = size * 3 // 4, tile.width - count_w - 3 * inset
        if waiting.estimate and (_font(size, False).size(waiting.service)[0] + inset
                                 + _font(small, False).size(waiting.estimate)[0]) <= room:
            count_w += inset + _text(surface, waiting.estimate, small, False, MUTED, tile.right - 2 * inset - count_w,
                                     _middle(tile.centery, small, False), "right")
        name_size = fit(waiting.service, size, False, tile.width - count_w - 3 * inset)
        _text(surface, waiting.service, name_size, False, TEXT, tile.x + inset, _middle(tile.centery, name_size, False))


def _footer(surface, scene: Scene, box: pygame.Rect, unit: int) -> None:
    """The rotating message; the key help in the demo; a notice for the room in their place (a dispenser without
    paper) and, above all, while the hub is away, the banner: visible, but the calls above stay as they were."""
    text, colour, bold = scene.key_help or scene.footer, PANEL, False
    if scene.notice:
        text, colour, bold = scene.notice, NOTICE, True
    if scene.banner:
        text, colour, bold = scene.banner, BANNER, True
    pygame.draw.rect(surface, colour, box)
    if text:
        size = fit(text, unit // 32, bold, box.width - unit // 10)
        _text(surface, text, size, bold, TEXT, box.centerx, _middle(box.centery, size, bold), "center")
