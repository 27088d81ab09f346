"""The segment cache: encoded video segments keyed by everything that decides their pixels.

An entry is a segment file and a small JSON record beside it naming its size and
SHA-256; both are written atomically (temporary file, then rename), the record last, so
an entry without a record is unfinished and one whose bytes no longer match is ignored
and rendered again. Processes sharing the folder never see a half-written entry. The
folder is bounded in size: after each render the least recently used entries go.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LIMIT_BYTES = 2 << 30  # 2 GiB


def default_cache_dir() -> Path:
    """The user cache folder (platformdirs), or $KLDEMO_CACHE_DIR when set."""
    if env := os.environ.get("KLDEMO_CACHE_DIR"):
        return Path(env)
    from platformdirs import user_cache_path

    return user_cache_path("kldemo", appauthor=False)


def segment_key(*parts: bytes | str) -> str:
    """A SHA-256 over length-prefixed parts (no two part lists share a key)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheInfo:
    folder: Path
    entries: int
    bytes: int
    limit: int


class SegmentCache:
    """Encoded segments under ``folder/segments``, by key."""

    def __init__(self, folder: Path, limit: int = DEFAULT_LIMIT_BYTES):
        self.folder = Path(folder)
        self.segments = self.folder / "segments"
        self.limit = limit

    def path(self, key: str, suffix: str) -> Path:
        return self.segments / key[:2] / f"{key}{suffix}"

    def _record(self, key: str) -> Path:
        return self.segments / key[:2] / f"{key}.json"

    def get(self, key: str, suffix: str, into: Path | None = None) -> Path | None:
        """The entry's file if it is complete and intact, else None (and it is removed).

        With ``into`` (a folder on the cache's file system) the file is first hard-linked
        there and the link is checked and returned: another process evicting or clearing
        the entry meanwhile cannot take it away from the caller.
        """
        path, record = self.path(key, suffix), self._record(key)
        try:
            meta = json.loads(record.read_text())
            if into is not None:
                link = Path(into) / path.name
                link.unlink(missing_ok=True)
                os.link(path, link)
                path = link
            data = path.read_bytes()
        except (OSError, ValueError):
            return None
        if len(data) != meta.get("size") or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            self.discard(key, suffix)
            if into is not None:
                path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(record)  # recently used: evicted last
        return path

    def put(self, key: str, suffix: str, source: Path) -> Path:
        """Move a finished segment file into the cache; return its place there."""
        path = self.path(key, suffix)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        os.replace(source, path)
        meta = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "time": time.time()}
        temporary = path.with_name(f".{key}.{os.getpid()}.json.tmp")
        try:
            temporary.write_text(json.dumps(meta))
            os.replace(temporary, self._record(key))
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        return path

    def scratch(self) -> Path:
        """A folder for files being written, on the same file system as the entries."""
        folder = self.folder / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def discard(self, key: str, suffix: str) -> None:
        for path in (self._record(key), self.path(key, suffix)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _entries(self) -> Iterator[tuple[Path, list[Path], float, int]]:
        if not self.segments.is_dir():
            return
        for record in self.segments.glob("*/*.json"):
            files = [p for p in record.parent.glob(record.stem + ".*") if p != record]
            try:
                used = record.stat().st_mtime
                size = sum(p.stat().st_size for p in files) + record.stat().st_size
            except FileNotFoundError:
                continue  # removed by another process meanwhile
            yield record, files, used, size

    def info(self) -> CacheInfo:
        entries = list(self._entries())
        return CacheInfo(self.folder, len(entries), sum(e[3] for e in entries), self.limit)

    def evict(self, keep: set[str] = frozenset()) -> int:  # type: ignore[assignment]
        """Remove least recently used entries until the cache fits its limit."""
        entries = sorted(self._entries(), key=lambda e: e[2])
        total = sum(e[3] for e in entries)
        removed = 0
        for record, files, _, size in entries:
            if total <= self.limit:
                break
            if record.stem in keep:
                continue
            for path in (record, *files):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            total -= size
            removed += 1
        return removed

    def clear(self) -> int:
        """Remove every entry; return how many there were."""
        count = 0
        for record, files, _, _ in list(self._entries()):
            for path in (record, *files):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            count += 1
        return count
