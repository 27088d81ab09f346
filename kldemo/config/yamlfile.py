"""Read a YAML file safely, keeping where every value came from.

Plain data only (mappings, lists, strings, numbers, booleans, null): no object tags, no
duplicate keys, a bound on size, nesting and alias expansion, so that a hostile file costs
neither memory nor time. Every value's line and column is kept for error messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from kldemo.errors import ConfigError, Diagnostic

MAX_BYTES = 1 << 20  # 1 MiB
MAX_NODES = 200_000  # values after alias expansion; a 1,000-keyframe file has ~20,000
MAX_DEPTH = 32

Location = tuple[int, int]  # 1-based line and column
DocPath = tuple[str | int, ...]

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """A safe loader that also reads ``1e-3`` as a number (YAML 1.1 wants ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
}


@dataclass
class YamlDocument:
    """A parsed document and where each part of it came from."""

    file: str
    data: Any
    values: dict[DocPath, Location] = field(default_factory=dict)
    keys: dict[DocPath, Location] = field(default_factory=dict)
    source: dict[DocPath, str] = field(default_factory=dict)  # scalars as written

    def location(self, path: DocPath, *, key: bool = False) -> Location | None:
        """The place of ``path`` (its key with ``key=True``), else of its nearest parent."""
        if key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path)

    def diagnostic(self, path: DocPath, message: str, *, key: bool = False) -> Diagnostic:
        line, column = self.location(path, key=key) or (None, None)
        return Diagnostic(self.file, line, column, format_path(path), message)


def format_path(path: DocPath) -> str:
    """``('keyframes', 2, 'q', 'std')`` -> ``'keyframes[2].q.std'``; odd keys as ``['a b']``."""
    text = ""
    for part in path:
        if isinstance(part, int) or not (_PLAIN_KEY.match(part) and part.isprintable()):
            text += f"[{part}]" if isinstance(part, int) else f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


_PLAIN_KEY = re.compile(r"^[^\s\[\].'\"]+$")  # shown bare in a path; others quoted


def read_yaml(file: str | Path) -> YamlDocument:
    """Parse ``file`` into plain data with source positions, or raise ConfigError."""
    file = Path(file)
    name = str(file)
    try:
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError.single(
                name,
                f"the file is {size:,} bytes; kldemo reads config files up to 1 MiB "
                f"({MAX_BYTES:,} bytes): is it the right file?",
            )
        raw = file.read_bytes()
    except IsADirectoryError:
        raise ConfigError.single(name, "is a folder, not a YAML file") from None
    except FileNotFoundError:
        raise ConfigError.single(name, "no such file") from None
    except PermissionError:
        raise ConfigError.single(name, "cannot be read: permission denied") from None
    except OSError as error:
        raise ConfigError.single(name, f"cannot be read: {error.strerror}") from None
    return parse_yaml(raw[: MAX_BYTES + 1], name)


def parse_yaml(raw: bytes, name: str) -> YamlDocument:
    """Parse the bytes of a YAML file; see :func:`read_yaml`."""
    if len(raw) > MAX_BYTES:
        raise ConfigError.single(
            name,
            "the file is over 1 MiB; kldemo reads config files up to "
            f"1 MiB ({MAX_BYTES:,} bytes): is it the right file?",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        raise ConfigError.single(
            name,
            f"byte 0x{raw[error.start]:02x} is not UTF-8: save the file as UTF-8",
            line,
            column,
        ) from None

    try:
        _check_shape(text, name)
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(name, text, error) from None
    except yaml.reader.ReaderError as error:
        raise _character_error(name, text, error) from None
    except yaml.YAMLError as error:  # pragma: no cover - every parser error carries a mark
        raise ConfigError.single(name, f"invalid YAML: {error}") from None

    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise ConfigError.single(
            name,
            "found a second YAML document (after '---'); put one config in each file",
            mark.line + 1,
            mark.column + 1,
        )
    document = YamlDocument(name, None)
    if not nodes or nodes[0] is None:
        raise ConfigError.single(
            name, "the file is empty: a config needs at least p and q (`kldemo init` writes one)"
        )
    builder = _Builder(document)
    document.data = builder.build(nodes[0], (), 0)
    if builder.diagnostics:
        raise ConfigError(builder.diagnostics)
    return document


def _check_shape(text: str, name: str) -> None:
    """Bound nesting and size (aliases counted as copies) on the event stream, before composing.

    The composer recurses once per level (a file of 100,000 '[' would crash the process)
    and the builder expands every alias, so both only ever see a document within bounds.
    """
    depth = count = 0
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    opened: list[tuple[str | None, int]] = []  # (anchor, count before) of each open collection
    aliased = False
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            opened.append((event.anchor, count))
            count, depth = count + 1, depth + 1
            if depth > MAX_DEPTH:
                raise _at(
                    name,
                    event,
                    f"nested more than {MAX_DEPTH} levels deep; a config "
                    "needs only a few levels: check the brackets",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = opened.pop()
            depth -= 1
            if anchor is not None:
                sizes[anchor] = count - before
        elif isinstance(event, yaml.ScalarEvent):
            count += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            count += sizes.get(event.anchor, 1)  # an open or unknown anchor: the composer says
            aliased = True
        if count > MAX_NODES:
            raise _at(
                name,
                event,
                f"more than {MAX_NODES:,} values"
                + (
                    " (an alias bomb?): each *alias counts as a copy of what it names; write "
                    "the values out"
                    if aliased
                    else "; a config has far fewer: is this the right file?"
                ),
            )


def _at(name: str, event: yaml.Event, message: str) -> ConfigError:
    mark = event.start_mark
    return ConfigError.single(name, message, mark.line + 1, mark.column + 1)


def _character_error(name: str, text: str, error: yaml.reader.ReaderError) -> ConfigError:
    # The reader stops at the first character YAML forbids: find it in the text.
    index = text.find(chr(error.character)) if isinstance(error.character, int) else -1
    line = column = None
    if index >= 0:
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
    code = f"U+{error.character:04X}" if isinstance(error.character, int) else repr(error.character)
    return ConfigError.single(
        name,
        f"{error.reason}: delete the character {code}",
        line,
        column,
    )


def _syntax_error(name: str, text: str, error: yaml.MarkedYAMLError) -> ConfigError:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    problem = error.problem or "invalid YAML"
    if line is not None:
        row = text.splitlines()[line - 1] if line <= len(text.splitlines()) else ""
        indent = row[: len(row) - len(row.lstrip(" \t"))]
        if "\t" in indent or "'\\t'" in problem:
            tab = row.find("\t")
            return ConfigError.single(
                name, "a tab in the indentation: YAML indents with spaces only", line, tab + 1
            )
    context = f" {error.context}" if error.context else ""
    began = error.context_mark
    if began is not None and line is not None and began.line + 1 != line:
        context += f" that began on line {began.line + 1}, column {began.column + 1}"
    hint = ""
    if "mapping values are not allowed" in problem or "expected <block end>" in problem:
        hint = "; check the indentation, and quote values that contain ': '"
    elif "could not find expected ':'" in problem:
        hint = "; each key needs a ':' after it"
    elif "did not find expected key" in problem:
        hint = "; check the indentation: keys of one mapping start in one column"
    elif "quoted scalar" in context:
        hint = "; close the quote"
    elif "flow sequence" in context or "flow mapping" in context:
        hint = "; close each [ and { that is opened, with commas between items"
    elif "undefined alias" in problem:
        hint = "; an *alias must name an &anchor given before it"
    return ConfigError.single(name, f"invalid YAML: {problem}{context}{hint}", line, column)


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class _Builder:
    """Turns a node graph into plain data, checking every rule of the safe subset."""

    def __init__(self, document: YamlDocument):
        self.document = document
        self.constructor = _Loader("")
        self.count = 0
        self.diagnostics: list[Diagnostic] = []
        self.open: set[int] = set()  # the collections being built, to catch recursive aliases

    def error(self, node: yaml.Node, path: DocPath, message: str) -> None:
        mark = node.start_mark
        self.diagnostics.append(
            Diagnostic(
                self.document.file, mark.line + 1, mark.column + 1, format_path(path), message
            )
        )

    def build(self, node: yaml.Node, path: DocPath, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            if self.count == MAX_NODES + 1:
                self.error(node, path, f"more than {MAX_NODES:,} values (an alias bomb?)")
            return None
        if depth > MAX_DEPTH:
            self.error(node, path, f"nested more than {MAX_DEPTH} levels deep")
            return None
        mark = node.start_mark
        self.document.values[path] = (mark.line + 1, mark.column + 1)
        if node.tag not in _PLAIN_TAGS:
            self.error(
                node,
                path,
                f"the tag {_short_tag(node.tag)} is not allowed: kldemo reads plain YAML "
                "(mappings, lists, numbers, strings, booleans)",
            )
            return None
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.open:
                self.error(
                    node,
                    path,
                    "an alias inside what it names (a recursive alias); write the values out",
                )
                return None
            self.open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self.mapping(node, path, depth)
                items = enumerate(node.value)
                return [self.build(item, (*path, i), depth + 1) for i, item in items]
            finally:
                self.open.discard(id(node))
        self.document.source[path] = node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            self.error(
                node, path, f"cannot read {node.value!r}: {getattr(error, 'problem', error)}"
            )
            return None

    def mapping(self, node: yaml.MappingNode, path: DocPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.error(
                    key_node, path, "merge keys ('<<') are not supported; write the keys out"
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                self.error(key_node, path, f"keys must be names, not {shown!r}")
                continue
            key = key_node.value
            child = (*path, key)
            if key in result:
                first = self.document.keys[child]
                self.error(
                    key_node, child, f"duplicate key {key!r} (first given on line {first[0]})"
                )
                continue
            self.document.keys[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.build(value_node, child, depth + 1)
        return result


DICT_SOURCE = "<dict>"  # the name diagnostics give a config passed in memory


def document_from_data(data: Any, name: str = DICT_SOURCE) -> YamlDocument:
    """A config given as Python data (the API's dicts), held to the rules of a file.

    The same plain subset as YAML (dicts with string keys, lists, strings, numbers,
    booleans, None), the same bounds on nesting and size, so that a dict is checked by
    exactly the code that checks a file. Tuples read as lists, and numpy's numbers and
    arrays as the Python values they hold (a notebook computes means with numpy). The data
    is copied: nothing later sees or changes the caller's dict. There are no positions:
    the diagnostics name ``name`` and the path, without a line.
    """
    document = YamlDocument(name, None)
    diagnostics: list[Diagnostic] = []
    count = 0

    def plain(value: Any, path: DocPath, depth: int, within: frozenset[int]) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            if count == MAX_NODES + 1:
                diagnostics.append(document.diagnostic(path, f"more than {MAX_NODES:,} values"))
            return None
        if depth > MAX_DEPTH:
            diagnostics.append(
                document.diagnostic(path, f"nested more than {MAX_DEPTH} levels deep")
            )
            return None
        if isinstance(value, np.generic | np.ndarray):
            value = value.tolist()
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if id(value) in within:
            diagnostics.append(
                document.diagnostic(
                    path, "holds itself (a recursive dict or list); write the values out"
                )
            )
            return None
        inside = within | {id(value)}
        if isinstance(value, Mapping):
            result: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    diagnostics.append(
                        document.diagnostic(path, f"keys must be names (strings), not {key!r}")
                    )
                    continue
                result[key] = plain(item, (*path, key), depth + 1, inside)
            return result
        if isinstance(value, list | tuple):
            return [plain(item, (*path, i), depth + 1, inside) for i, item in enumerate(value)]
        diagnostics.append(
            document.diagnostic(
                path,
                f"a Python {type(value).__name__} cannot be in a config, which holds "
                "dicts, lists, strings, numbers, booleans and None",
            )
        )
        return None

    document.data = plain(data, (), 0, frozenset())
    if diagnostics:
        raise ConfigError(diagnostics)
    return document
