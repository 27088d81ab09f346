"""Samples from a data file: the rows of a CSV, or a ``.npy`` array, as an (N, dims) float array.

A CSV holds one sample per row and one number per cell, cells separated by commas: one
column for 1-D samples, two (x, y) for 2-D. The first row is a header when none of its
cells reads as a number. A cell is a number when it is written in decimal, such as
``1.5``, ``-2e-3`` or ``+.5``, with spaces or tabs around it allowed. Every bad cell (not a
number, NaN, infinite, outside the range kldemo works in), every row with the wrong number
of cells and every empty row is reported at its line and character column in the data
file, all of them at once, like the errors of a YAML file.

A ``.npy`` file is loaded without pickles (``np.load(..., allow_pickle=False)``), after its
header is checked: an array of real numbers of shape (N,) or (N, 1) for 1-D, (N, 2) for 2-D,
with as many bytes as its header promises.

A file that cannot be used as a whole (missing, a folder, over 100 MiB, a suffix kldemo
does not read) is reported at the YAML key that names it (:class:`NamedAt`). Nothing is read
but the path the config names.
"""

from __future__ import annotations

import io
import re
import stat
from dataclasses import dataclass
from itertools import compress
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kldemo.config.yamlfile import DocPath, YamlDocument, format_path
from kldemo.core.mixture import MAX_ABS_MEAN
from kldemo.errors import MAX_REPORTED, ConfigError, Diagnostic

FloatArray = NDArray[np.float64]

MAX_DATA_BYTES = 100 << 20  # 100 MiB
MAX_SAMPLES = 1_000_000
# Samples beyond this are refused: a mixture fitted to them has its means within it, and so
# within the range over which the numeric core is verified.
MAX_ABS_SAMPLE = MAX_ABS_MEAN
CSV_SUFFIXES = (".csv", ".txt")
NPY_SUFFIX = ".npy"
_NPY_MAGIC = b"\x93NUMPY"

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_SPACE = " \t"


@dataclass(frozen=True)
class NamedAt:
    """Where a config names a data file or a setting: its file, line, column and path.

    Errors about a data file as a whole (or about a setting, such as too many components
    for the samples) are reported here, as ``FILE:LINE:COL: error: PATH: MESSAGE``.
    """

    file: str
    line: int | None
    column: int | None
    path: str

    @classmethod
    def of(cls, document: YamlDocument, path: DocPath) -> NamedAt:
        """The place of ``path`` (such as ``('p', 'samples')``) in a parsed config."""
        line, column = document.location(path) or (None, None)
        return cls(document.file, line, column, format_path(path))

    def diagnostic(self, message: str) -> Diagnostic:
        return Diagnostic(self.file, self.line, self.column, self.path, message)

    def error(self, message: str) -> ConfigError:
        return ConfigError([self.diagnostic(message)])


def data_path(written: str, config_file: str | Path) -> Path:
    """The file a config's ``samples: PATH`` names: ``PATH`` if absolute, else beside the config.

    >>> data_path("data/blobs.csv", "configs/blobs.yaml").as_posix()
    'configs/data/blobs.csv'
    """
    path = Path(written)
    return path if path.is_absolute() else Path(config_file).parent / path


def read_samples(path: str | Path, dims: int | None, named_at: NamedAt) -> FloatArray:
    """The samples in ``path`` as a float64 array of shape (N, dims); raise ConfigError if bad.

    ``dims`` is 1 or 2 where the config decides it, or None to take it from the file (one
    or two columns). The file's own problems are reported in the file, at the line and
    column of each bad cell of a CSV; a file that cannot be read at all, at ``named_at``.
    """
    path = Path(path)
    if dims not in (None, 1, 2):
        raise ValueError(f"dims must be 1, 2 or None, got {dims!r}")
    suffix = path.suffix.lower()
    if suffix != NPY_SUFFIX and suffix not in CSV_SUFFIXES:
        shown = f"a {path.suffix} file" if path.suffix else "a file without a suffix"
        raise named_at.error(
            f"{path}: kldemo reads samples from .csv (or .txt) and .npy files, not {shown}"
        )
    raw = _read_bytes(path, named_at)
    if suffix == NPY_SUFFIX:
        return _parse_npy(raw, str(path), dims)
    return _parse_csv(raw, str(path), dims)


def _read_bytes(path: Path, named_at: NamedAt) -> bytes:
    """The bytes of a regular file of at most MAX_DATA_BYTES, or ConfigError at ``named_at``."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise named_at.error(f"{path} is a folder, not a data file")
        if not stat.S_ISREG(info.st_mode):
            # A device or a pipe could be read forever: only plain files are data.
            raise named_at.error(f"{path} is not a plain file; name a .csv or .npy file")
        if info.st_size > MAX_DATA_BYTES:
            raise _too_big(path, info.st_size, named_at)
        with path.open("rb") as file:
            raw = file.read(MAX_DATA_BYTES + 1)
    except FileNotFoundError:
        raise named_at.error(
            f"no such file: {path} (a relative path is read from the config's folder)"
        ) from None
    except PermissionError:
        raise named_at.error(f"{path} cannot be read: permission denied") from None
    except OSError as error:
        raise named_at.error(f"{path} cannot be read: {error.strerror or error}") from None
    if len(raw) > MAX_DATA_BYTES:  # it grew after stat
        raise _too_big(path, len(raw), named_at)
    return raw


def _too_big(path: Path, size: int, named_at: NamedAt) -> ConfigError:
    return named_at.error(
        f"{path} is {size:,} bytes; kldemo reads data files up to 100 MiB "
        f"({MAX_DATA_BYTES:,} bytes): use a random sample of the rows"
    )


# -- CSV ----------------------------------------------------------------------------------


def _parse_csv(raw: bytes, name: str, dims: int | None) -> FloatArray:
    if raw.startswith(_NPY_MAGIC):
        raise ConfigError.single(name, "is a .npy array, not CSV text: give it the .npy suffix")
    text = _decode(raw, name)
    # A CR before each newline is dropped: it is at the end of its line, so no column moves.
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip(_SPACE):
        lines.pop()  # blank lines at the end
    if not lines:
        raise ConfigError.single(
            name, "the file is empty: write one sample per row (x, or x,y for 2-D)"
        )
    first = lines[0].split(",")
    header = not any(_reads_as_number(cell) for cell in first)
    if header and len(lines) == 1:
        raise ConfigError.single(
            name, f"only a header row ({lines[0].strip()}): write one sample per row below it"
        )
    start = 1 if header else 0  # the index of the first row of samples
    rows = lines[start:]
    if len(rows) > MAX_SAMPLES:
        raise ConfigError.single(
            name,
            f"more than {MAX_SAMPLES:,} samples; kldemo estimates p from up to "
            f"{MAX_SAMPLES:,}: use a random sample of the rows",
            start + MAX_SAMPLES + 1,
            1,
        )
    columns = len(first) if header else rows[0].count(",") + 1
    _check_columns(name, lines[0], columns, dims)

    values, bad_rows = _read_rows(rows, columns)
    if bad_rows.size:
        raise _cell_errors(name, rows, bad_rows, start + 1, columns)
    return values


def _read_rows(rows: list[str], columns: int) -> tuple[FloatArray, NDArray[np.intp]]:
    """The values of the rows, and the indices of the rows with a problem (in order).

    A row is read when each of its cells is a decimal number (one pattern over the row, at
    C speed); numpy's reader then gives the very floats that ``float()`` gives. Only the
    rows found bad are looked at cell by cell, for the messages.
    """
    cell = rf"[{_SPACE}]*{_NUMBER.pattern}[{_SPACE}]*"
    row = re.compile(",".join([cell] * columns))
    readable = np.fromiter(map(bool, map(row.fullmatch, rows)), dtype=bool, count=len(rows))
    kept = rows if readable.all() else list(compress(rows, readable))
    values = np.empty((0, columns))  # numpy's reader warns of a file without rows
    if kept:
        values = np.loadtxt(kept, delimiter=",", comments=None, dtype=np.float64, ndmin=2)
    out_of_range = ~np.all(np.abs(values) <= MAX_ABS_SAMPLE, axis=1)  # 1e400 (inf) too
    bad = np.union1d(np.flatnonzero(~readable), np.flatnonzero(readable)[out_of_range])
    return values, bad


def _decode(raw: bytes, name: str) -> str:
    """UTF-8 text (a BOM dropped), or ConfigError at the first byte that is not text."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start].decode("utf-8-sig")
        line, column = _place(before, len(before))
        raise ConfigError.single(
            name,
            f"byte 0x{raw[error.start]:02x} is not UTF-8 text; kldemo reads CSV files as "
            "UTF-8 text: is this a binary file?",
            line,
            column,
        ) from None
    if (nul := text.find("\0")) >= 0:
        line, column = _place(text, nul)
        raise ConfigError.single(
            name, "a NUL character: this looks like a binary file, not CSV text", line, column
        )
    return text


def _place(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _reads_as_number(cell: str) -> bool:
    """Whether a cell is written as a number, NaN and infinity included (header detection)."""
    cell = cell.strip(_SPACE)
    return bool(_NUMBER.fullmatch(cell) or _NOT_FINITE.fullmatch(cell))


def _cell_starts(row: str) -> list[int]:
    """The 0-based index in ``row`` where each of its cells begins (after spaces)."""
    starts, offset = [], 0
    for cell in row.split(","):
        starts.append(offset + len(cell) - len(cell.lstrip(_SPACE)))
        offset += len(cell) + 1
    return starts


def _check_columns(name: str, first_row: str, columns: int, dims: int | None) -> None:
    """The file's number of columns (its first row's) must be the config's, or 1 or 2."""
    wanted = dims if dims is not None else min(columns, 2)
    if columns == wanted:
        return
    # Point at the first cell too many, or at the end of the row where a cell is missing.
    column = _cell_starts(first_row)[wanted] + 1 if columns > wanted else len(first_row) + 1
    if dims is None:
        message = f"{columns} columns: samples have one column (1-D) or two (2-D: x,y)"
    else:
        message = (
            f"{_count(columns, 'column')}, but p is {dims}-D in this config: each row needs "
            f"{_count(dims, 'number')} ({'x' if dims == 1 else 'x,y'})"
        )
    raise ConfigError.single(name, message, 1, column)


def _cell_errors(
    name: str, rows: list[str], bad_rows: NDArray[np.intp], first_line: int, columns: int
) -> ConfigError:
    """Every problem of the bad rows, each at its line and column; the first 100 worded."""
    diagnostics: list[Diagnostic] = []
    total = 0
    for i in bad_rows.tolist():
        problems = _row_problems(rows[i], columns)
        total += len(problems)
        for column, message in problems[: max(0, MAX_REPORTED - len(diagnostics))]:
            diagnostics.append(Diagnostic(name, first_line + i, column, "", message))
    return ConfigError(diagnostics, total=total)


def _row_problems(row: str, columns: int) -> list[tuple[int, str]]:
    """The (1-based column, message) of each problem in one row."""
    if not row.strip(_SPACE):
        return [(1, "an empty row: delete it, or fill in its values")]
    cells, starts = row.split(","), _cell_starts(row)
    if len(cells) != columns:
        column = starts[columns] + 1 if len(cells) > columns else len(row) + 1
        return [
            (
                column,
                f"a row of {_count(len(cells), 'cell')} where the file has "
                f"{_count(columns, 'column')}",
            )
        ]
    problems = []
    for cell, start in zip(cells, starts, strict=True):
        if (message := _cell_problem(cell.strip(_SPACE))) is not None:
            problems.append((start + 1, message))
    return problems


def _cell_problem(cell: str) -> str | None:
    """Why one cell is not a sample coordinate, or None if it is one."""
    if not cell:
        return "an empty cell: fill in a number"
    if _NOT_FINITE.fullmatch(cell):
        if "n" in cell.lower().replace("inf", ""):  # nan, not inf or infinity
            return f"{cell!r} marks a missing value: delete the row, or fill in its value"
        return f"{cell!r} is infinite: samples must be finite numbers"
    if not _NUMBER.fullmatch(cell):
        hint = "; cells are separated by commas" if re.search(r"[;\t|]", cell) else ""
        return f"{cell!r} is not a number{hint}"
    value = float(cell)
    if not np.isfinite(value):
        return f"{cell!r} is too large for a float: it overflows to infinity"
    if abs(value) > MAX_ABS_SAMPLE:
        return (
            f"{cell!r} is outside ±{MAX_ABS_SAMPLE:,.0f}, the range kldemo works in: "
            "rescale the data"
        )
    return None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# -- .npy ---------------------------------------------------------------------------------


_SHAPES = "an array of shape (N,) or (N, 1) in 1-D, (N, 2) in 2-D"


def _parse_npy(raw: bytes, name: str, dims: int | None) -> FloatArray:
    if not raw:
        raise ConfigError.single(name, "the file is empty: save the samples with numpy.save")
    shape = _npy_header(raw, name)
    try:
        array = np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as error:  # pragma: no cover - the header was checked above
        raise ConfigError.single(name, f"not a valid .npy array: {error}") from None
    n = shape[0]
    if n == 0:
        raise ConfigError.single(name, f"an array of shape {shape} holds no samples")
    if n > MAX_SAMPLES:
        raise ConfigError.single(
            name,
            f"an array of {n:,} samples; kldemo estimates p from up to {MAX_SAMPLES:,}: "
            "use a random sample of them",
        )
    values = array.astype(np.float64).reshape(n, -1)
    found = values.shape[1]
    if dims is not None and found != dims:
        raise ConfigError.single(
            name, f"an array of shape {shape} holds {found}-D samples, but p is {dims}-D here"
        )
    _check_values(name, array, values)
    return values


def _npy_header(raw: bytes, name: str) -> tuple[int, ...]:
    """The shape a .npy file's header declares, its dtype and size checked before loading."""
    if not raw.startswith(_NPY_MAGIC):
        raise ConfigError.single(
            name, "is not a .npy array (it does not begin as one): save it with numpy.save"
        )
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"version {version[0]}.{version[1]} (numpy.save writes 1.0)")
    except ValueError as error:
        raise ConfigError.single(name, f"not a valid .npy array: {error}") from None
    if dtype.hasobject:
        raise ConfigError.single(
            name,
            "an array of Python objects, which kldemo does not load (it would run pickled "
            "code): save the samples as numbers, such as array.astype(float)",
        )
    if dtype.names is not None or dtype.kind not in "fiu":
        raise ConfigError.single(
            name, f"an array of {dtype} values: the samples must be real numbers (float or int)"
        )
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] not in (1, 2)):
        raise ConfigError.single(name, f"an array of shape {shape}: samples are {_SHAPES}")
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - stream.tell() < expected:
        raise ConfigError.single(
            name,
            f"cut short: its header promises an array of shape {shape}, {expected:,} bytes "
            f"of data, and the file holds {len(raw) - stream.tell():,}",
        )
    return shape


def _check_values(name: str, array: np.ndarray, values: FloatArray) -> None:
    """Finite and within ±MAX_ABS_SAMPLE, else ConfigError naming the first bad index."""
    finite = np.isfinite(values)
    if not finite.all():
        raise _first_bad(name, array, ~finite, ": samples must be finite numbers")
    outside = np.abs(values) > MAX_ABS_SAMPLE
    if outside.any():
        raise _first_bad(
            name,
            array,
            outside,
            f" is outside ±{MAX_ABS_SAMPLE:,.0f}, the range kldemo works in: rescale the data",
        )


def _first_bad(name: str, array: np.ndarray, bad: np.ndarray, why: str) -> ConfigError:
    """ConfigError naming the first flagged value of ``array`` by its index, and the count."""
    flagged = np.flatnonzero(bad.reshape(-1))  # C order: the order of array's own indices
    index = np.unravel_index(int(flagged[0]), array.shape)
    value = float(array[index])
    shown = "NaN" if np.isnan(value) else f"{value:g}"  # infinities as inf and -inf
    others = f" (and {len(flagged) - 1:,} more)" if len(flagged) > 1 else ""
    where = ", ".join(str(int(i)) for i in index)
    return ConfigError.single(name, f"{shown} at index [{where}]{others}{why}")
