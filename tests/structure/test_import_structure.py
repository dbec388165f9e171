"""The package's import structure: no circle, and a broken import of our own code fails loudly.

A circle shows only for some import orders (whoever is imported first wins), so every module is imported in a
fresh interpreter in shuffled orders; a module-level import graph is checked too, for circles that today's order
happens to survive. `try: import diagnostics.x / except ImportError` would turn a real bug into a silently
missing feature, so no import of the package sits inside such a handler (third-party optional imports may).
"""

from __future__ import annotations

import ast
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

import diagnostics

PACKAGE = Path(diagnostics.__file__).parent
ROOT = PACKAGE.parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "data" in path.relative_to(PACKAGE).parts[:-1]:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()
IMPORT_ALL = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ":\\n" + traceback.format_exc(limit=6))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_the_package_has_modules_to_check() -> None:
    assert {"diagnostics.pipeline", "diagnostics.analysis", "diagnostics.sources.bundles",
            "diagnostics.model.identity", "diagnostics.bundle.create"} <= set(MODULES)


@pytest.mark.parametrize("seed", [1, 2, random.randrange(1 << 30)])
def test_every_module_imports_in_a_fresh_interpreter_in_a_shuffled_order(seed: int) -> None:
    names = [n for n in MODULES if not n.endswith("__main__")]
    random.Random(seed).shuffle(names)
    run = subprocess.run([sys.executable, "-c", IMPORT_ALL, *names], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert run.returncode == 0, f"seed {seed}: {run.stdout}{run.stderr}"


def _imports(tree: ast.AST, where: str) -> list[tuple[str, ast.AST]]:
    """(module named, node) of every `diagnostics.*` import in `tree`, relative imports resolved from `where`."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node) for a in node.names if a.name.split(".")[0] == "diagnostics"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = where.split(".")[: -node.level]
                base = ".".join(parts + ([base] if base else []))
            if base.split(".")[0] == "diagnostics":
                out += [(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base, node) for a in node.names]
    return out


def _top_level_nodes(tree: ast.Module) -> list[ast.AST]:
    """Statements run when the module is imported (functions' bodies are not)."""
    out, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return out


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _graph(module_level_only: bool) -> dict[str, set[str]]:
    """Who imports whom. Importing `a.b.c` runs `a.b` first; a child importing its own package is the normal
    package pattern, not a circle."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = set(map(id, _top_level_nodes(tree)))
        targets = set()
        for imported, node in _imports(tree, name):
            if (id(node) in top or not module_level_only) and (target := _resolve(imported)):
                targets |= {target} | (_ancestors(target) & set(MODULES))
        graph[name] = {t for t in targets if t != name and t not in _ancestors(name)}
    return graph


def test_no_circle_among_module_level_imports() -> None:
    assert _cycles(_graph(module_level_only=True)) == []


READ_SIDE = ("diagnostics.pipeline", "diagnostics.analysis", "diagnostics.sources", "diagnostics.logs",
             "diagnostics.facts", "diagnostics.engine", "diagnostics.correlate", "diagnostics.model")


def test_the_read_side_is_in_no_circle_even_through_imports_inside_functions() -> None:
    """A function-level import can hide a circle (pipeline -> bundle -> pipeline -> analysis did); on the read side
    none is left. (Writing a bundle still reaches the probe lazily, which loads paramiko, and the probe's command
    filter imports bundle.redact: that pair is outside the read side.)"""
    circles = [c for c in _cycles(_graph(module_level_only=False)) if any(m.startswith(READ_SIDE) for m in c)]
    assert circles == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)


def test_no_import_of_our_own_modules_is_guarded_by_except_import_error() -> None:
    guarded = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
                for stmt in node.body:
                    for imported, imp in _imports(stmt, name):
                        guarded.append(f"{path.relative_to(ROOT)}:{imp.lineno}: import of {imported} inside try/except")
    assert guarded == []


def test_the_guard_check_sees_a_guarded_import() -> None:
    """The check above is not vacuous: it finds the pattern it forbids."""
    tree = ast.parse("def f():\n    try:\n        from diagnostics.host import facts_from_text\n    except ImportError:\n        pass\n")
    (trial,) = [n for n in ast.walk(tree) if isinstance(n, ast.Try)]
    assert _catches_import_error(trial.handlers[0])
    assert [m for m, _ in _imports(trial.body[0], "diagnostics.x")] == ["diagnostics.host"]


def test_the_cycle_check_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
