"""``--report FILE.json``: every config's outcome of a batch render, written atomically.

One entry per config rendered (by this shard, with ``--shard``)::

    {"path": "configs/a.yaml", "status": "ok",          # ok | cached | invalid | failed
     "output": "videos/a.mp4", "contact_sheet": null,
     "slides": null,                                    # with --slides: json, html, clips, count
     "video_length": 28.0, "render_seconds": 3.1,       # seconds of video; of work
     "segments": 16, "rendered_segments": 2,            # the rest came from the cache
     "errors": [{"file": "configs/a.yaml", "line": 7, "column": 3,
                 "where": "q.mena", "message": "unknown key 'mena'; ...",
                 "text": "configs/a.yaml:7:3: error: q.mena: unknown key 'mena'; ..."}]}

and ``totals``: how many configs, how many of each status, the seconds of video and of
rendering, and the exit status. The file is written also when some configs fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kldemo import __version__
from kldemo.errors import Diagnostic
from kldemo.storage.files import write_text_atomic

STATUSES = ("ok", "cached", "invalid", "failed")


def error_data(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "file": diagnostic.file,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "where": diagnostic.path,
        "message": diagnostic.message,
        "text": str(diagnostic),
    }


def report_data(
    outcomes: list[Any], shard: tuple[int, int] | None = None, exit_status: int | None = None
) -> dict[str, Any]:
    configs = [
        {
            "path": str(o.config),
            "status": o.status,
            "output": str(o.output) if o.output else None,
            "contact_sheet": str(o.contact_sheet) if o.contact_sheet else None,
            "video_length": None if o.length is None else round(o.length, 6),
            "render_seconds": round(o.seconds, 3),
            "segments": o.segments,
            "rendered_segments": o.rendered,
            "errors": [error_data(d) for d in o.errors or []],
            "warnings": list(getattr(o, "warnings", None) or []),
            "slides": _slides(getattr(o, "slides", None)),
        }
        for o in outcomes
    ]
    totals: dict[str, Any] = {"configs": len(outcomes)}
    for status in STATUSES:
        totals[status] = sum(o.status == status for o in outcomes)
    totals["video_length"] = round(sum(o.length or 0.0 for o in outcomes), 3)
    totals["render_seconds"] = round(sum(o.seconds for o in outcomes), 3)
    totals["exit_status"] = exit_status
    return {
        "kldemo": __version__,
        "shard": {"index": shard[0], "count": shard[1]} if shard else None,
        "configs": configs,
        "totals": totals,
    }


def _slides(slides: Any) -> dict[str, Any] | None:
    """With --slides: manim-slides' JSON, the HTML presenter, the clips' folder, the count."""
    if slides is None:
        return None
    return {
        "json": str(slides.json),
        "html": str(slides.html),
        "clips": str(slides.clips),
        "count": slides.count,
    }


def write_report(
    path: Path,
    outcomes: list[Any],
    shard: tuple[int, int] | None = None,
    exit_status: int | None = None,
) -> None:
    text = json.dumps(report_data(outcomes, shard, exit_status), indent=2, ensure_ascii=False)
    write_text_atomic(path, text + "\n")
