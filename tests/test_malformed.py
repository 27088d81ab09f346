"""Malformed keyframe files: each refused by `validate` and `render` with its whole message.

Every file in tests/corpus/ is one case, named for it; two more are written at run time
(`oversize`, over 1 MiB, and `too-many-errors`, 1,000 of them). For each, both commands must
exit 2 with exactly the lines in EXPECTED (FILE standing for the path), no traceback,
within 2 s, and write nothing: the folder they run in and the one -o points into stay as
they were, and no media/ folder or cache appears.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kldemo.cli import main
from kldemo.config.yamlfile import MAX_BYTES

CORPUS = Path(__file__).parent / "corpus"
TIME_LIMIT = 2.0  # seconds: a guard against hangs, not a benchmark
VALID = "p: {means: [4, 6], stds: [0.75, 0.75]}\nq: {mean: 5, std: 1}\n"

EMPTY = "FILE: error: the file is empty: a config needs at least p and q (`kldemo init` writes one)"
PLAIN_YAML = "is not allowed: kldemo reads plain YAML (mappings, lists, numbers, strings, booleans)"
COLOUR = "must be a colour: '#RRGGBB', '#RGB' or a name such as BLUE"
TOP_LEVEL = "FILE:1:1: error: the top level must be a mapping with keys such as p, q and keyframes"

EXPECTED: dict[str, list[str]] = {
    # -- not YAML, or not text ----------------------------------------------------------
    "syntax-unclosed-bracket": [
        "FILE:1:17: error: invalid YAML: did not find expected ',' or ']' while parsing a flow "
        "sequence; close each [ and { that is opened, with commas between items"
    ],
    "syntax-unclosed-quote": [
        "FILE:4:1: error: invalid YAML: found unexpected end of stream while scanning a quoted "
        "scalar that began on line 1, column 8; close the quote"
    ],
    "syntax-bad-indent": [
        "FILE:3:4: error: invalid YAML: did not find expected key while parsing a block mapping "
        "that began on line 2, column 3; check the indentation: keys of one mapping start in "
        "one column"
    ],
    "syntax-colon-in-value": [
        "FILE:5:15: error: invalid YAML: mapping values are not allowed in this context; check "
        "the indentation, and quote values that contain ': '"
    ],
    "tab-indent": ["FILE:2:1: error: a tab in the indentation: YAML indents with spaces only"],
    "empty": [EMPTY],
    "comment-only": [EMPTY],
    "top-level-list": [f"{TOP_LEVEL} (got a list)"],
    "top-level-scalar": [f"{TOP_LEVEL} (got the string 'just some text')"],
    "not-utf8": ["FILE:1:21: error: byte 0xef is not UTF-8: save the file as UTF-8"],
    "utf-16": ["FILE:1:1: error: byte 0xff is not UTF-8: save the file as UTF-8"],
    "control-character": [
        "FILE:3:10: error: control characters are not allowed: delete the character U+0007"
    ],
    "two-documents": [
        "FILE:4:1: error: found a second YAML document (after '---'); put one config in each file"
    ],
    "oversize": [
        f"FILE: error: the file is {MAX_BYTES + 1:,} bytes; kldemo reads config files up to "
        "1 MiB (1,048,576 bytes): is it the right file?"
    ],
    # -- unsafe or unbounded YAML ---------------------------------------------------------
    "alias-bomb": [
        "FILE:6:15: error: more than 200,000 values (an alias bomb?): each *alias counts as a "
        "copy of what it names; write the values out"
    ],
    "recursive-alias": [
        "FILE:1:4: error: p.again: an alias inside what it names (a recursive alias); write the "
        "values out"
    ],
    "undefined-alias": [
        "FILE:2:4: error: invalid YAML: found undefined alias; an *alias must name an &anchor "
        "given before it"
    ],
    "merge-key": ["FILE:4:3: error: q: merge keys ('<<') are not supported; write the keys out"],
    "deep-nesting": [
        "FILE:3:39: error: nested more than 32 levels deep; a config needs only a few levels: "
        "check the brackets"
    ],
    "object-tag": [f"FILE:1:4: error: p: the tag !!python/object/apply:os.system {PLAIN_YAML}"],
    "local-tag": [f"FILE:3:18: error: style.p_color: the tag !color {PLAIN_YAML}"],
    # -- keys -----------------------------------------------------------------------------
    "duplicate-key": ["FILE:3:1: error: q: duplicate key 'q' (first given on line 2)"],
    "duplicate-nested-key": [
        "FILE:5:3: error: q.mean: duplicate key 'mean' (first given on line 3)"
    ],
    "unknown-key": [
        "FILE:3:12: error: defaults.durration: unknown key 'durration'; did you mean 'duration'?"
    ],
    "unknown-top-level-key": [
        "FILE:3:1: error: frames: unknown key 'frames'; did you mean 'keyframes'?"
    ],
    "non-string-key": ["FILE:4:5: error: keyframes[0]: keys must be names, not '1'"],
    "missing-q": ["FILE:1:1: error: missing required key 'q'"],
    # -- types ----------------------------------------------------------------------------
    "string-for-number": ["FILE:1:16: error: p.means[1]: must be a number (got the string '6')"],
    "boolean-for-number": ["FILE:4:14: error: keyframes[0].q.std: must be a number (got yes)"],
    "null-for-number": [
        "FILE:3:22: error: defaults.duration: must not be null; leave the key out instead"
    ],
    "list-for-number": [
        "FILE:2:11: error: q.mean: must be a number, or a pair [x, y] of finite numbers in 2-D "
        "(got [5])"
    ],
    "mapping-for-list": ["FILE:1:12: error: p.means: must be a list (got a mapping)"],
    "keyframes-not-a-list": ["FILE:3:12: error: keyframes: must be a list (got a mapping)"],
    "keyframe-not-a-mapping": [
        "FILE:5:5: error: keyframes[1]: must be a mapping of keys to values (got 3)"
    ],
    # -- numbers --------------------------------------------------------------------------
    "nan": ["FILE:1:16: error: p.means[1]: must be a finite number (got .nan)"],
    "inf": ["FILE:2:11: error: q.mean: must be a finite number (got -.inf)"],
    "overflow-1e400": ["FILE:2:19: error: q.std: must be a finite number (got 1e400)"],
    "huge-integer": [
        "FILE:2:11: error: q.mean: must be a finite number (got "
        "1000000000000000000000000000000000000000... (401 characters))"
    ],
    "zero-std": ["FILE:1:33: error: p.stds[1]: must be > 0 (got 0)"],
    "negative-std": ["FILE:4:14: error: keyframes[0].q.std: must be > 0 (got -0.5)"],
    "negative-weight": [
        "FILE:1:15: error: p.weights[0]: must be <= 1 (got 1.25)",
        "FILE:1:21: error: p.weights[1]: must be >= 0 (got -0.25)",
    ],
    "zero-sum-weights": [
        "FILE:1:14: error: p.weights: must sum to 1 (they sum to 0); "
        "leave weights out for equal weights"
    ],
    "weights-not-summing": [
        "FILE:1:14: error: p.weights: must sum to 1 (they sum to 0.9); "
        "leave weights out for equal weights"
    ],
    "length-mismatch": [
        "FILE:4:9: error: p.stds: weights, means and stds must have one length "
        "(got 2 weights, 3 means, 2 stds)"
    ],
    "component-count-change": [
        f"FILE:4:{column}: error: keyframes[0].p.{key}: p has 2 component(s); a keyframe cannot "
        "change that (got 3)"
        for column, key in ((16, "means"), (33, "stds"), (53, "weights"))
    ],
    # -- timing and look ------------------------------------------------------------------
    "zero-duration": ["FILE:5:15: error: keyframes[0].duration: must be > 0 (got 0)"],
    "negative-duration": ["FILE:3:22: error: defaults.duration: must be > 0 (got -2.75)"],
    "negative-hold": ["FILE:4:12: error: keyframes[0].hold: must be >= 0 (got -1)"],
    "unknown-easing": [
        "FILE:5:13: error: keyframes[0].easing: unknown easing 'ease_in_out_quadd'; did you mean "
        "'ease_in_out_quad'? (`kldemo easings` lists them)"
    ],
    "bad-colour": [
        f"FILE:3:18: error: style.p_color: {COLOUR} (got the string '#58C4D')",
        f"FILE:3:37: error: style.q_color: {COLOUR} (got the string 'chartreuse')",
    ],
    "reversed-range": [
        "FILE:4:12: error: view.x_range: must go up: [low, high] (got [10, -1])",
        "FILE:5:12: error: view.y_range: must go up: [low, high] (got [0.5, 0.5])",
    ],
    # -- limits ---------------------------------------------------------------------------
    "too-many-components": [
        "FILE:2:10: error: p.means: must have at most 16 items (got 17)",
        "FILE:3:9: error: p.stds: must have at most 16 items (got 17)",
    ],
    "too-many-keyframes": ["FILE:4:3: error: keyframes: must have at most 1000 items (got 1001)"],
    "over-an-hour": [
        "FILE:5:3: error: keyframes: the video would last 3,610 s; the limit is one hour (3600 s)"
    ],
    "over-an-hour-in-one-keyframe": [
        "FILE:4:16: error: keyframes[0].duration: must be <= 3600 (got 3601)"
    ],
    "too-many-errors": [
        *(
            f"FILE:{4 + i}:9: error: keyframes[{i}].q.x: unknown key 'x'; known keys: weights, "
            "means, stds, covs, mean, std, cov"
            for i in range(100)
        ),
        "FILE: error: 900 more error(s) not shown; fix these first, then check the file again",
    ],
}


def _oversize(path: Path) -> None:
    # A valid config padded with a comment to one byte over the limit.
    pad = MAX_BYTES + 1 - len(VALID) - len("#\n")
    path.write_text(VALID + "#" + "x" * pad + "\n", encoding="utf-8")


def _too_many_errors(path: Path) -> None:
    path.write_text(VALID + "keyframes:\n" + "  - q: {x: 1}\n" * 1000, encoding="utf-8")


GENERATED: dict[str, Callable[[Path], None]] = {
    "oversize": _oversize,
    "too-many-errors": _too_many_errors,
}
CASES = sorted(EXPECTED)


def test_the_corpus_and_the_table_name_the_same_cases():
    on_disk = {path.stem for path in CORPUS.glob("*.yaml")}
    assert on_disk.isdisjoint(GENERATED)
    assert on_disk | set(GENERATED) == set(EXPECTED)
    assert len(on_disk) >= 30


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder, an output folder and a cache folder, all under tmp_path."""
    for name in ("cwd", "out"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("KLDEMO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path


def case_file(name: str, sandbox: Path) -> Path:
    if name in GENERATED:
        path = sandbox / "input" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        GENERATED[name](path)
        return path
    return CORPUS / f"{name}.yaml"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def expected_lines(name: str, path: Path) -> list[str]:
    return [line.replace("FILE", str(path), 1) for line in EXPECTED[name]]


def render_args(path: Path, sandbox: Path) -> list[str]:
    return [
        "render",
        str(path),
        "-r",
        "160,90",
        "--fps",
        "5",
        "--no-cache",
        "-o",
        str(sandbox / "out" / "out.mp4"),
    ]


def kldemo_command() -> list[str]:
    script = Path(sys.executable).with_name("kldemo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kldemo"]


def run_kldemo(args: list[str], sandbox: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            kldemo_command() + args,
            cwd=sandbox / "cwd",
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"kldemo {' '.join(args)} ran past {TIME_LIMIT} s")


def assert_refused(
    name: str,
    path: Path,
    sandbox: Path,
    code: int,
    stdout: str,
    stderr: str,
    before: dict[str, tuple[int, int]],
) -> None:
    assert "Traceback" not in stderr
    assert stderr.splitlines() == expected_lines(name, path)
    assert stdout == ""
    assert code == 2
    assert snapshot(sandbox) == before, "something was written"
    assert not (sandbox / "cwd" / "media").exists()
    assert not (sandbox / "cwd" / "kldemo-was-here").exists()  # object-tag's payload


@pytest.mark.parametrize("name", CASES)
def test_validate_refuses_it(name: str, sandbox: Path):
    path = case_file(name, sandbox)
    before = snapshot(sandbox)
    done = run_kldemo(["validate", str(path)], sandbox)
    assert_refused(name, path, sandbox, done.returncode, done.stdout, done.stderr, before)


@pytest.mark.parametrize("name", CASES)
def test_render_refuses_it(name: str, sandbox: Path, monkeypatch: pytest.MonkeyPatch):
    # In this process, through the same entry point as the kldemo command, to keep the
    # suite fast; test_render_refuses_it_as_a_command runs a few as real commands.
    path = case_file(name, sandbox)
    before = snapshot(sandbox)
    monkeypatch.chdir(sandbox / "cwd")
    stdout, stderr = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    began = time.perf_counter()
    with pytest.raises(SystemExit) as exit_:
        main(render_args(path, sandbox))
    assert time.perf_counter() - began < TIME_LIMIT
    monkeypatch.undo()
    assert_refused(
        name, path, sandbox, exit_.value.code, stdout.getvalue(), stderr.getvalue(), before
    )


@pytest.mark.parametrize("name", ["object-tag", "alias-bomb", "oversize", "syntax-bad-indent"])
def test_render_refuses_it_as_a_command(name: str, sandbox: Path):
    path = case_file(name, sandbox)
    before = snapshot(sandbox)
    done = run_kldemo(render_args(path, sandbox), sandbox)
    assert_refused(name, path, sandbox, done.returncode, done.stdout, done.stderr, before)


def test_validate_reports_each_bad_file_and_goes_on(sandbox: Path):
    good = sandbox / "input" / "good.yaml"
    good.parent.mkdir()
    good.write_text(VALID, encoding="utf-8")
    bad = [CORPUS / "tab-indent.yaml", CORPUS / "zero-std.yaml"]
    done = run_kldemo(["validate", str(bad[0]), str(good), str(bad[1])], sandbox)
    assert done.returncode == 2
    assert done.stdout == f"{good}: ok\n"
    assert done.stderr.splitlines() == [
        *expected_lines("tab-indent", bad[0]),
        *expected_lines("zero-std", bad[1]),
    ]


def test_the_object_tag_would_run_its_payload_if_it_were_executed(tmp_path, monkeypatch):
    # The check above (no kldemo-was-here) means something: an unsafe loader does run it.
    import yaml

    monkeypatch.chdir(tmp_path)
    yaml.unsafe_load((CORPUS / "object-tag.yaml").read_text(encoding="utf-8"))
    assert (tmp_path / "kldemo-was-here").exists()
