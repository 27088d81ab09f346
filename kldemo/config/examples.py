"""The example configs bundled with kldemo (``configs/`` in the repository), and the data
files they read (``configs/data/``), which travel with them."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

DEFAULT_EXAMPLE = "asym-kl"


def example_dir() -> Path:
    """The folder of bundled examples, installed (kldemo/configs) or in the source tree."""
    from importlib.util import find_spec

    try:
        spec = find_spec("kldemo.configs")  # a data-only (namespace) package
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location)
        if any(folder.glob("*.yaml")):
            return folder
    return Path(__file__).resolve().parents[2] / "configs"


def examples() -> dict[str, Path]:
    """Every bundled example by name (its file's stem), in name order."""
    # By stem, not by file name: mode-seeking before mode-seeking-2d ("." sorts after "-").
    return {path.stem: path for path in sorted(example_dir().glob("*.yaml"), key=lambda p: p.stem)}


def summary(path: Path) -> str:
    """An example's one-line description: the first comment after the modeline."""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("#") and "yaml-language-server" not in text:
            return text.lstrip("# ").rstrip()
    return ""


def data_files(path: Path) -> list[PurePosixPath]:
    """The data files an example reads (its ``p.samples``), relative to the example's folder.

    A copy of the example (``kldemo init``) needs them at the same relative paths beside it.
    A bundled example names only files inside the examples' folder: an absolute path, or
    one that climbs out with ``..``, is a ValueError (a packaging mistake, not user input).

    >>> data_files(example_dir() / "data-histogram.yaml")
    [PurePosixPath('data/bimodal.csv')]
    >>> data_files(example_dir() / "asym-kl.yaml")
    []
    """
    from kldemo.config.yamlfile import read_yaml

    config = read_yaml(path).data
    p = config.get("p") if isinstance(config, dict) else None
    written = p.get("samples") if isinstance(p, dict) else None
    if not isinstance(written, str):
        return []
    relative = PurePosixPath(written)
    if relative.is_absolute() or ".." in relative.parts or "\\" in written:
        raise ValueError(
            f"{path}: p.samples must name a file inside the examples' folder, got {written!r}"
        )
    return [relative]
