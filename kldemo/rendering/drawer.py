"""Drawing frames with manim: one scene, set up for one plan, under its own manim settings.

manim reads its settings (pixel size, frame size, folders) from one global ``config``. A
drawer writes none of them for good: it builds its scene, and draws, inside
``manim.tempconfig(settings)``, as manim's own tests do, so that one render's settings never
leak into the next one in the same process (``watch``, a batch, a Python caller).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from kldemo.plan.frames import ScenePlan
    from kldemo.rendering.video import VideoSettings


def manim_settings(
    video: VideoSettings, transparent: bool, scratch: Path, verbose: bool, labels_dir: Path
) -> dict[str, Any]:
    """The manim settings a scene of ``video``'s size is built and drawn under."""
    return {
        # Typeset labels and text are kept between renders, keyed by manim on their source.
        "tex_dir": str(labels_dir / "tex"),
        "text_dir": str(labels_dir / "text"),
        "pixel_width": video.width,
        "pixel_height": video.height,
        "frame_height": 8.0,
        "frame_width": 8.0 * video.width / video.height,
        "frame_rate": float(video.fps),
        "transparent": transparent,
        "disable_caching": True,
        "save_last_frame": False,
        "media_dir": str(scratch / "manim"),
        "verbosity": "WARNING" if verbose else "ERROR",
        "progress_bar": "none",
    }


class FrameDrawer:
    """A scene set up for one plan; draws any frame of it to RGBA pixels.

    Drawing happens under the drawer's manim settings: :meth:`image` and :meth:`draw` enter
    them by themselves; a caller drawing many frames enters :meth:`configured` once around
    them (entering the settings costs a copy of manim's config).
    """

    def __init__(
        self,
        plan: ScenePlan,
        video: VideoSettings,
        transparent: bool,
        scratch: Path,
        verbose: bool = False,
        labels_dir: Path | None = None,
    ):
        import logging

        if plan.dims == 2:  # densities in the plane: contours at equal scale
            from kldemo.scenes.plane_scene import PlaneScene as Scene
        else:
            from kldemo.scenes.kl_scene import KLScene as Scene

        logging.getLogger("manim").setLevel(logging.WARNING if verbose else logging.ERROR)
        if labels_dir is None:
            from kldemo.storage.cache import default_cache_dir

            labels_dir = default_cache_dir() / "labels"
        self.settings = manim_settings(video, transparent, scratch, verbose, labels_dir)
        self.plan = plan
        self._entered = 0
        self._last: bytes | None = None
        with self.configured():
            # The camera takes the pixel size, and the mobjects the frame size, as built.
            self.scene = Scene(plan)
            # manim writes the SVGs of text and TeX into a folder that every kldemo process
            # shares: build one scene at a time.
            with _lock(labels_dir / "build.lock"):
                self.scene.build()

    @contextlib.contextmanager
    def configured(self) -> Iterator[None]:
        """manim's config set to this drawer's settings, and restored on the way out (also
        on an error). Re-entering it inside itself costs nothing."""
        if self._entered:
            yield
            return
        import manim

        with manim.tempconfig(self.settings):
            self._entered += 1
            try:
                yield
            finally:
                self._entered -= 1

    def _state_key(self, i: int) -> bytes:
        f = self.plan.frames
        columns = [*f.p, *f.q, f.caption]
        if f.optimum is not None:
            columns.append(f.optimum)  # markers appear once p has come to rest
        if "trace" in self.plan.panels:
            columns.append(f.t)  # the trace grows during holds too
        if f.caption_opacity is not None:
            columns.append(f.caption_opacity)  # a caption fades during a hold
        return b"".join(np.asarray(array[i]).tobytes() for array in columns)

    def draw(self, i: int) -> np.ndarray | None:
        """The RGBA pixels (height, width, 4) of frame i, or None when they are those of
        the frame drawn last (a still moment: a hold).

        The array is the camera's buffer, valid until the next call.
        """
        key = self._state_key(i)
        if key == self._last:
            return None
        with self.configured():
            pixels = self.scene.capture(i, copy=False)
        self._last = key
        return pixels

    def forget(self) -> None:
        """Draw the next frame even if it shows the state drawn last."""
        self._last = None

    def image(self, i: int) -> np.ndarray:
        """Frame i as a new RGBA array of its own."""
        self._last = None
        return np.array(self.draw(i), copy=True)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
