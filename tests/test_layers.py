"""Issue 18 point 12: the layers of core, checked on the source.

Infrastructure (the database layer, the audit chain, the job plumbing) is what every use case stands
on; it imports no use case and so can check no permission (permission checks live in
``core.identity.access``, a use-case module). The layers and what may import what are drawn in
docs/architecture.md ("Layers"); this test is that drawing, enforced.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Definitions and settings every layer may use: no I/O of their own, no use case.
FOUNDATION = {
    "core.errors", "core.settings", "core.logging", "core.filters", "core.context",
    "core.plugins.types", "core.identity.permissions",
    "core.metrics",  # the metric objects: no I/O, no kehu import; the plumbing times itself with them
}
# Infrastructure, by path: every module under these (new ones are covered as they appear) ...
INFRASTRUCTURE_PACKAGES = ("core/db", "core/jobs")
INFRASTRUCTURE_MODULES = ("core/audit/chain.py", "core/audit/anchors.py", "core/audit/tables.py",
                          "core/tenancy/every_tenant.py")
# ... except the use cases that sit in an infrastructure package because they are about it.
USE_CASES_IN_INFRASTRUCTURE = ("core/jobs/service.py",)


def _module(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _infrastructure(root: Path) -> list[Path]:
    paths = [p for package in INFRASTRUCTURE_PACKAGES for p in (root / package).rglob("*.py")]
    paths += [root / m for m in INFRASTRUCTURE_MODULES if (root / m).exists()]
    return sorted(p for p in paths if p.relative_to(root).as_posix() not in USE_CASES_IN_INFRASTRUCTURE
                  and "migrations" not in p.parts)


def _is_module(root: Path, name: str) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(root: Path, path: Path, tops: tuple[str, ...] = ("core",)) -> set[str]:
    """Every core module the file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from core.jobs import outbox`` imports the module core.jobs.outbox; ``from core.db
            # import unit_of_work`` imports core.db
            submodules = {f"{node.module}.{a.name}" for a in node.names}
            found |= {m for m in submodules if _is_module(root, m)} or {node.module}
    return {name for name in found if name.split(".")[0] in tops}


def _allowed(name: str, infrastructure: set[str]) -> bool:
    if name in FOUNDATION or name in infrastructure:
        return True
    last = name.rsplit(".", 1)[-1]
    return last == "tables" or last.endswith("_tables")  # table definitions belong to no use case


def _offenders(root: Path) -> list[str]:
    paths = _infrastructure(root)
    infrastructure = {_module(root, p) for p in paths}
    return [f"{p.relative_to(root).as_posix()} imports {name}" for p in paths
            for name in sorted(_imports(root, p)) if not _allowed(name, infrastructure)]


def test_infrastructure_imports_no_use_case():
    offenders = _offenders(ROOT)
    assert not offenders, "infrastructure importing a use case:\n" + "\n".join(offenders)


def test_the_check_sees_a_permission_check_in_the_plumbing(tmp_path):
    """The check itself: job plumbing that imports a permission check is reported, a table is not."""
    jobs = tmp_path / "core" / "jobs"
    jobs.mkdir(parents=True)
    (jobs / "bad.py").write_text("from core.identity.access import require\n", encoding="utf-8")
    (jobs / "fine.py").write_text("from core.customers.tables import Customer\nfrom core.db import unit_of_work\n",
                                  encoding="utf-8")
    (tmp_path / "core" / "db").mkdir()
    (tmp_path / "core" / "db" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "core" / "identity").mkdir()
    (tmp_path / "core" / "identity" / "access.py").write_text("", encoding="utf-8")
    assert _offenders(tmp_path) == ["core/jobs/bad.py imports core.identity.access"]


def _import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the core and plugins modules it imports (lazily inside functions too)."""
    paths = [p for top in ("core", "plugins") for p in (root / top).rglob("*.py") if "migrations" not in p.parts]
    graph = {_module(root, p): _imports(root, p, tops=("core", "plugins")) for p in paths}
    return {module: deps - {module} for module, deps in graph.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for dep in graph[module] & graph.keys():
            if dep not in index:
                visit(dep)
                low[module] = min(low[module], low[dep])
            elif dep in stack:
                low[module] = min(low[module], index[dep])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circles():
    """Issue 18 point 12: no two modules of core or the verticals import each other, even lazily
    (a lazy import hides a circle from Python, not from the reader)."""
    assert _circles(_import_graph(ROOT)) == []


def test_the_circle_check_sees_a_lazy_circle():
    graph = {"core.a": {"core.b"}, "core.b": {"core.c"}, "core.c": {"core.a"}, "core.d": {"core.a"}}
    assert _circles(graph) == [["core.a", "core.b", "core.c"]]


_EACH_ALONE = """
import importlib, sys, traceback
failures = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("core", "gateway", "plugins")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failures.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print("\\n".join(failures))
"""


def test_every_module_imports_first():
    """Issue 18 point 12: each module of core, gateway and plugins imports as the first module of a
    process (a worker starting with ``core.jobs.outbox`` found core.context half-initialised
    through the plugin contract: a circle only the import order showed)."""
    import subprocess
    import sys

    names = sorted(_module(ROOT, p) for top in ("core", "gateway", "plugins") for p in (ROOT / top).rglob("*.py")
                   if "migrations" not in p.parts)
    result = subprocess.run([sys.executable, "-c", _EACH_ALONE, *names], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", result.stdout
