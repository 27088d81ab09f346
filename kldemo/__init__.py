"""kldemo: videos that show why KL divergence is asymmetric.

The package is a stack of rooms, data flowing one way (docs/architecture.md)::

    YAML file -> config    (validated specs, with source positions)
              -> timeline  (the state at time t, a pure function)
              -> plan      (every frame's state and numbers; no manim)
              -> scenes    (the layout and mobjects; draws a state, knows nothing of YAML)
              -> rendering (manim under tempconfig, segments, workers, video)
              -> batch     (many configs, shards, report, exit status)

``core`` (mixtures, quadrature, divergences, fits, easings) and ``storage`` (atomic files,
the cache) sit below them all; ``cli`` and ``watch`` only parse options and call the rooms.
``api`` is the CLI's twin for Python: ``kldemo.render``, ``still``, ``kl``, ``validate``.
"""

__version__ = "0.1.0"

# The Python API (kldemo.api), reached lazily: ``import kldemo`` stays as light as the
# version, and the first use of a name imports the room that holds it. Names, not imports,
# so that the package itself imports nothing of kldemo (tests/test_architecture.py).
_LAZY = {
    "render": "kldemo.api",
    "still": "kldemo.api",
    "kl": "kldemo.api",
    "validate": "kldemo.api",
    "FitWarning": "kldemo.api",
    "ConfigError": "kldemo.errors",
    "UsageError": "kldemo.errors",
    "RenderError": "kldemo.errors",
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> object:
    """``kldemo.render`` and the other API names, imported on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'kldemo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
