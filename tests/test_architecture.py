"""The import graph of the project's packages: one way, no circles, no private names.

Imports flow recommendations -> mlops -> draws (lotto_site wires them); every
import sits at module top (AppConfig.ready() and matplotlib, which is heavy and
only the backtest chart needs, are the exceptions); no module imports another
module's `_private` name. Read from the source with ast, so a new module is
checked without being listed here.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("draws", "mlops", "recommendations", "lotto_site")
# (importer, imported): the importer's app must never import the imported app.
FORBIDDEN = {
    ("mlops", "recommendations"),
    ("draws", "mlops"),
    ("draws", "recommendations"),
}
# Imports allowed inside a function: (module, imported module prefix, why).
LAZY_ALLOWED = {
    ("mlops.services.monitoring.backtest", "matplotlib"),  # heavy, chart only
}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


MODULES = project_modules()


def absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def known(name: str) -> str | None:
    """The project module `name` is, or is inside (None: not ours)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def imports(module: str, path: Path, tree: ast.Module | None = None):
    """(node, imported project module, imported names) for every import."""
    for node in ast.walk(tree or parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if target := known(alias.name):
                    yield node, target, ()
        elif isinstance(node, ast.ImportFrom):
            base = absolute(module, path, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:  # a submodule: `from pkg import module`
                    yield node, full, ()
                elif target := known(base):
                    yield node, target, (alias.name,)


def top_level_imports(module: str, path: Path) -> set[str]:
    tree = parse(path)
    top = {id(node) for node in tree.body}
    # Module-level try/if blocks count as top level too.
    for node in tree.body:
        if isinstance(node, ast.Try | ast.If):
            top |= {id(child) for child in ast.walk(node)}
    return {
        target
        for node, target, _names in imports(module, path, tree)
        if id(node) in top and target != module
    }


def graph() -> dict[str, set[str]]:
    return {module: top_level_imports(module, path) for module, path in MODULES.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def function_level_imports(module: str, path: Path) -> list[str]:
    tree = parse(path)
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if function.name == "ready" and path.name == "apps.py":
            continue  # AppConfig.ready(): where Django apps connect their receivers
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [absolute(module, path, node)]
            else:
                continue
            for name in names:
                if not any(
                    module == allowed_module and name.startswith(prefix)
                    for allowed_module, prefix in LAZY_ALLOWED
                ):
                    found.append(f"{module}:{node.lineno} imports {name}")
    return found


def test_the_graph_is_read_from_every_package():
    # Guards the walk itself: a broken walk would find no edge and pass the rest.
    edges = graph()
    assert "recommendations.services.inference" in edges
    assert (
        "mlops.services.monitoring.predictions"
        in edges["recommendations.services.inference"]
    )
    assert "draws.models" in edges["mlops.models"]


def test_no_module_imports_itself_back_through_a_circle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_flow_one_way_recommendations_mlops_draws():
    wrong = [
        f"{module} imports {target}"
        for module, path in MODULES.items()
        for _node, target, _names in imports(module, path)
        if (module.split(".")[0], target.split(".")[0]) in FORBIDDEN
    ]
    assert wrong == []


def test_every_import_sits_at_module_top():
    found = [
        line
        for module, path in MODULES.items()
        for line in function_level_imports(module, path)
    ]
    assert found == []


def test_no_private_name_is_imported_from_another_module():
    found = []
    for module, path in MODULES.items():
        for node, target, names in imports(module, path):
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    found.append(f"{module}:{node.lineno} imports {target}.{name}")
    assert found == []


def module_aliases(module: str, path: Path, tree: ast.Module) -> dict[str, str]:
    """Local names bound to project modules: `from pkg import mod`, `import a as b`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = absolute(module, path, node)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in MODULES:
                    aliases[alias.asname] = alias.name
    return aliases


def test_no_private_name_is_reached_through_an_imported_module():
    found = []
    for module, path in MODULES.items():
        tree = parse(path)
        aliases = module_aliases(module, path, tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{module}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert found == []
