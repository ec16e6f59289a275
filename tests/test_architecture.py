"""docs/architecture.md's module map matches the source: every module is mapped to a layer, every
row names a file that exists, no module imports from a higher layer (lazy imports included), and
there is no import circle among engine/ and priors/ modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "priors")


def _rows() -> dict[str, int]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## 2. Module map", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\d+) \|", section, flags=re.M)
    assert rows, "no module map rows found"
    return {path: int(layer) for path, layer in rows}


def _modules() -> dict[str, str]:
    """module name -> repository-relative file path, for every .py under the packages."""
    out = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            rel = f.relative_to(ROOT).as_posix()
            name = rel[:-3].replace("/", ".")
            out[name.removesuffix(".__init__")] = rel
    return out


def _layer(rel: str, rows: dict[str, int]) -> int | None:
    best = None
    for path, layer in rows.items():
        if rel == path or (path.endswith("/") and rel.startswith(path)):
            if best is None or len(path) > len(best[0]):
                best = (path, layer)
    return None if best is None else best[1]


def _imports(rel: str, mods: dict[str, str]) -> set[str]:
    """The package modules ``rel`` imports anywhere in its text (``if TYPE_CHECKING`` blocks excluded)."""
    tree = ast.parse((ROOT / rel).read_text())
    skip = {id(n) for t in ast.walk(tree) if isinstance(t, ast.If) and "TYPE_CHECKING" in ast.unparse(t.test) for n in ast.walk(t)}
    names = []
    for n in ast.walk(tree):
        if id(n) in skip:
            continue
        if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            names += [n.module] + [f"{n.module}.{a.name}" for a in n.names]
        elif isinstance(n, ast.Import):
            names += [a.name for a in n.names]
    out = set()
    for name in names:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] in PACKAGES:
            out.add(name)
    return out


def test_every_module_is_mapped_and_every_row_exists():
    rows, mods = _rows(), _modules()
    unmapped = sorted(rel for rel in mods.values() if _layer(rel, rows) is None)
    assert not unmapped, f"modules missing from docs/architecture.md's module map: {unmapped}"
    missing = sorted(p for p in rows if not (ROOT / p).exists())
    assert not missing, f"module map rows naming no file: {missing}"


def test_no_module_imports_from_a_higher_layer():
    rows, mods = _rows(), _modules()
    upward = []
    for name, rel in mods.items():
        mine = _layer(rel, rows)
        for target in _imports(rel, mods):
            theirs = _layer(mods[target], rows)
            if target != name and theirs is not None and mine is not None and theirs > mine:
                upward.append(f"{rel} (layer {mine}) imports {target} (layer {theirs})")
    assert not upward, "\n".join(sorted(upward))


def test_no_import_circles():
    mods = _modules()
    graph = {name: _imports(rel, mods) - {name} for name, rel in mods.items()}
    # a package imports its submodules' names through its __init__; an edge package -> own submodule is not a circle
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    index, low, stack, on, circles = {}, {}, [], set(), []

    def strong(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    assert not circles, f"import circles: {circles}"
