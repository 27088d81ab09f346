"""The example configs bundled with kldemo (``configs/`` in the repository)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_EXAMPLE = "asym-kl"


def example_dir() -> Path:
    """The folder of bundled examples, installed (kldemo/configs) or in the source tree."""
    try:
        installed = resources.files("kldemo.configs")
        if installed.is_dir() and any(installed.iterdir()):
            return Path(str(installed))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "configs"


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
