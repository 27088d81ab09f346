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
"""

__version__ = "0.1.0"
