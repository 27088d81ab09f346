"""p from data: reading samples (CSV and .npy), the Gaussian mixture estimate and its cache.

Every file in tests/corpus/data/ is a malformed data file, refused with exactly the lines in
EXPECTED (FILE standing for its path); the cases too big to commit (over 100 MiB, over a
million rows) are written at run time. The bundled configs/data/ files are checked to be
what configs/data/make_data.py writes, and the estimate to recover the blobs they hold.
"""

from __future__ import annotations

import doctest
import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import kldemo.config.data as data_module
import kldemo.config.estimate as estimate_module
from kldemo.config.data import MAX_DATA_BYTES, MAX_SAMPLES, NamedAt, data_path, read_samples
from kldemo.config.estimate import (
    Estimate,
    estimate_density,
    sample_gaussian,
    samples_key,
)
from kldemo.config.yamlfile import read_yaml
from kldemo.core.mixture import MAX_STD, MIN_STD, Mixture
from kldemo.core.plane import PlaneMixture
from kldemo.errors import ConfigError

from .conftest import REPO

CORPUS = Path(__file__).parent / "corpus" / "data"
BUNDLED = REPO / "configs" / "data"
SAMPLES_AT = NamedAt("c.yaml", 3, 12, "p.samples")
COMPONENTS_AT = NamedAt("c.yaml", 4, 15, "p.components")

EMPTY_CSV = "FILE: error: the file is empty: write one sample per row (x, or x,y for 2-D)"
NOT_UTF8 = "is not UTF-8 text; kldemo reads CSV files as UTF-8 text: is this a binary file?"
MISSING = "marks a missing value: delete the row, or fill in its value"
OUTSIDE = "is outside ±10,000, the range kldemo works in: rescale the data"
SHAPES = "samples are an array of shape (N,) or (N, 1) in 1-D, (N, 2) in 2-D"

# name -> (the dims the config asks for, None to take them from the file; the lines)
EXPECTED: dict[str, tuple[int | None, list[str]]] = {
    # -- CSV: bad cells, each at its line and column --------------------------------------
    "not-a-number.csv": (None, ["FILE:3:5: error: 'abc' is not a number"]),
    "empty-cell.csv": (None, ["FILE:3:1: error: an empty cell: fill in a number"]),
    "nan.csv": (None, [f"FILE:3:1: error: 'NaN' {MISSING}"]),
    "inf.csv": (None, ["FILE:2:4: error: '-inf' is infinite: samples must be finite numbers"]),
    "overflow.csv": (
        None,
        ["FILE:2:1: error: '1e400' is too large for a float: it overflows to infinity"],
    ),
    "out-of-range.csv": (None, [f"FILE:3:1: error: '20000' {OUTSIDE}"]),
    "semicolons.csv": (
        None,
        ["FILE:2:1: error: '1;2' is not a number; cells are separated by commas"],
    ),
    "several-errors.csv": (
        None,
        [
            "FILE:3:1: error: 'foo' is not a number",
            "FILE:4:4: error: 'bar' is not a number",
            "FILE:5:2: error: a row of 1 cell where the file has 2 columns",
            f"FILE:6:3: error: 'nan' {MISSING}",
            "FILE:7:1: error: '1e400' is too large for a float: it overflows to infinity",
            f"FILE:7:7: error: '20000' {OUTSIDE}",
        ],
    ),
    # -- CSV: rows and columns -----------------------------------------------------------
    "ragged-short.csv": (
        None,
        ["FILE:3:2: error: a row of 1 cell where the file has 2 columns"],
    ),
    "ragged-long.csv": (None, ["FILE:2:5: error: a row of 3 cells where the file has 2 columns"]),
    "trailing-comma.csv": (
        None,
        ["FILE:2:5: error: a row of 3 cells where the file has 2 columns"],
    ),
    "blank-line.csv": (None, ["FILE:3:1: error: an empty row: delete it, or fill in its values"]),
    "three-columns.csv": (
        None,
        ["FILE:1:5: error: 3 columns: samples have one column (1-D) or two (2-D: x,y)"],
    ),
    "one-column-for-2d.csv": (
        2,
        ["FILE:1:2: error: 1 column, but p is 2-D in this config: each row needs 2 numbers (x,y)"],
    ),
    "empty.csv": (None, [EMPTY_CSV]),
    "whitespace-only.csv": (None, [EMPTY_CSV]),
    "header-only.csv": (
        None,
        ["FILE: error: only a header row (x,y): write one sample per row below it"],
    ),
    # -- CSV: not text -------------------------------------------------------------------
    "binary-garbage.csv": (None, [f"FILE:2:1: error: byte 0x89 {NOT_UTF8}"]),
    "utf-16.csv": (None, [f"FILE:1:1: error: byte 0xff {NOT_UTF8}"]),
    "nul-byte.csv": (
        None,
        ["FILE:2:3: error: a NUL character: this looks like a binary file, not CSV text"],
    ),
    "npy-named-csv.csv": (
        None,
        ["FILE: error: is a .npy array, not CSV text: give it the .npy suffix"],
    ),
    # -- .npy ----------------------------------------------------------------------------
    "nan.npy": (
        None,
        ["FILE: error: NaN at index [1, 0] (and 1 more): samples must be finite numbers"],
    ),
    "out-of-range.npy": (None, [f"FILE: error: -20000 at index [1] (and 1 more) {OUTSIDE}"]),
    "object.npy": (
        None,
        [
            "FILE: error: an array of Python objects, which kldemo does not load (it would "
            "run pickled code): save the samples as numbers, such as array.astype(float)"
        ],
    ),
    "strings.npy": (
        None,
        ["FILE: error: an array of <U1 values: the samples must be real numbers (float or int)"],
    ),
    "three-d.npy": (None, [f"FILE: error: an array of shape (4, 2, 2): {SHAPES}"]),
    "three-columns.npy": (None, [f"FILE: error: an array of shape (5, 3): {SHAPES}"]),
    "two-d-for-1d.npy": (
        1,
        ["FILE: error: an array of shape (3, 2) holds 2-D samples, but p is 1-D here"],
    ),
    "zero-length.npy": (None, ["FILE: error: an array of shape (0, 2) holds no samples"]),
    "truncated.npy": (
        None,
        [
            "FILE: error: cut short: its header promises an array of shape (100, 2), 1,600 "
            "bytes of data, and the file holds 72"
        ],
    ),
    "not-npy.npy": (
        None,
        ["FILE: error: is not a .npy array (it does not begin as one): save it with numpy.save"],
    ),
    "empty.npy": (None, ["FILE: error: the file is empty: save the samples with numpy.save"]),
}


def refusal(path: Path, dims: int | None = None, at: NamedAt = SAMPLES_AT) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        read_samples(path, dims, at)
    return [str(d) for d in caught.value.diagnostics]


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def npy(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


# -- the corpus ---------------------------------------------------------------------------


def test_the_corpus_and_the_expectations_name_the_same_files() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(EXPECTED)
    assert len(EXPECTED) >= 15


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_file_is_refused_with_its_whole_message(name: str) -> None:
    dims, lines = EXPECTED[name]
    path = CORPUS / name
    assert refusal(path, dims) == [line.replace("FILE", str(path)) for line in lines]


def test_a_bad_cell_is_reported_in_the_data_file_not_the_config() -> None:
    path = CORPUS / "not-a-number.csv"
    with pytest.raises(ConfigError) as caught:
        read_samples(path, None, SAMPLES_AT)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == (str(path), 3, 5)


def test_past_100_errors_one_line_counts_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path / "many.csv", "x\n" + "oops\n" * 150)
    lines = refusal(path)
    assert len(lines) == 101
    assert lines[0] == f"{path}:2:1: error: 'oops' is not a number"
    assert lines[99] == f"{path}:101:1: error: 'oops' is not a number"
    assert lines[100] == (
        f"{path}: error: 50 more error(s) not shown; fix these first, then check the file again"
    )


# -- files the config names but kldemo cannot read: reported at the YAML key -----------------


def test_a_missing_file_is_reported_at_the_yaml_key(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    assert refusal(path) == [
        f"c.yaml:3:12: error: p.samples: no such file: {path} (a relative path is read from "
        "the config's folder)"
    ]


def test_a_folder_is_not_a_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "samples.csv"
    folder.mkdir()
    assert refusal(folder) == [
        f"c.yaml:3:12: error: p.samples: {folder} is a folder, not a data file"
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_refused_without_reading_it(tmp_path: Path) -> None:
    pipe = tmp_path / "samples.csv"
    os.mkfifo(pipe)
    assert refusal(pipe) == [
        f"c.yaml:3:12: error: p.samples: {pipe} is not a plain file; name a .csv or .npy file"
    ]


@pytest.mark.parametrize(
    ("name", "shown"), [("samples.json", "a .json file"), ("samples", "a file without a suffix")]
)
def test_a_suffix_kldemo_does_not_read_is_refused(tmp_path: Path, name: str, shown: str) -> None:
    path = write(tmp_path / name, "1\n2\n")
    assert refusal(path) == [
        f"c.yaml:3:12: error: p.samples: {path}: kldemo reads samples from .csv (or .txt) and "
        f".npy files, not {shown}"
    ]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_reported_at_the_yaml_key(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.csv", "1\n")
    path.chmod(0)
    assert refusal(path) == [
        f"c.yaml:3:12: error: p.samples: {path} cannot be read: permission denied"
    ]


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_a_file_over_100_mib_is_refused_before_it_is_read(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"huge{suffix}"
    with path.open("wb") as file:
        file.truncate(MAX_DATA_BYTES + 1)  # sparse: no disk used
    assert refusal(path) == [
        f"c.yaml:3:12: error: p.samples: {path} is 104,857,601 bytes; kldemo reads data files "
        "up to 100 MiB (104,857,600 bytes): use a random sample of the rows"
    ]


def test_a_file_of_exactly_100_mib_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as file:  # one row, then zero bytes up to exactly 100 MiB
        file.write(b"1\n")
        file.truncate(MAX_DATA_BYTES)
    # Zero bytes are not text: the file is read (not refused for its size) and then refused.
    assert refusal(path) == [
        f"{path}:2:1: error: a NUL character: this looks like a binary file, not CSV text"
    ]


# -- the limit on samples -------------------------------------------------------------------


def test_more_than_a_million_rows_are_refused_at_the_first_too_many(tmp_path: Path) -> None:
    path = write(tmp_path / "many.csv", "x\n" + "0\n" * (MAX_SAMPLES + 1))
    assert refusal(path) == [
        f"{path}:1000002:1: error: more than 1,000,000 samples; kldemo estimates p from up to "
        "1,000,000: use a random sample of the rows"
    ]


def test_more_than_a_million_npy_samples_are_refused(tmp_path: Path) -> None:
    path = npy(tmp_path / "many.npy", np.zeros(MAX_SAMPLES + 1))
    assert refusal(path) == [
        f"{path}: error: an array of 1,000,001 samples; kldemo estimates p from up to "
        "1,000,000: use a random sample of them"
    ]


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_the_sample_limit_itself_is_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    monkeypatch.setattr(data_module, "MAX_SAMPLES", 5)
    exactly, over = tmp_path / f"five{suffix}", tmp_path / f"six{suffix}"
    if suffix == ".csv":
        write(exactly, "0\n" * 5)
        write(over, "0\n" * 6)
    else:
        npy(exactly, np.zeros(5))
        npy(over, np.zeros(6))
    assert read_samples(exactly, None, SAMPLES_AT).shape == (5, 1)
    assert len(refusal(over)) == 1


# -- good files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x,y\n1.5,-2\n3e-2,+.5\n",  # a header
        "1.5,-2\n3e-2,+.5",  # none, and no newline at the end
        "\ufeffx,y\r\n1.5 , -2\r\n\t3e-2,+.5\r\n\r\n\n",  # BOM, CRLF, spaces, blank ends
        "1.5,-2\n0.03,0.5\n",
    ],
)
def test_a_good_2d_csv(tmp_path: Path, text: str) -> None:
    values = read_samples(write(tmp_path / "good.csv", text), None, SAMPLES_AT)
    assert values.dtype == np.float64
    assert values.tolist() == [[1.5, -2.0], [0.03, 0.5]]
    assert read_samples(tmp_path / "good.csv", 2, SAMPLES_AT).tolist() == values.tolist()


def test_a_good_1d_csv_with_and_without_a_header(tmp_path: Path) -> None:
    with_header = read_samples(write(tmp_path / "a.csv", "x\n1\n-2.25\n"), None, SAMPLES_AT)
    without = read_samples(write(tmp_path / "b.txt", "1\n-2.25\n"), 1, SAMPLES_AT)
    assert with_header.shape == without.shape == (2, 1)
    assert with_header.tolist() == without.tolist() == [[1.0], [-2.25]]


def test_every_value_is_the_float_python_reads(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(scale=100, size=(500, 2))
    text = "\n".join(f"{a!r},{b:.17e}" for a, b in values.tolist())
    assert np.array_equal(read_samples(write(tmp_path / "r.csv", text), 2, SAMPLES_AT), values)


@pytest.mark.parametrize(
    ("first", "wanted"),
    [
        ("x,2", "FILE:1:1: error: 'x' is not a number"),  # one cell is a number: data
        ("nan", f"FILE:1:1: error: 'nan' {MISSING}"),  # NaN reads as a number: data
    ],
)
def test_a_row_with_any_number_in_it_is_not_a_header(
    tmp_path: Path, first: str, wanted: str
) -> None:
    path = write(tmp_path / "h.csv", f"{first}\n1,2\n" if "," in first else f"{first}\n1\n")
    assert refusal(path) == [wanted.replace("FILE", str(path))]


@pytest.mark.parametrize(
    ("array", "shape"),
    [
        (np.array([1.0, 2.0, 3.5]), (3, 1)),
        (np.array([[1.0], [2.0], [3.5]]), (3, 1)),
        (np.array([[1.0, 2.0], [3.5, -4.0]]), (2, 2)),
        (np.array([[1, 2], [3, -4]], dtype=np.int16), (2, 2)),
        (np.array([1.5, 2.5], dtype=np.float32), (2, 1)),
        (np.asfortranarray(np.arange(6.0).reshape(3, 2)), (3, 2)),
        (np.array([1.5, -2.5], dtype=">f8"), (2, 1)),
    ],
)
def test_a_good_npy(tmp_path: Path, array: np.ndarray, shape: tuple[int, int]) -> None:
    values = read_samples(npy(tmp_path / "s.npy", array), None, SAMPLES_AT)
    assert values.dtype == np.float64 and values.shape == shape
    assert np.array_equal(values, np.asarray(array, dtype=float).reshape(shape))


def test_an_npy_is_loaded_without_pickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: seen.append(k) or real(*a, **k))
    read_samples(npy(tmp_path / "s.npy", np.ones(3)), None, SAMPLES_AT)
    assert seen == [{"allow_pickle": False}]


def test_data_paths_are_relative_to_the_config() -> None:
    assert data_path("data/b.csv", Path("configs/x.yaml")) == Path("configs/data/b.csv")
    assert data_path("/abs/b.csv", Path("configs/x.yaml")) == Path("/abs/b.csv")
    assert data_path("b.csv", "<dict>") == Path("b.csv")  # a dict config: the working folder


def test_the_yaml_key_position_comes_from_the_document(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "p:\n  samples: data/b.csv\n  components: 3\nq: {}\n")
    document = read_yaml(config)
    assert NamedAt.of(document, ("p", "samples")) == NamedAt(str(config), 2, 12, "p.samples")
    at = NamedAt.of(document, ("p", "components"))
    assert str(at.diagnostic("too many")) == f"{config}:3:15: error: p.components: too many"


# -- the bundled data -----------------------------------------------------------------------


def load_make_data() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_data", BUNDLED / "make_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_files_are_what_make_data_writes(tmp_path: Path) -> None:
    make_data = load_make_data()
    rng = np.random.default_rng(make_data.SEED)
    make_data.write_csv(tmp_path / "blobs.csv", "x,y", make_data.blobs(rng))
    make_data.write_csv(tmp_path / "bimodal.csv", "x", make_data.bimodal(rng))
    for name in ("blobs.csv", "bimodal.csv"):
        assert (tmp_path / name).read_bytes() == (BUNDLED / name).read_bytes()
    assert (BUNDLED / "blobs.csv").read_text().splitlines()[0] == "x,y"
    assert (BUNDLED / "bimodal.csv").read_text().splitlines()[0] == "x"


def test_the_estimate_recovers_the_two_blobs() -> None:
    samples = read_samples(BUNDLED / "blobs.csv", None, SAMPLES_AT)
    estimate = estimate_density(samples, "auto", components_at=COMPONENTS_AT)
    assert estimate.components == 2 and estimate.samples == len(samples) == 400
    # The generator (make_data.py): 240 around (-2.5, 0.5), std 0.6 with correlation 0.4;
    # 160 around (2.5, -0.5), std 0.8. Each mean within 4 standard errors.
    assert np.all(np.abs(estimate.means[0] - [-2.5, 0.5]) < 4 * 0.6 / np.sqrt(240))
    assert np.all(np.abs(estimate.means[1] - [2.5, -0.5]) < 4 * 0.8 / np.sqrt(160))
    assert abs(estimate.weights[0] - 0.6) < 4 * np.sqrt(0.6 * 0.4 / 400)
    assert estimate.covs is not None and estimate.stds is None
    true_first = 0.36 * np.array([[1.0, 0.4], [0.4, 1.0]])
    assert np.allclose(estimate.covs[0], true_first, atol=0.1)
    assert np.allclose(estimate.covs[1], 0.64 * np.eye(2), atol=0.15)
    assert np.array_equal(estimate.covs, np.swapaxes(estimate.covs, -1, -2))
    assert isinstance(estimate.mixture(), PlaneMixture)


def test_auto_picks_two_for_the_bimodal_file_and_one_for_one_gaussian() -> None:
    samples = read_samples(BUNDLED / "bimodal.csv", None, SAMPLES_AT)
    estimate = estimate_density(samples, "auto", components_at=COMPONENTS_AT)
    assert estimate.components == 2
    assert abs(estimate.means[0] + 2.0) < 4 * 0.7 / np.sqrt(180)
    assert abs(estimate.means[1] - 2.5) < 4 * 1.0 / np.sqrt(120)
    assert isinstance(estimate.mixture(), Mixture) and estimate.covs is None
    one = np.random.default_rng(5).normal(1.0, 2.0, size=(400, 1))
    assert estimate_density(one, "auto", components_at=COMPONENTS_AT).components == 1


def test_the_mean_log_likelihood_is_the_mixtures_over_the_samples() -> None:
    x = np.random.default_rng(6).normal([0.0] * 150 + [5.0] * 150, 1.0)[:, None]
    estimate = estimate_density(x, 2, components_at=COMPONENTS_AT)
    assert estimate.stds is not None
    w, m, s = estimate.weights, estimate.means, estimate.stds
    densities = w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    assert estimate.mean_log_likelihood == pytest.approx(np.log(densities.sum(1)).mean(), 1e-10)
    assert estimate.summary() == {
        "method": "gmm",
        "components": 2,
        "samples": 300,
        "mean_log_likelihood": estimate.mean_log_likelihood,
    }
    assert list(m) == sorted(m) and w.sum() == pytest.approx(1.0, abs=1e-15)


# -- spreads kept in the verified range -----------------------------------------------------


def test_spreads_are_clipped_into_the_verified_range() -> None:
    same = np.full((5, 1), 2.0)
    assert estimate_density(same, 1, components_at=COMPONENTS_AT).stds.tolist() == [MIN_STD]
    wide = np.array([[-5000.0], [5000.0]] * 10)
    assert estimate_density(wide, 1, components_at=COMPONENTS_AT).stds.tolist() == [MAX_STD]
    line = np.repeat(np.linspace(-3, 3, 50)[:, None], 2, axis=1)  # all on y = x: singular
    estimate = estimate_density(line, 1, components_at=COMPONENTS_AT)
    assert estimate.covs is not None
    eigenvalues = np.linalg.eigvalsh(estimate.covs)
    assert np.all(eigenvalues >= MIN_STD**2 * (1 - 1e-9))
    assert np.array_equal(estimate.covs, np.swapaxes(estimate.covs, -1, -2))
    PlaneMixture(estimate.weights, estimate.means, estimate.covs)  # positive definite


def test_sample_gaussian_is_the_maximum_likelihood_gaussian() -> None:
    rng = np.random.default_rng(7)
    x1 = rng.normal(3.0, 2.0, size=(1000, 1))
    mean, std = sample_gaussian(x1)
    assert isinstance(mean, float) and isinstance(std, float)
    assert mean == pytest.approx(np.mean(x1), abs=1e-10)
    assert std == pytest.approx(np.std(x1), abs=1e-10)  # 1/N, numpy's default
    x2 = rng.multivariate_normal([1.0, -2.0], [[2.0, 0.7], [0.7, 1.0]], size=1000)
    mean2, cov2 = sample_gaussian(x2)
    assert np.allclose(mean2, x2.mean(axis=0), rtol=0, atol=1e-10)
    assert np.allclose(cov2, np.cov(x2.T, bias=True), rtol=0, atol=1e-10)
    assert np.array_equal(cov2, cov2.T)
    assert sample_gaussian(np.full((3, 1), 4.0)) == (4.0, MIN_STD)


# -- the cache ------------------------------------------------------------------------------


class FailingMixture:
    def __init__(self, *args: object, **kwargs: object):
        raise AssertionError("fitted again: the cache was not used")


def test_a_second_call_loads_the_cached_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = read_samples(BUNDLED / "blobs.csv", None, SAMPLES_AT)
    first = estimate_density(samples, 2, components_at=COMPONENTS_AT, cache_dir=tmp_path)
    (entry,) = (tmp_path / "densities").iterdir()
    assert entry.suffix == ".json" and json.loads(entry.read_text())["components"] == 2
    assert not [p for p in (tmp_path / "densities").iterdir() if p.name.startswith(".")]

    import sklearn.mixture

    monkeypatch.setattr(sklearn.mixture, "GaussianMixture", FailingMixture)
    again = estimate_density(samples, 2, components_at=COMPONENTS_AT, cache_dir=tmp_path)
    assert again.as_json() == first.as_json()
    for name in ("weights", "means", "covs"):
        assert np.array_equal(getattr(again, name), getattr(first, name))
    # Other settings or other data are other entries: they fit (and so fail here).
    with pytest.raises(AssertionError, match="fitted again"):
        estimate_density(samples, 3, components_at=COMPONENTS_AT, cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="fitted again"):
        estimate_density(samples[1:], 2, components_at=COMPONENTS_AT, cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="fitted again"):
        estimate_density(samples, 2, components_at=COMPONENTS_AT, cache_dir=None)


def test_the_content_key_names_the_entry(tmp_path: Path) -> None:
    x = np.random.default_rng(8).normal(size=(50, 1))
    estimate_density(x, 1, components_at=COMPONENTS_AT, cache_dir=tmp_path, content_key="abc")
    estimate_density(x, 1, components_at=COMPONENTS_AT, cache_dir=tmp_path)
    assert len(list((tmp_path / "densities").iterdir())) == 2
    # An entry for other data under the same key is not taken for this data's.
    plane = np.random.default_rng(8).normal(size=(50, 2))
    at = COMPONENTS_AT
    assert (
        estimate_density(plane, 1, components_at=at, cache_dir=tmp_path, content_key="abc").dims
        == 2
    )
    assert samples_key(x) == samples_key(x.copy()) != samples_key(x[:, ::-1][1:])
    assert samples_key(x) != samples_key(x.reshape(1, 50))  # the shape counts too


def test_a_damaged_entry_is_fitted_again_and_replaced(tmp_path: Path) -> None:
    x = np.random.default_rng(9).normal(size=(60, 2))
    good = estimate_density(x, 1, components_at=COMPONENTS_AT, cache_dir=tmp_path)
    (entry,) = (tmp_path / "densities").iterdir()
    for damage in ["{not json", '{"components": 1}', json.dumps({**good.as_json(), "samples": 3})]:
        entry.write_text(damage)
        again = estimate_density(x, 1, components_at=COMPONENTS_AT, cache_dir=tmp_path)
        assert again.as_json() == good.as_json()
        assert json.loads(entry.read_text()) == good.as_json()


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    write(blocked, "a file where the cache folder should be")
    x = np.random.default_rng(10).normal(size=(40, 1))
    estimate = estimate_density(x, 1, components_at=COMPONENTS_AT, cache_dir=blocked)
    assert estimate.components == 1 and blocked.is_file()


def test_a_cache_hit_imports_no_scikit_learn(tmp_path: Path) -> None:
    x = np.random.default_rng(11).normal(size=(30, 1))
    first = estimate_density(x, "auto", components_at=COMPONENTS_AT, cache_dir=tmp_path)
    np.save(tmp_path / "x.npy", x)
    script = (
        "import sys, json, numpy as np\n"
        "from kldemo.config.data import NamedAt\n"
        "from kldemo.config.estimate import estimate_density\n"
        f"x = np.load({str(tmp_path / 'x.npy')!r})\n"
        "at = NamedAt('c.yaml', 1, 1, 'p.components')\n"
        f"e = estimate_density(x, 'auto', components_at=at, cache_dir=__import__('pathlib')"
        f".Path({str(tmp_path)!r}))\n"
        "print(json.dumps([e.as_json(), 'sklearn' in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded, imported = json.loads(result.stdout)
    assert loaded == first.as_json() and imported is False


# -- arguments ------------------------------------------------------------------------------


def test_fewer_samples_than_components_is_an_error_at_the_components_key() -> None:
    with pytest.raises(ConfigError) as caught:
        estimate_density(np.zeros((2, 1)), 3, components_at=COMPONENTS_AT)
    assert str(caught.value) == (
        "c.yaml:4:15: error: p.components: 3 components need at least 3 samples; the data "
        "has 2 samples: use fewer components, or `auto`"
    )


def test_auto_never_asks_for_more_components_than_samples() -> None:
    x = np.array([[0.0], [1.0], [5.0]])
    assert 1 <= estimate_density(x, "auto", components_at=COMPONENTS_AT).components <= 3


@pytest.mark.parametrize("components", [0, 17, True, "two", 2.0])
def test_components_out_of_range_are_argument_errors(components: object) -> None:
    with pytest.raises(ValueError, match=r"components must be 'auto' or an integer in 1\.\.16"):
        estimate_density(np.zeros((20, 1)), components, components_at=COMPONENTS_AT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "samples", [np.zeros(5), np.zeros((5, 3)), np.zeros((0, 1)), np.array([[np.nan]])]
)
def test_samples_of_the_wrong_shape_are_argument_errors(samples: np.ndarray) -> None:
    with pytest.raises(ValueError, match="samples must"):
        estimate_density(samples, 1, components_at=COMPONENTS_AT)
    with pytest.raises(ValueError, match="samples must"):
        sample_gaussian(samples)


def test_an_estimate_round_trips_through_json() -> None:
    x = np.random.default_rng(12).normal(size=(80, 2))
    estimate = estimate_density(x, 2, components_at=COMPONENTS_AT)
    again = Estimate.from_json(json.loads(json.dumps(estimate.as_json())))
    assert again.as_json() == estimate.as_json()
    assert not again.means.flags.writeable
    with pytest.raises(ValueError, match="shapes"):
        Estimate.from_json({**estimate.as_json(), "components": 3})


def test_the_doctests() -> None:
    for module in (data_module, estimate_module):
        assert doctest.testmod(module).failed == 0


def test_read_samples_only_reads_the_named_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "s.csv", "1\n2\n")
    write(tmp_path / "other.csv", "3\n")
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object) -> io.IOBase:
        opened.append(self)
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", spy)
    read_samples(path, None, SAMPLES_AT)
    assert opened == [path]
