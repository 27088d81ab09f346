"""The example configs bundled with kldemo (``configs/`` in the repository)."""

from __future__ import annotations

from pathlib import Path

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
    return {path.stem: path for path in sorted(example_dir().glob("*.yaml"))}


def summary(path: Path) -> str:
    """An example's one-line description: the first comment after the modeline."""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("#") and "yaml-language-server" not in text:
            return text.lstrip("# ").rstrip()
    return ""
