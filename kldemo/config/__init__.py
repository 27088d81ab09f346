"""The config room: the keyframe file read safely, its typed specs, messages and schema.

It knows the format and nothing of what becomes of it: the timeline, above it, resolves the
keyframes and checks the rules that span them.
"""

from kldemo.config.spec import Config, LoadedConfig, load_config

__all__ = ["Config", "LoadedConfig", "load_config"]
