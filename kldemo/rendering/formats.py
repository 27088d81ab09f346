"""The output formats kldemo writes: the names every other part (the CLI's choices, the
output checks, the encoder) reads. Light: no encoder or manim is imported here."""

from __future__ import annotations

FORMATS = ("mp4", "mov", "webm", "gif", "png")  # what ``render`` writes; png: the last frame
VIDEO_FORMATS = FORMATS[:4]
VECTOR_FORMATS = ("svg", "pdf")  # stills drawn as vectors (rendering/vector.py), not pixels
STILL_FORMATS = ("png", *VECTOR_FORMATS)  # what ``still`` writes
GIF_MAX_FPS = 50  # GIF delays count 1/100 s, and browsers slow down delays under 2/100 s
