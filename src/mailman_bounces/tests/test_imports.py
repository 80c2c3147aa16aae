"""The package's dependencies run one way: no module imports itself back,
through any chain of imports (those inside functions count too), and
nothing imports the plugin object."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mailman_bounces

PACKAGE = 'mailman_bounces'
ROOT = Path(mailman_bounces.__file__).parent


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package at `root`, by dotted name."""
    found = {}
    for path in sorted(root.rglob('*.py')):
        parts = path.relative_to(root.parent).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        found['.'.join(parts)] = path
    return found


def _imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of `known` that `module` imports, wherever the import
    statement is (module level, functions, conditionals).

    ``from package import name`` imports module ``package.name`` when there
    is one, else the package itself.  Parent packages, which Python
    initialises on the way, are not counted: a package's ``__init__``
    importing its own modules is not a cycle.
    """
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = module.split('.')
                if path.name != '__init__.py':
                    parent = parent[:-1]
                parent = parent[:len(parent) - (node.level - 1)]
                base = '.'.join(parent + ([base] if base else []))
            names.extend(f'{base}.{alias.name}'
                         if f'{base}.{alias.name}' in known else base
                         for alias in node.names)
    return {name for name in names if name in known and name != module}


def import_graph(known: dict[str, Path]) -> dict[str, set[str]]:
    """For each module of `known`, the modules of `known` it imports."""
    return {module: _imports(module, path, known)
            for module, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """A cycle in each group of modules that import each other (strongly
    connected components, Tarjan's algorithm): the shortest one through
    the group's first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_shortest_cycle(graph, component) for component in components]


def _shortest_cycle(graph: dict[str, set[str]],
                    component: set[str]) -> list[str]:
    """A shortest path from the component's first module back to it
    (breadth first)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & component):
                if target == start:
                    return paths[node] + [start]
                if target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f'not a cycle: {sorted(component)}')  # pragma: no cover


def test_no_import_cycles():
    found = cycles(import_graph(modules()))
    assert not found, 'import cycles:\n' + '\n'.join(
        ' -> '.join(cycle) for cycle in found)


def test_nothing_imports_the_plugin_object():
    # Mailman loads it by name from the site's configuration; the tests
    # may check what Mailman loaded.
    graph = import_graph(modules())
    importers = sorted(
        module for module, targets in graph.items()
        if f'{PACKAGE}.plugin' in targets
        and not module.startswith(f'{PACKAGE}.tests.'))
    assert importers == []


# The checker itself, on small packages written for the purpose.

def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    root = tmp_path / PACKAGE
    for name, text in {'__init__.py': '', **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding='utf-8')
    return modules(root)


@pytest.mark.parametrize('files, expected', [
    # An import inside a function closes the cycle.
    ({'a.py': 'from mailman_bounces import b\n',
      'b.py': 'def f():\n    from mailman_bounces.a import x\n'},
     [['mailman_bounces.a', 'mailman_bounces.b', 'mailman_bounces.a']]),
    # Relative imports, and a name imported from a package's __init__.
    ({'app/__init__.py': 'from .c import y\n',
      'app/c.py': 'import mailman_bounces.d\n',
      'd.py': 'from mailman_bounces.app import y\n'},
     [['mailman_bounces.app', 'mailman_bounces.app.c', 'mailman_bounces.d',
       'mailman_bounces.app']]),
    # The shortest cycle through the first module is named.
    ({'a.py': 'import mailman_bounces.b\nimport mailman_bounces.c\n',
      'b.py': 'import mailman_bounces.c\n',
      'c.py': 'import mailman_bounces.a\n'},
     [['mailman_bounces.a', 'mailman_bounces.c', 'mailman_bounces.a']]),
    # One way only, and outside imports: no cycle.
    ({'a.py': 'import os\nimport mailman_bounces.b\n',
      'b.py': 'from mailman.config import config\n'}, []),
])
def test_the_cycle_finder(tmp_path, files, expected):
    assert cycles(import_graph(_package(tmp_path, files))) == expected
