"""dashboards/ imports in one direction: no module imports another that (directly or through
others) imports it back, counting imports inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "dashboards":
                found.update(f"dashboards.{a.name}" for a in node.names)
            elif node.module.startswith("dashboards."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dashboards."))
    return found


def test_no_module_in_dashboards_imports_in_a_circle():
    graph = {
        f"dashboards.{p.stem}": _imports(p) for p in DASHBOARDS.glob("*.py") if p.stem != "__init__"
    }
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(graph.get(module, ())):
            if dep == path[0]:
                cycles.append(" -> ".join([*path, dep]))
            elif dep not in path and len(path) < 8:
                visit(dep, [*path, dep])

    for module in sorted(graph):
        visit(module, [module])
    assert not cycles, "\n".join(sorted(set(cycles)))
