"""The tree says what the parts are: the engine's packages import downward only, nothing in
the project imports in a circle, ``ecc`` never imports streamlit, and the README's
Architecture section lists every module of the tree (and nothing that is gone)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest layer first: a package may import only from packages before it (ecc/__init__.py).
ECC_LAYERS = ("settings", "driver", "display", "arguments", "schema", "branches", "editor",
              "explorer", "library", "running", "fake")
PAGE_DIRS = ("st_page",)
DESCRIPTION_COLUMN = 16  # README Architecture: names sit left of this, descriptions right


def project_modules() -> dict[str, Path]:
    """Every Python module of the app (the engine, the page glue), by dotted name."""
    paths = [*ROOT.glob("ecc/**/*.py"), *ROOT.glob("st_*.py"), ROOT / "streamlit_app.py"]
    for page_dir in PAGE_DIRS:
        paths.extend(ROOT.glob(f"{page_dir}/**/*.py"))
    out = {}
    for path in paths:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports, at any depth of the file (lazy imports count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            if name in modules:
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        # A package's own __init__ is not a dependency of its modules.
        graph[name] = {dep for dep in imports_of(path, modules)
                       if not name.startswith(dep + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep):], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_project_has_no_import_circle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_planted_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_engine_packages_import_only_lower_layers() -> None:
    wrong = []
    for name, deps in import_graph().items():
        if not name.startswith("ecc."):
            continue
        package = name.split(".")[1]
        assert package in ECC_LAYERS, f"{name}: package {package!r} is not in ECC_LAYERS"
        for dep in deps:
            if dep.startswith("ecc.") and dep.count(".") >= 1:
                dep_package = dep.split(".")[1]
                if ECC_LAYERS.index(dep_package) > ECC_LAYERS.index(package):
                    wrong.append(f"{name} imports {dep} (a higher layer)")
    assert not wrong, "\n".join(wrong)


def test_the_engine_never_imports_streamlit() -> None:
    offenders = []
    for path in ROOT.glob("ecc/**/*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"ecc imports streamlit in {offenders}"


def test_the_shared_page_glue_never_imports_the_panels() -> None:
    """``st_comps`` and ``st_utils`` serve every panel of ``st_page``; none of them imports
    a panel (st_page/__init__.py), or the panels could not be read one at a time."""
    graph = import_graph()
    wrong = [f"{name} imports {dep}" for name in ("st_comps", "st_utils", "st_data_structures")
             for dep in graph[name] if dep == "st_page" or dep.startswith("st_page.")]
    assert not wrong, "\n".join(wrong)


def architecture_paths() -> set[str]:
    """The module paths the README's Architecture block names, one per line, indented by
    their folder (``ecc/`` then ``  driver/`` then ``    client.py``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Architecture", 1)[1].split("```", 2)[1]
    folders: list[tuple[int, str]] = []
    paths = set()
    for line in block.splitlines():
        match = re.match(r"^( *)([\w./-]+?)(/?)(?:\s|$)", line)
        if not match or not match.group(2) or line[len(match.group(1)):].startswith(" "):
            continue
        indent, name, slash = len(match.group(1)), match.group(2), match.group(3)
        if indent >= DESCRIPTION_COLUMN:
            continue  # a description's second line
        while folders and folders[-1][0] >= indent:
            folders.pop()
        full = "/".join([f for _, f in folders] + [name])
        if slash:
            folders.append((indent, name))
            paths.add(full + "/")
        elif name.endswith(".py"):
            paths.add(full)
    return paths


@pytest.mark.parametrize("kind", ["listed but missing", "present but not listed"])
def test_the_readme_architecture_matches_the_tree(kind: str) -> None:
    listed = {p for p in architecture_paths()
              if p.endswith(".py") and not p.startswith("deploy/")}
    present = {str(p.relative_to(ROOT)) for p in project_modules().values()
               if p.name != "__init__.py"}
    difference = listed - present if kind == "listed but missing" else present - listed
    assert not difference, f"README Architecture: {kind}: {sorted(difference)}"
