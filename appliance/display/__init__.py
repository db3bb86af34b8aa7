"""The waiting-room display: what is announced on screen, and how it is said aloud."""
