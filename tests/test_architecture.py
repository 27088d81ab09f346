"""The rooms of kldemo and the one way their imports go (docs/architecture.md).

Every import of every module of ``kldemo/`` and ``scenes/`` (installed as ``kldemo.scenes``)
is read from its syntax tree, function-local imports and ``if TYPE_CHECKING:`` ones
included, relative imports resolved. Each must go to its own room or a lower one, and the
modules' imports must have no circle. import-linter checks the same layers over the
installed package (it cannot see ``kldemo.scenes``, which is mapped from ``scenes/``).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import REPO

# The rooms, top to bottom: a module may import from its own room or any room below it.
ROOMS = [
    "kldemo.__main__",
    "kldemo.cli",
    "kldemo.api",  # the CLI's twin for Python scripts and notebooks
    "kldemo.watch",
    "kldemo.batch",
    "kldemo.rendering",
    "kldemo.scenes",
    "kldemo.plan",
    "kldemo.timeline",
    "kldemo.config",
    "kldemo.storage",
    "kldemo.core",
    "kldemo.errors",
    "kldemo",  # the package itself: its version, and nothing heavy
]
SOURCES = {"kldemo": REPO / "kldemo", "kldemo.scenes": REPO / "scenes"}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the module imported
    where: str  # file:line

    def __str__(self) -> str:
        return f"{self.where}: {self.source} imports {self.target}"


def module_files() -> dict[str, Path]:
    """Every module of kldemo by its dotted name, the scenes under kldemo.scenes."""
    found: dict[str, Path] = {}
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            if package == "kldemo" and name.startswith("kldemo.scenes"):
                continue
            found[name] = path
    return found


MODULES = module_files()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imports_of(name: str) -> list[Import]:
    """The kldemo modules that ``name`` imports, wherever in the file the import is."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if is_package(name) else name.rpartition(".")[0]
    shown = path.relative_to(REPO)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from package import module` imports the module; `from module import name`
            # imports the module that holds the name.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        for target in dict.fromkeys(targets):
            target = known_module(target)
            if target is not None and target != name:
                found.append(Import(name, target, f"{shown}:{node.lineno}"))
    return found


def known_module(name: str) -> str | None:
    """The kldemo module ``name`` is, or is inside (None outside kldemo)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def room_of(name: str) -> str | None:
    """The room holding a module: the longest room name that is the module or a package
    above it (None: a module in no room)."""
    for room in sorted(ROOMS, key=len, reverse=True):
        if name == room or (name.startswith(room + ".") and room != "kldemo"):
            return room
    return None


def rank(room: str) -> int:
    return ROOMS.index(room)  # 0 is the top


ALL_IMPORTS = [i for name in MODULES for i in imports_of(name)]


def test_the_scan_sees_every_room_and_some_imports():
    rooms = {room_of(name) for name in MODULES}
    assert set(ROOMS) <= rooms
    assert len(ALL_IMPORTS) > 50


def test_every_module_is_in_a_room():
    homeless = [
        f"{MODULES[name].relative_to(REPO)} ({name})" for name in MODULES if room_of(name) is None
    ]
    assert not homeless, "modules in no room of the layer list:\n" + "\n".join(homeless)


def test_every_import_goes_to_its_own_room_or_a_lower_one():
    upward = []
    for i in ALL_IMPORTS:
        source, target = room_of(i.source), room_of(i.target)
        if source is None or target is None:
            continue  # said by test_every_module_is_in_a_room
        if rank(target) < rank(source):
            upward.append(f"{i}  ({source} is below {target})")
    assert not upward, "imports that go up the layers:\n" + "\n".join(upward)


def test_the_imports_have_no_circle():
    graph: dict[str, list[Import]] = {name: [] for name in MODULES}
    for i in ALL_IMPORTS:
        graph[i.source].append(i)
    circles = [c for c in strongly_connected(graph) if len(c) > 1]
    said = []
    for circle in circles:
        members = set(circle)
        said.append("a circle through " + ", ".join(sorted(members)) + ":")
        said += [f"  {i}" for name in sorted(members) for i in graph[name] if i.target in members]
    assert not circles, "\n".join(said)


def strongly_connected(graph: dict[str, list[Import]]) -> list[list[str]]:
    """Tarjan's strongly connected components of the import graph (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            advanced = False
            for edge in edges:
                nxt = edge.target
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def test_the_package_itself_imports_nothing_of_kldemo():
    assert [str(i) for i in ALL_IMPORTS if i.source == "kldemo"] == []


def test_no_module_is_over_600_lines():
    long = [
        f"{path.relative_to(REPO)}: {n} lines"
        for path in MODULES.values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_no_function_is_over_80_lines():
    long = []
    for path in MODULES.values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(
                        f"{path.relative_to(REPO)}:{node.lineno}: {node.name}, {lines} lines"
                    )
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_import_linter_s_layers_contract_holds():
    """The same layers (less kldemo.scenes) by import-linter, as pyproject.toml states them."""
    beside = Path(sys.executable).with_name("lint-imports")
    program = str(beside) if beside.exists() else shutil.which("lint-imports")
    if program is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run(
        [program, "--no-cache"], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
