"""The package's layers: every module imports only downward.

Each top-level module or package of ``deepsearch`` (a *unit*) sits in one layer below.
A module may import from its own unit and from units of lower layers, never from a
unit of its own layer or above. Imports count wherever they are written (inside a
function, under ``TYPE_CHECKING``), since they say what a module depends on. A new
unit must be placed here before its tests pass.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "deepsearch"

# Top to bottom.
LAYERS: list[tuple[str, frozenset[str]]] = [
    # What people and programs call: the command line, the OpenAI-compatible server,
    # LangChain adapters, the module Studio loads, and the package's lazy public names.
    ("face", frozenset({"__init__", "agent", "cli", "integrations", "server"})),
    # DeepSearch as an MCP tool: the server, its stdio and HTTP transports. Below the
    # face so that the command line (stdio) and the HTTP server (/mcp) can use it.
    ("mcp", frozenset({"mcp"})),
    # Runs over the Python API: the evaluation harness, checkpointed threads.
    ("runs", frozenset({"evaluation", "persistence"})),
    ("api", frozenset({"api"})),  # ask / aask / astream_run / build_graph
    ("graph", frozenset({"graph"})),  # the graph builders: the loop and the team
    ("nodes", frozenset({"nodes"})),  # one module per node
    # What nodes share: token accounting, progress events, citation checks.
    ("node helpers", frozenset({"budget", "citations", "progress"})),
    ("prompts", frozenset({"prompts"})),  # one template per role, and their rendering
    # The outside world: the LLM, search and read providers, the local corpus, tracing.
    ("tools", frozenset({"tools"})),
    # Plain data and configuration: they import nothing else of DeepSearch.
    ("base", frozenset({"context", "settings", "state"})),
]
RANK = {unit: len(LAYERS) - i for i, (_, units) in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """Return the unit of a dotted module name inside ``deepsearch``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    """Return the dotted name of a module file under the package."""
    parts = ["deepsearch", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(module: str, source: str, *, is_package: bool = False) -> set[str]:
    """Return the ``deepsearch`` modules that ``source`` (the text of ``module``) imports.

    ``from deepsearch import x`` names the submodule ``deepsearch.x`` when ``x`` is a
    unit, else one of the package's own (lazy) names.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "deepsearch":
                found.update(
                    f"deepsearch.{a.name}" if a.name in RANK else "deepsearch" for a in node.names
                )
            else:
                found.add(target)
    return {name for name in found if name == "deepsearch" or name.startswith("deepsearch.")}


def upward_imports(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """Return the imports of ``module`` that reach its own layer or a higher one."""
    unit = unit_of(module)
    bad = []
    for target in sorted(imported_modules(module, source, is_package=is_package)):
        other = unit_of(target)
        if other != unit and RANK.get(other, len(LAYERS) + 1) >= RANK[unit]:
            bad.append(f"{module} imports {target} ({_layer(unit)} -> {_layer(other)})")
    return bad


def _layer(unit: str) -> str:
    return next((name for name, units in LAYERS if unit in units), "unplaced")


def _modules() -> list[tuple[str, Path]]:
    return [(module_name(path), path) for path in sorted(PACKAGE.rglob("*.py"))]


def test_every_unit_of_the_package_has_a_layer() -> None:
    on_disk = {unit_of(name) for name, _ in _modules()}
    assert on_disk - set(RANK) == set(), "place the new units in LAYERS"
    assert set(RANK) - on_disk == set(), "LAYERS names units that no longer exist"


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[name for name, _ in _modules()])
def test_the_module_imports_only_from_lower_layers(module: str, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert upward_imports(module, source, is_package=path.name == "__init__.py") == []


def test_state_and_context_import_nothing_of_the_project() -> None:
    for module, path in _modules():
        if unit_of(module) in {"state", "context", "settings"}:
            imported = imported_modules(
                module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
            )
            assert {unit_of(name) for name in imported} <= {unit_of(module)}, module


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("deepsearch.tools.toolbox", "from deepsearch.nodes.plan import make_plan"),
        ("deepsearch.nodes.plan", "def f():\n    from deepsearch.graph.team import x\n"),
        ("deepsearch.tools.llm", "from deepsearch import prompts"),
        ("deepsearch.tools.llm", "import deepsearch.budget"),
        ("deepsearch.state.team", "from deepsearch.context import Context"),
        ("deepsearch.api", "from deepsearch import ask"),
        ("deepsearch.tools.read.local", "from ...nodes import common"),
    ],
)
def test_an_import_that_reaches_up_or_sideways_is_caught(module: str, source: str) -> None:
    assert upward_imports(module, source) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("deepsearch.nodes.plan", "from deepsearch.tools.llm import LLM"),
        ("deepsearch.prompts.render", "from deepsearch.tools.chunking import chunk_text"),
        ("deepsearch.tools.search.local", "from deepsearch.tools.corpus import search_corpus"),
        ("deepsearch.tools.read.local", "from ..base import Page"),
        ("deepsearch.cli.app", "from deepsearch import api"),
        ("deepsearch.state.team", "from deepsearch.state.research import Answer"),
    ],
)
def test_an_import_downward_or_within_its_unit_passes(module: str, source: str) -> None:
    assert upward_imports(module, source) == []
