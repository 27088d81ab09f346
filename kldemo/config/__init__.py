"""The config room: the keyframe file read safely, its typed specs, messages and schema.

It knows the format and nothing of what becomes of it: the timeline, above it, resolves the
keyframes and checks the rules that span them.
"""

from kldemo.config.load import LoadedConfig, load_config
from kldemo.config.spec import ConfigSpec

__all__ = ["ConfigSpec", "LoadedConfig", "load_config"]
