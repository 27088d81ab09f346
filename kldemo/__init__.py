"""kldemo: videos that show why KL divergence is asymmetric.

The package is a pipeline of small rooms, data flowing one way::

    YAML file -> config   (validated models, with source positions)
              -> timeline (the state at time t, a pure function)
              -> core     (densities and divergences; no manim)
              -> scenes   (draws a state; knows nothing of YAML)
              -> render   (manim settings, workers, cache, atomic output)

``cli`` only parses options and calls the rooms above.
"""

__version__ = "0.1.0"
