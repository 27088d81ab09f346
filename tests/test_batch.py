"""Batch rendering as CI runs it: several configs, shards, the JSON report, plain progress."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from kldemo.batch.run import shard

pytestmark = pytest.mark.render

# Text labels: the same pixels and speed whether or not this machine has LaTeX.
TINY = ["-r", "160,90", "--fps", "5", "-j", "1", "--labels", "text"]
STILL = "p: {mean: 0, std: 1}\nq: {mean: 1, std: 2}\ndefaults: {hold: 1}\n"  # 1 s: 5 frames
MOVE = (  # 1.4 s: 7 frames
    "p: {mean: 0, std: 1}\nq: {mean: 2, std: 1}\ndefaults: {duration: 1, hold: 0.4}\n"
    "keyframes:\n  - q: {mean: 0}\n"
)
BAD = "p: {mean: 0, std: -1}\nq: {mena: 0, std: 1}\n"
BAD_ERRORS = [
    "bad.yaml:1:19: error: p.std: must be > 0 (got -1)",
    "bad.yaml:2:5: error: q.mena: unknown key 'mena'; did you mean 'mean'?",
]


def kldemo(*args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kldemo", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """a.yaml, b.yaml and a bad file rendered together, with a report and plain progress."""
    folder = tmp_path_factory.mktemp("batch")
    for name, text in (("a.yaml", STILL), ("b.yaml", MOVE), ("bad.yaml", BAD)):
        (folder / name).write_text(text)
    result = kldemo(
        "render",
        "a.yaml",
        "bad.yaml",
        "b.yaml",
        *TINY,
        "-o",
        "out",
        "--report",
        "report.json",
        "--progress",
        "plain",
        "--cache-dir",
        "cache",
        cwd=folder,
        env={"CI": ""},
    )
    return folder, result


# -- 1. several configs -----------------------------------------------------------------


def test_each_config_renders_to_a_file_named_after_it_and_a_bad_one_stops_nothing(batch):
    folder, result = batch
    assert result.returncode == 2, result.stderr  # one config was invalid
    assert "Traceback" not in result.stderr
    assert listing(folder / "out") == ["a.mp4", "b.mp4"]  # nothing for bad.yaml, no temp files
    assert frame_count(folder / "out" / "a.mp4") == 5
    assert frame_count(folder / "out" / "b.mp4") == 7
    for line in BAD_ERRORS:
        assert line in result.stderr.splitlines()


def test_a_summary_ends_the_batch(batch):
    _, result = batch
    summary = ["3 config(s): 1 invalid, 2 ok", "  invalid: bad.yaml"]
    assert result.stderr.splitlines()[-2:] == summary


def test_two_configs_that_would_write_the_same_file_are_refused_before_anything_renders(tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.yaml").write_text(STILL)
    (tmp_path / "other.yaml").write_text(STILL)
    message = (
        "kldemo: error: x/same.yaml and y/same.yaml would both write out/same.mp4; rename "
        "one of them, or render them in separate runs with different -o folders"
    )
    # The collision is found over every config given, also when a shard holds only one.
    for extra in ([], ["--shard", "2/2"]):
        result = kldemo(
            "render",
            "other.yaml",
            "y/same.yaml",
            "x/same.yaml",
            *TINY,
            "-o",
            "out",
            "--report",
            "r.json",
            "--no-cache",
            *extra,
            cwd=tmp_path,
        )
        assert result.returncode == 2
        assert result.stderr.strip() == message
        assert listing(tmp_path) == ["other.yaml", "x", "y"]  # no video, no report


def test_a_failed_render_exits_1_the_others_go_on_and_invalid_outranks_failed(batch, tmp_path):
    folder, _ = batch
    out = tmp_path / "out"
    (out / "a.mp4").mkdir(parents=True)  # a folder in the way: a.yaml's video cannot be written
    configs = [folder / "a.yaml", folder / "b.yaml"]
    report = tmp_path / "report.json"
    result = kldemo(
        "render",
        *configs,
        *TINY,
        "-o",
        out,
        "--report",
        report,
        "--progress",
        "none",
        "--cache-dir",
        folder / "cache",
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        f"{configs[0]}: error: cannot write {out / 'a.mp4'}: it is a folder; "
        "remove it, or choose another output path\n"
    )
    assert frame_count(out / "b.mp4") == 7
    assert listing(out) == ["a.mp4", "b.mp4"]  # no temporary file left beside the target
    data = json.loads(report.read_text())  # written although a render failed
    assert [c["status"] for c in data["configs"]] == ["failed", "cached"]
    assert data["totals"]["exit_status"] == 1

    result = kldemo(
        "render",
        *configs,
        folder / "bad.yaml",
        *TINY,
        "-o",
        out,
        "--progress",
        "none",
        "--cache-dir",
        folder / "cache",
        cwd=tmp_path,
    )
    assert result.returncode == 2  # invalid and failed: 2


# -- 2. shards --------------------------------------------------------------------------


@pytest.mark.parametrize("count", range(1, 7))
@pytest.mark.parametrize("configs", [0, 1, 2, 5, 11])
def test_every_config_lands_in_exactly_one_shard(configs, count):
    paths = [Path(f"c/{n:02d}.yaml") for n in range(configs)]
    slices = [shard(paths[::-1], i, count) for i in range(1, count + 1)]  # input order is free
    assert sorted(p for s in slices for p in s) == paths  # every config once, none twice
    assert [p for s in slices for p in s] == paths  # contiguous slices of the sorted list
    assert max(map(len, slices)) - min(map(len, slices)) <= 1  # balanced


def test_shards_split_a_batch_across_runs(batch, tmp_path):
    folder, _ = batch
    shutil.copy(folder / "a.yaml", folder / "c.yaml")
    configs = ["c.yaml", "b.yaml", "a.yaml"]
    rendered = []
    for index in (1, 2):
        report = tmp_path / f"shard-{index}.json"
        result = kldemo(
            "render",
            *configs,
            *TINY,
            "-o",
            tmp_path / f"out{index}",
            "--shard",
            f"{index}/2",
            "--report",
            report,
            "--progress",
            "plain",
            "--cache-dir",
            "cache",
            cwd=folder,
        )
        assert result.returncode == 0, result.stderr
        data = json.loads(report.read_text())
        assert data["shard"] == {"index": index, "count": 2}
        names = [c["path"] for c in data["configs"]]
        # The same pictures as the batch's (c is a copy of a): every segment from the cache.
        n = len(names)
        assert result.stderr.splitlines()[-1] == f"shard {index}/2: {n} config(s): {n} cached"
        assert [f"{Path(n).stem}.mp4" for n in names] == listing(tmp_path / f"out{index}")
        rendered += names
    assert rendered == ["a.yaml", "b.yaml", "c.yaml"]  # each in exactly one shard, by path


def test_a_shard_with_no_config_succeeds_and_says_so(tmp_path):
    (tmp_path / "a.yaml").write_text(STILL)
    result = kldemo(
        "render",
        "a.yaml",
        *TINY,
        "--shard",
        "2/2",
        "--report",
        "r.json",
        "--progress",
        "plain",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "shard 2/2: no config in this slice of 1\n"
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["configs"] == [] and data["totals"]["configs"] == 0
    assert listing(tmp_path) == ["a.yaml", "r.json"]


@pytest.mark.parametrize("value", ["3/2", "0/2", "1of2", "1/0"])
def test_a_bad_shard_is_a_usage_error(tmp_path, value):
    (tmp_path / "a.yaml").write_text(STILL)
    result = kldemo("render", "a.yaml", "--shard", value, cwd=tmp_path)
    assert result.returncode == 2
    assert f"Invalid value for '--shard': {value!r}" in result.stderr
    assert "Traceback" not in result.stderr
    assert listing(tmp_path) == ["a.yaml"]


# -- 3. the report ----------------------------------------------------------------------


def test_the_report_has_every_configs_outcome_and_totals(batch):
    folder, _ = batch
    data = json.loads((folder / "report.json").read_text())
    a, b, bad = data["configs"]  # in path order
    assert (a["path"], a["status"], a["output"]) == ("a.yaml", "ok", "out/a.mp4")
    assert (b["path"], b["status"], b["output"]) == ("b.yaml", "ok", "out/b.mp4")
    assert a["video_length"] == pytest.approx(1.0) and b["video_length"] == pytest.approx(1.4)
    assert a["render_seconds"] > 0 and a["errors"] == []
    assert a["rendered_segments"] == a["segments"] >= 1
    assert (bad["path"], bad["status"], bad["output"], bad["video_length"]) == (
        "bad.yaml",
        "invalid",
        None,
        None,
    )
    assert [(e["file"], e["line"], e["column"], e["where"]) for e in bad["errors"]] == [
        ("bad.yaml", 1, 19, "p.std"),
        ("bad.yaml", 2, 5, "q.mena"),
    ]
    assert [e["text"] for e in bad["errors"]] == BAD_ERRORS
    totals = data["totals"]
    assert {
        k: totals[k] for k in ("configs", "ok", "cached", "invalid", "failed", "exit_status")
    } == {"configs": 3, "ok": 2, "cached": 0, "invalid": 1, "failed": 0, "exit_status": 2}
    assert totals["video_length"] == pytest.approx(2.4)
    assert totals["render_seconds"] == pytest.approx(
        sum(c["render_seconds"] for c in (a, b, bad)), abs=0.01
    )


def test_a_second_run_reports_cached_and_none_prints_only_errors(batch, tmp_path):
    folder, _ = batch
    before = (folder / "out" / "b.mp4").stat().st_mtime_ns
    result = kldemo(
        "render",
        "a.yaml",
        "b.yaml",
        "bad.yaml",
        *TINY,
        "-o",
        "out",
        "--report",
        tmp_path / "again.json",
        "--progress",
        "none",
        "--cache-dir",
        "cache",
        cwd=folder,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == BAD_ERRORS  # --progress none: the errors, nothing else
    data = json.loads((tmp_path / "again.json").read_text())
    assert [(c["status"], c["rendered_segments"]) for c in data["configs"][:2]] == [
        ("cached", 0),
        ("cached", 0),
    ]
    assert data["totals"]["cached"] == 2
    assert (folder / "out" / "b.mp4").stat().st_mtime_ns > before  # joined again from the cache
    assert frame_count(folder / "out" / "b.mp4") == 7


# -- 4. progress in CI ------------------------------------------------------------------


def test_without_a_terminal_progress_is_plain_lines_without_ansi_codes(batch):
    _, result = batch  # run with --progress plain; auto gives the same (below)
    text = result.stdout + result.stderr
    assert "\x1b" not in text and "\r" not in text
    lines = result.stderr.splitlines()
    assert lines[0] == "a.yaml: rendering 5 of 5 frames"
    assert "a.yaml: 5/5 frames" in lines
    assert any(re.fullmatch(r"a\.yaml: wrote out/a\.mp4 in \d+\.\d s", line) for line in lines)
    # In path order (a, b, bad), each config's events before the next one's.
    assert lines.index("b.yaml: rendering 7 of 7 frames") > lines.index("a.yaml: 5/5 frames")
    assert lines.index(BAD_ERRORS[0]) > lines.index("b.yaml: 7/7 frames")


def _on_a_terminal(args: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    """Run kldemo with stdout and stderr on a pseudo-terminal; its exit status and output."""
    import pty

    main, side = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "kldemo", *args],
        stdin=subprocess.DEVNULL,
        stdout=side,
        stderr=side,
        cwd=cwd,
        env={**os.environ, **env},
    )
    os.close(side)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return process.wait(timeout=600), b"".join(chunks).decode()


def test_auto_progress_is_a_bar_on_a_terminal_and_plain_in_ci_or_a_pipe(batch, tmp_path):
    folder, _ = batch
    args = ["render", "b.yaml", *TINY, "-o", str(tmp_path / "b.mp4"), "--no-cache"]
    status, shown = _on_a_terminal(args, folder, {"CI": "", "TERM": "xterm"})
    assert status == 0, shown
    assert "\rb.yaml  [" in shown  # the bar redraws its line
    status, shown = _on_a_terminal(args, folder, {"CI": "true", "TERM": "xterm"})
    assert status == 0, shown
    assert "\x1b" not in shown and "b.yaml: rendering 7 of 7 frames" in shown
    piped = kldemo(*args, cwd=folder, env={"CI": ""})
    assert piped.returncode == 0
    assert "\x1b" not in piped.stderr and "b.yaml: rendering 7 of 7 frames" in piped.stderr
