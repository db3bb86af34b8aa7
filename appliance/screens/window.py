"""The pygame window, or the whole screen, that the display role draws on.

The video driver comes from the environment (SDL_VIDEODRIVER): kmsdrm on a Pi without a desktop, x11 or
wayland on a desktop, dummy in tests and the headless demo; nothing here chooses it.
"""
from __future__ import annotations

from pathlib import Path

import pygame

from appliance.screens.painter import paint
from appliance.screens.scene import Scene


class Screen:
    def __init__(self, size: tuple[int, int], *, fullscreen: bool, title: str = "Turnero"):
        pygame.display.init()
        pygame.display.set_caption(title)
        # Full screen takes the screen's own resolution: the painter lays out on whatever size it gets.
        self.surface = pygame.display.set_mode((0, 0) if fullscreen else size,
                                               pygame.FULLSCREEN if fullscreen else 0)
        pygame.mouse.set_visible(not fullscreen)

    def show(self, scene: Scene) -> None:
        paint(self.surface, scene)
        pygame.display.flip()

    def save(self, path: Path) -> Path:
        """A PNG of what was last shown."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.surface, str(path))
        return path

    def keys(self) -> list[str]:
        """Keys pressed since the last call, by pygame's names ("n", "1", "f1"), and "quit" on close."""
        names = []
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                names.append("quit")
            elif event.type == pygame.KEYDOWN:
                names.append(pygame.key.name(event.key))
        return names

    def close(self) -> None:
        pygame.display.quit()
