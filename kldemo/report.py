"""``--report FILE.json``: every config's outcome of a batch render, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kldemo import __version__
from kldemo.files import write_text_atomic


def report_data(outcomes: list[Any]) -> dict[str, Any]:
    configs = [
        {
            "config": str(o.config),
            "status": o.status,
            "output": str(o.output) if o.output else None,
            "length": o.length,
            "seconds": round(o.seconds, 3),
            "segments": o.segments,
            "rendered_segments": o.rendered,
            "errors": o.errors or [],
        }
        for o in outcomes
    ]
    totals: dict[str, Any] = {"configs": len(outcomes)}
    for status in ("ok", "cached", "invalid", "failed"):
        totals[status] = sum(o.status == status for o in outcomes)
    totals["seconds"] = round(sum(o.seconds for o in outcomes), 3)
    return {"kldemo": __version__, "configs": configs, "totals": totals}


def write_report(path: Path, outcomes: list[Any]) -> None:
    write_text_atomic(path, json.dumps(report_data(outcomes), indent=2) + "\n")
