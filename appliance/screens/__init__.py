"""The waiting-room screen: the scene as plain data (scene.py), the pygame painter, the window."""
import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame's greeting does not belong in a service's log
