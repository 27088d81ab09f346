"""Writing outputs atomically: into a temporary file beside the target, renamed on success.

After a failure or an interrupt the target is untouched and no temporary file remains. A
missing folder of the target is created. An output that cannot be written (no permission,
a read-only or full disk, a folder in the way) raises OutputError naming the target and
what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kldemo.errors import OutputError

# Errors that, raised while the temporary file is written, are the output's fault.
_WRITE_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str | None = None) -> Iterator[Path]:
    """A temporary path beside ``target``; renamed onto it when the block succeeds."""
    target = Path(target)
    try:
        temporary = _temporary_beside(target, suffix)
    except OSError as error:
        raise output_error(target, error) from error
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except OSError as error:
        if error.errno in _WRITE_FAULTS or str(temporary) in (error.filename, error.filename2):
            raise output_error(target, error) from error
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def check_writable(target: Path) -> None:
    """Raise OutputError now, before any work, if ``target`` could not be written.

    Creates the target's folder, as writing it would; leaves no file behind.
    """
    target = Path(target)
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        _temporary_beside(target, None).unlink()
    except OSError as error:
        raise output_error(target, error) from error


def _temporary_beside(target: Path, suffix: str | None) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.stem}.",
        suffix=f".tmp{suffix if suffix is not None else target.suffix}",
        dir=target.parent,
    )
    os.close(fd)
    return Path(name)


def output_error(target: Path, error: OSError) -> OutputError:
    """``error``, met while writing ``target``, as one line that says what to do."""
    failed = Path(error.filename) if error.filename else target
    where = failed.parent if failed in target.parents else target.parent  # a folder made, or not
    elsewhere = "choose another output path"
    reasons = {
        errno.EACCES: f"the folder {where} is not writable; make it writable, or {elsewhere}",
        errno.EROFS: f"{where} is on a read-only file system; {elsewhere}",
        errno.ENOSPC: f"no space left on the device; free some space, or {elsewhere}",
        errno.EDQUOT: f"the disk quota is used up; free some space, or {elsewhere}",
        errno.EISDIR: f"it is a folder; remove it, or {elsewhere}",
        errno.ENOTDIR: f"a part of its folder path is a file, not a folder; {elsewhere}",
        errno.EEXIST: f"{error.filename} is a file, not a folder; {elsewhere}",
        errno.ENAMETOOLONG: f"the name is too long; {elsewhere}",
    }
    reasons[errno.EPERM] = reasons[errno.EACCES]
    reason = reasons.get(error.errno or 0) or f"{error.strerror or error}; {elsewhere}"
    return OutputError(f"cannot write {target}: {reason}")


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
