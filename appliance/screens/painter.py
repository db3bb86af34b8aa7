"""Draws a Scene with pygame: large, calm and readable from five metres, landscape or portrait.

Fonts are cached by size and text surfaces by content, so a redraw costs a few blits. Sizes are fractions
of the screen's height (landscape) or width (portrait), so 720p, 1080p and portrait screens share one layout.
"""
from __future__ import annotations

from functools import lru_cache

import pygame

from .scene import CallView, Scene

FONT_REGULAR = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

BACKGROUND = (14, 32, 56)
PANEL = (22, 47, 80)
TEXT = (245, 247, 250)
MUTED = (160, 178, 200)
ACCENT = (255, 196, 61)            # the new call
PREFERENTIAL = (64, 184, 140)      # the preferential badge
BANNER = (176, 58, 46)


@lru_cache(maxsize=64)
def _font(size: int, bold: bool) -> pygame.font.Font:
    try:
        return pygame.font.Font(FONT_BOLD if bold else FONT_REGULAR, size)
    except (FileNotFoundError, OSError):
        return pygame.font.Font(None, int(size * 1.3))


@lru_cache(maxsize=512)
def _text(text: str, size: int, bold: bool, colour: tuple) -> pygame.Surface:
    return _font(size, bold).render(text, True, colour)


def _fit(text: str, size: int, bold: bool, colour: tuple, max_width: int) -> pygame.Surface:
    """The text at the largest size up to `size` that fits the width."""
    while size > 8:
        surface = _text(text, size, bold, colour)
        if surface.get_width() <= max_width:
            return surface
        size = int(size * 0.9)
    return _text(text, size, bold, colour)


def paint(surface: pygame.Surface, scene: Scene) -> None:
    width, height = surface.get_size()
    unit = width if scene.portrait else height     # the short side sets the sizes
    surface.fill(BACKGROUND)
    pad = unit // 30
    top = _header(surface, scene, unit, pad)
    footer_h = unit // 14
    bottom = height - footer_h
    if scene.portrait:
        main = pygame.Rect(pad, top, width - 2 * pad, int((bottom - top) * 0.42))
        side = pygame.Rect(pad, main.bottom + pad, width - 2 * pad, bottom - main.bottom - 2 * pad)
    else:
        main = pygame.Rect(pad, top, int(width * 0.6) - pad, bottom - top - pad)
        side = pygame.Rect(main.right + pad, top, width - main.right - 2 * pad, bottom - top - pad)
    _headline(surface, scene, main, unit)
    _side(surface, scene, side, unit)
    _footer(surface, scene, pygame.Rect(0, bottom, width, footer_h), unit, pad)
    if scene.banner:
        _banner(surface, scene.banner, unit, pad)


def _header(surface, scene: Scene, unit: int, pad: int) -> int:
    width = surface.get_width()
    date = _text(scene.date[0].upper() + scene.date[1:], unit // 26, False, MUTED)
    time = _text(scene.time, unit // 16, True, TEXT)
    surface.blit(date, (pad, pad + (time.get_height() - date.get_height()) // 2))
    surface.blit(time, (width - pad - time.get_width(), pad))
    return pad * 2 + time.get_height()


def _headline(surface, scene: Scene, box: pygame.Rect, unit: int) -> None:
    pygame.draw.rect(surface, ACCENT if scene.highlight else PANEL, box, border_radius=unit // 40)
    ink = BACKGROUND if scene.highlight else TEXT
    if scene.headline is None:
        _centred_lines(surface, scene.idle or "", box, unit // 18, ink)
        return
    call: CallView = scene.headline
    label = "Llamado de nuevo" if call.recall else "Turno"
    number = _fit(call.number, int(unit * 0.24), True, ink, box.width - unit // 10)
    desk = _fit(call.desk, unit // 9, True, ink, box.width - unit // 10)
    caption = _text(label, unit // 20, False, ink)
    blocks = [caption, number, desk]
    badge = None
    if call.preferential:
        badge = _text("Atención preferencial", unit // 24, True, TEXT)
        blocks.append(badge)
    gap = unit // 40
    total = sum(b.get_height() for b in blocks) + gap * (len(blocks) - 1)
    y = box.centery - total // 2
    for block in blocks:
        x = box.centerx - block.get_width() // 2
        if block is badge:
            pygame.draw.rect(surface, PREFERENTIAL, block.get_rect(topleft=(x, y)).inflate(unit // 25, unit // 90),
                             border_radius=unit // 60)
        surface.blit(block, (x, y))
        y += block.get_height() + gap


def _side(surface, scene: Scene, box: pygame.Rect, unit: int) -> None:
    """Earlier calls on top, people waiting per service below; the waiting list keeps its room and the
    history shows as many rows as fit above it."""
    title_size, line_h, row_h = unit // 28, unit // 21, unit // 11
    waiting_h = (_text("Ag", title_size, True, MUTED).get_height() + unit // 60 + len(scene.waiting) * line_h
                 if scene.waiting else 0)
    title = _text("Turnos anteriores", title_size, True, MUTED)
    surface.blit(title, (box.x, box.y))
    y = box.y + title.get_height() + unit // 80
    rows = max(0, (box.bottom - waiting_h - unit // 40 - y) // row_h)
    for call in scene.history[:rows]:
        row = pygame.Rect(box.x, y, box.width, row_h - unit // 90)
        pygame.draw.rect(surface, PANEL, row, border_radius=unit // 80)
        if call.preferential:
            pygame.draw.rect(surface, PREFERENTIAL, (row.x, row.y, unit // 90, row.height))
        number = _text(call.number, unit // 16, True, TEXT)
        desk = _fit(call.desk, unit // 22, False, TEXT, row.width // 2)
        surface.blit(number, (row.x + unit // 40, row.centery - number.get_height() // 2))
        surface.blit(desk, (row.right - unit // 40 - desk.get_width(), row.centery - desk.get_height() // 2))
        y += row_h
    if not scene.waiting:
        return
    y = box.bottom - waiting_h
    title = _text("Personas en espera", title_size, True, MUTED)
    surface.blit(title, (box.x, y))
    y += title.get_height() + unit // 60
    for waiting in scene.waiting:
        count = _text(str(waiting.count), unit // 30, True, ACCENT)
        name = _fit(waiting.service, unit // 32, False, TEXT, box.width - count.get_width() - unit // 20)
        surface.blit(name, (box.x, y + (line_h - name.get_height()) // 2))
        surface.blit(count, (box.right - count.get_width(), y + (line_h - count.get_height()) // 2))
        y += line_h


def _footer(surface, scene: Scene, box: pygame.Rect, unit: int, pad: int) -> None:
    pygame.draw.rect(surface, PANEL, box)
    text = scene.key_help or scene.footer
    if text:
        line = _fit(text, unit // 30, False, TEXT, box.width - 2 * pad)
        surface.blit(line, (box.centerx - line.get_width() // 2, box.centery - line.get_height() // 2))


def _banner(surface, text: str, unit: int, pad: int) -> None:
    """Over the footer: visible, but the calls stay readable."""
    width, height = surface.get_size()
    line = _fit(text, unit // 30, True, TEXT, width - 4 * pad)
    box = pygame.Rect(0, 0, width, unit // 14)
    box.bottom = height
    pygame.draw.rect(surface, BANNER, box)
    surface.blit(line, line.get_rect(center=box.center))


def _centred_lines(surface, text: str, box: pygame.Rect, size: int, colour) -> None:
    words, lines, current = text.split(), [], ""
    font = _font(size, False)
    for word in words:
        candidate = f"{current} {word}".strip()
        if font.size(candidate)[0] > box.width * 0.85 and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    surfaces = [_text(line, size, False, colour) for line in lines]
    y = box.centery - sum(s.get_height() for s in surfaces) // 2
    for line in surfaces:
        surface.blit(line, (box.centerx - line.get_width() // 2, y))
        y += line.get_height()
