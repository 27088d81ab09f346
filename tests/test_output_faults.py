"""Outputs that cannot be written: one clear line naming the target and what to do, exit 1
(a folder given to `still -o`: exit 2), and nothing partial left beside the target.

Each fault is simulated in this process (a monkeypatched EACCES or ENOSPC), and, where the
machine allows, also made real in a throw-away mount namespace (`unshare`): a read-only
bind of the output folder, a full tmpfs. As root, permissions do not stop writes, so the
real unwritable folder is a read-only one there; as another user it is a chmod 500 folder.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import pytest

from kldemo.cli import main

TINY_CONFIG = """\
p: {means: [4, 6], stds: [0.75, 0.75]}
q: {mean: 5, std: 1}
keyframes:
  - {q: {mean: 4}, duration: 0.4, hold: 0}
"""
SMALL = ["-r", "160,90", "--fps", "5"]
RENDER = ["render", "--no-cache", "-j", "1", "--progress", "none", *SMALL]
STILL = ["still", "--at", "0.2", *SMALL]
ELSEWHERE = "choose another output path"


@pytest.fixture(autouse=True)
def _keep_sigterm():
    # main() installs its SIGTERM handler; give pytest its own back.
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder, holding tiny.yaml; the cache kept inside it."""
    (tmp_path / "tiny.yaml").write_text(TINY_CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KLDEMO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """kldemo ARGS in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return done.value.code, out, err


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- an unwritable folder ---------------------------------------------------------------


def _refuse_to_create_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make creating a file in ``folder`` fail with EACCES, as without write permission."""
    create = tempfile.mkstemp

    def mkstemp(suffix=None, prefix=None, dir=None, text=False):
        if dir is not None and Path(dir).resolve() == folder.resolve():
            name = os.path.join(dir, f"{prefix or ''}xxxxxxxx{suffix or ''}")
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
        return create(suffix, prefix, dir, text)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def test_render_into_an_unwritable_folder_fails_before_rendering(work, monkeypatch, capsys):
    locked = work / "locked"
    locked.mkdir()
    _refuse_to_create_in(locked, monkeypatch)
    # Rendering first would show up as another message: the check comes before the work.
    monkeypatch.setattr("kldemo.rendering.job.build_plan", lambda *a: pytest.fail("rendered first"))
    code, out, err = run_main([*RENDER, "tiny.yaml", "-o", "locked/out.mp4"], capsys)
    assert err.splitlines() == [
        f"tiny.yaml: error: cannot write locked/out.mp4: the folder locked is not writable; "
        f"make it writable, or {ELSEWHERE}"
    ]
    assert (code, out) == (1, "")
    assert listing(locked) == []


def test_still_into_an_unwritable_folder(work, monkeypatch, capsys):
    locked = work / "locked"
    locked.mkdir()
    _refuse_to_create_in(locked, monkeypatch)
    code, out, err = run_main([*STILL, "tiny.yaml", "-o", "locked/frame.png"], capsys)
    assert err.splitlines() == [
        f"kldemo: error: cannot write locked/frame.png: the folder locked is not writable; "
        f"make it writable, or {ELSEWHERE}"
    ]
    assert (code, out) == (1, "")
    assert listing(locked) == []


def kldemo_command() -> list[str]:
    script = Path(sys.executable).with_name("kldemo")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kldemo"]


@functools.cache
def namespaces_unavailable() -> str | None:
    """Why a mount namespace cannot be made here, or None when it can."""
    if shutil.which("unshare") is None:
        return "no unshare command"
    probe = subprocess.run(
        [
            "unshare",
            "--mount",
            "--map-root-user",
            "sh",
            "-c",
            'mount -t tmpfs -o size=16k tmpfs "$1"',
            "sh",
            tempfile.gettempdir(),
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"cannot mount in a new namespace: {probe.stderr.strip()}"
    return None


def in_namespace(setup: str, folder: Path, args: list[str], cwd: Path):
    """kldemo ARGS after SETUP (a shell line on "$D", the folder) in a private mount
    namespace; its stdout is then the folder's listing, as seen inside."""
    why = namespaces_unavailable()
    if why:
        pytest.skip(f"needs a mount namespace to fake the fault for real: {why}")
    script = f'D="$1"; shift; {setup} || exit 99; "$@" >&2; status=$?; ls -A "$D"; exit $status'
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--map-root-user",
            "sh",
            "-c",
            script,
            "sh",
            str(folder),
            *kldemo_command(),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    assert done.returncode != 99, done.stderr
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout.split(), done.stderr


def test_an_unwritable_folder_for_real(work):
    locked = work / "locked"
    locked.mkdir()
    if os.geteuid() != 0:
        locked.chmod(0o500)
        runs = [
            subprocess.run(
                [*kldemo_command(), *args], capture_output=True, text=True, cwd=work, timeout=120
            )
            for args in (
                [*RENDER, "tiny.yaml", "-o", "locked/out.mp4"],
                [*STILL, "tiny.yaml", "-o", "locked/frame.png"],
            )
        ]
        results = [(r.returncode, listing(locked), r.stderr) for r in runs]
        reason = f"the folder locked is not writable; make it writable, or {ELSEWHERE}"
    else:  # root writes anywhere: a read-only bind mount stops it
        bind = 'mount --bind "$D" "$D" && mount -o remount,bind,ro "$D"'
        results = [
            in_namespace(bind, locked, args, work)
            for args in (
                [*RENDER, "tiny.yaml", "-o", "locked/out.mp4"],
                [*STILL, "tiny.yaml", "-o", "locked/frame.png"],
            )
        ]
        reason = f"locked is on a read-only file system; {ELSEWHERE}"
    (code, inside, err), (still_code, still_inside, still_err) = results
    assert (code, inside) == (1, [])
    assert err.splitlines() == [f"tiny.yaml: error: cannot write locked/out.mp4: {reason}"]
    assert (still_code, still_inside) == (1, [])
    assert still_err.splitlines() == [f"kldemo: error: cannot write locked/frame.png: {reason}"]
    assert listing(locked) == []


# -- a full disk --------------------------------------------------------------------------

FULL = f"no space left on the device; free some space, or {ELSEWHERE}"


def _no_space(path: str) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


@pytest.mark.render
def test_a_full_disk_while_joining_the_video(work, monkeypatch, capsys):
    (work / "out").mkdir()
    older = work / "out" / "tiny.mp4"
    older.write_bytes(b"an older video")

    def join_segments(segments, target, fmt, settings, *rest, **options):
        Path(target).write_bytes(b"the first part of a video")  # then the disk is full
        raise _no_space(str(target))

    monkeypatch.setattr("kldemo.rendering.video.join_segments", join_segments)
    code, out, err = run_main([*RENDER, "tiny.yaml", "-o", "out/tiny.mp4"], capsys)
    assert err.splitlines() == [f"tiny.yaml: error: cannot write out/tiny.mp4: {FULL}"]
    assert (code, out) == (1, "")
    assert listing(work / "out") == ["tiny.mp4"]
    assert older.read_bytes() == b"an older video"


@pytest.mark.render
def test_a_full_disk_while_writing_a_still(work, monkeypatch, capsys):
    from PIL import Image

    (work / "out").mkdir()
    older = work / "out" / "frame.png"
    older.write_bytes(b"an older frame")

    def save(self, fp, format=None, **params):
        Path(fp).write_bytes(b"\x89PNG partial")
        raise _no_space(str(fp))

    monkeypatch.setattr(Image.Image, "save", save)
    code, out, err = run_main([*STILL, "tiny.yaml", "-o", "out/frame.png"], capsys)
    assert err.splitlines() == [f"kldemo: error: cannot write out/frame.png: {FULL}"]
    assert (code, out) == (1, "")
    assert listing(work / "out") == ["frame.png"]
    assert older.read_bytes() == b"an older frame"


@pytest.mark.render
def test_a_full_disk_for_real(work):
    disk = work / "disk"
    disk.mkdir()
    fill = (
        'mount -t tmpfs -o size=16k tmpfs "$D" && '
        '{ dd if=/dev/zero of="$D/fill" bs=4k count=100 2>/dev/null; true; }'
    )
    code, inside, err = in_namespace(fill, disk, [*RENDER, "tiny.yaml", "-o", "disk/out.mp4"], work)
    assert err.splitlines() == [f"tiny.yaml: error: cannot write disk/out.mp4: {FULL}"]
    assert (code, inside) == (1, ["fill"])
    code, inside, err = in_namespace(
        fill, disk, [*STILL, "tiny.yaml", "-o", "disk/frame.png"], work
    )
    assert err.splitlines() == [f"kldemo: error: cannot write disk/frame.png: {FULL}"]
    assert (code, inside) == (1, ["fill"])


# -- a folder where the file goes, and missing folders -----------------------------------


def test_a_folder_in_the_way_of_the_default_target(work, capsys):
    (work / "media" / "tiny.mp4").mkdir(parents=True)
    (work / "media" / "tiny.mp4" / "keep.txt").write_text("mine")
    code, out, err = run_main([*RENDER, "tiny.yaml"], capsys)
    assert err.splitlines() == [
        f"tiny.yaml: error: cannot write media/tiny.mp4: it is a folder; remove it, or {ELSEWHERE}"
    ]
    assert (code, out) == (1, "")
    assert listing(work / "media") == ["tiny.mp4"]
    assert listing(work / "media" / "tiny.mp4") == ["keep.txt"]


def test_a_file_where_several_configs_need_a_folder(work, capsys):
    (work / "other.yaml").write_text(TINY_CONFIG, encoding="utf-8")
    (work / "videos").write_text("a file, not a folder")
    code, out, err = run_main([*RENDER, "tiny.yaml", "other.yaml", "-o", "videos"], capsys)
    assert err.splitlines() == [
        f"other.yaml: error: cannot write videos/other.mp4: videos is a file, not a folder; "
        f"{ELSEWHERE}",
        f"tiny.yaml: error: cannot write videos/tiny.mp4: videos is a file, not a folder; "
        f"{ELSEWHERE}",
    ]
    assert (code, out) == (1, "")
    assert (work / "videos").read_text() == "a file, not a folder"


def test_still_refuses_a_folder_as_its_output(work, capsys):
    (work / "frames").mkdir()
    code, out, err = run_main([*STILL, "tiny.yaml", "-o", "frames"], capsys)
    assert (code, out) == (2, "")
    assert "Invalid value for '-o' / '--output': File 'frames' is a directory." in err
    assert listing(work / "frames") == []


def frame_count(video: Path) -> int:
    with av.open(str(video)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.render
def test_render_into_an_existing_folder_writes_name_mp4_there(work, capsys):
    (work / "videos").mkdir()
    code, _, err = run_main([*RENDER, "tiny.yaml", "-o", "videos"], capsys)
    assert (code, err) == (0, "")
    assert listing(work / "videos") == ["tiny.mp4"]
    assert frame_count(work / "videos" / "tiny.mp4") == 2


@pytest.mark.render
def test_missing_folders_of_the_target_are_created(work, capsys):
    code, _, err = run_main([*RENDER, "tiny.yaml", "-o", "a/b/c/out.mp4"], capsys)
    assert (code, err) == (0, "")
    assert listing(work / "a" / "b" / "c") == ["out.mp4"]
    assert frame_count(work / "a" / "b" / "c" / "out.mp4") == 2
    code, out, err = run_main([*STILL, "tiny.yaml", "-o", "x/y/frame.png"], capsys)
    assert (code, out, err) == (0, "wrote x/y/frame.png\n", "")
    assert listing(work / "x" / "y") == ["frame.png"]
