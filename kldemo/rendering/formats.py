"""The output formats kldemo writes: the names every other part (the CLI's choices, the
output checks, the encoder) reads. Light: no encoder or manim is imported here."""

from __future__ import annotations

FORMATS = ("mp4", "mov", "webm", "gif", "png")  # what ``render`` writes; png: the last frame
VIDEO_FORMATS = FORMATS[:4]
STILL_FORMATS = ("png",)  # what ``still`` writes
VECTOR_SUFFIXES = (".svg", ".pdf")  # stills asked for often, not written yet
GIF_MAX_FPS = 50  # GIF delays count 1/100 s, and browsers slow down delays under 2/100 s
