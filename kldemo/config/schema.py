"""The JSON Schema of the keyframe format, generated from the specs in kldemo.config.spec.

Editors use it through yaml-language-server; the committed copy in
``kldemo/schema/kldemo.schema.json`` is kept current by a test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

SCHEMA_NAME = "kldemo.schema.json"  # also the copy `kldemo init` writes beside a config
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / SCHEMA_NAME


def json_schema() -> dict[str, Any]:
    """The schema as a dict; optional keys are shown without their internal null."""
    from kldemo.config.spec import ConfigSpec

    schema = ConfigSpec.model_json_schema(schema_generator=_FormatNames)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return _without_null(schema)


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


class _FormatNames(GenerateJsonSchema):
    """Definitions named as the format names them (``Mixture``), not as the classes."""

    def normalize_name(self, name: str) -> str:
        return super().normalize_name(name).removesuffix("Spec")


def _without_null(node: Any) -> Any:
    # Optional keys may be left out but not set to null (the loader refuses null).
    if isinstance(node, dict):
        node = {k: _without_null(v) for k, v in node.items()}
        options = node.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            node.pop("anyOf")
            if node.get("default", 0) is None:
                node.pop("default")
            node = {**rest[0], **node} if len(rest) == 1 else {"anyOf": rest, **node}
        return node
    if isinstance(node, list):
        return [_without_null(v) for v in node]
    return node
