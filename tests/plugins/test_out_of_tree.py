"""Issue 18, acceptance: the worked example of docs/plugins.md (docs/examples/callbacks) is built as
a separate distribution (a wheel), installed into a temporary virtual environment on top of kehu's,
``kehu migrate`` creates its table on an embedded database (and applies nothing the second time),
the example's own tests run there through kehu's test harness (the contract, a GraphQL mutation and
query, the coded error, the audit entry, the working-day deadline on the tenant's calendar and the
tick), and so does kehu's isolation suite for the operations the installed vertical declares.

Offline (pip --no-index, no build isolation) and about 40 s. It skips nothing: it runs in every
test run, CI's included (``make test``); only a Python without ``venv`` skips it, and under
``CI`` that fails instead.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "callbacks"
DOCS = ROOT / "docs" / "plugins.md"


def _run(args: list, *, cwd: Path, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A fresh virtual environment that sees kehu's installed packages (kehu itself, editable, and
    its dependencies) through a .pth file, and nothing of the example until it is installed."""
    base = tmp_path_factory.mktemp("out-of-tree")
    target = base / "venv"
    try:
        import venv as _venv  # noqa: F401
    except ImportError:  # pragma: no cover - Debian's python3 without python3-venv
        if os.environ.get("CI"):
            raise
        pytest.skip("this Python has no venv module")
    _run([sys.executable, "-m", "venv", "--without-pip", target], cwd=base, env=dict(os.environ))
    python = target / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=base, env=dict(os.environ)).stdout.strip()
    # kehu's site-packages as a site directory of the new environment (its own .pth files run too)
    (Path(purelib) / "kehu-parent.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KEHU_", "PYTEST_", "PYTHON", "VIRTUAL_ENV", "PIP_"))}
    env.update({"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1",
                "VIRTUAL_ENV": str(target), "PATH": f"{target / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"})
    return python, env


def test_the_worked_example_is_the_one_in_the_docs():
    """The acceptance: docs/plugins.md shows the example's files as they are."""
    docs = DOCS.read_text(encoding="utf-8")
    for path in ("pyproject.toml", "kehu_callbacks/__init__.py", "kehu_callbacks/tables.py",
                 "kehu_callbacks/service.py", "kehu_callbacks/graphql.py", "tests/test_callbacks.py"):
        text = (EXAMPLE / path).read_text(encoding="utf-8").strip()
        assert text in docs, f"docs/plugins.md does not show docs/examples/callbacks/{path} as it is"


def test_the_example_imports_only_core_plugins_from_kehu():
    """Issue 18 point 2: a vertical needs nothing of kehu but core.plugins (its tests: the harness)."""
    import ast

    for path in (EXAMPLE / "kehu_callbacks").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                assert top not in ("core", "gateway", "plugins") or name == "core.plugins", f"{path.name}: {name}"


def test_the_example_builds_installs_migrates_and_runs_end_to_end(venv, tmp_path):
    """Issue 18, acceptance: the worked example as a separate distribution, end to end."""
    python, env = venv
    source = tmp_path / "kehu-callbacks"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    dist = tmp_path / "dist"
    _run([python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", dist, source],
         cwd=tmp_path, env=env)
    wheels = sorted(dist.glob("kehu_callbacks-1.0.0-*.whl"))
    assert len(wheels) == 1, sorted(dist.iterdir())
    _run([python, "-m", "pip", "install", "--no-deps", wheels[0]], cwd=tmp_path, env=env)

    # Installed, the vertical is found through its entry point like any other.
    kehu = [python, "-c", "from gateway.cli import main; main()"]
    var = tmp_path / "var"
    env = {**env, "KEHU_DATABASE_URL": f"sqlite:///{var / 'kehu.sqlite3'}", "KEHU_VAR_DIR": str(var)}
    listed = _run([*kehu, "plugins"], cwd=tmp_path, env=env).stdout
    assert "callbacks" in listed, listed

    first = _run([*kehu, "migrate"], cwd=tmp_path, env=env).stdout
    applied = re.search(r"applied \d+ vertical migration\(s\): (.+)", first)  # with the in-tree verticals
    assert applied and {"callbacks:1", "callbacks:2"} <= set(applied.group(1).split(", ")), first
    second = _run([*kehu, "migrate"], cwd=tmp_path, env=env).stdout
    assert "nothing applied" in second and "vertical migration" not in second, second
    with sqlite3.connect(var / "kehu.sqlite3") as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(callbacks_request)")]
        versions = connection.execute("SELECT vertical_id, version FROM vertical_migration WHERE vertical_id = "
                                      "'callbacks' ORDER BY version").fetchall()
    assert columns[:3] == ["id", "tenant_id", "created_at"] and "status" in columns
    assert versions == [("callbacks", 1), ("callbacks", 2)]

    # The example's own tests, on kehu's test harness (the pytest11 entry point), in that environment,
    # importing the installed distribution (-P: not the source folder they run in).
    where = _run([python, "-P", "-c", "import kehu_callbacks; print(kehu_callbacks.__file__)"], cwd=source, env=env)
    assert Path(where.stdout.strip()).is_relative_to(python.parent.parent), where.stdout
    tests = _run([python, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=source,
                 env={k: v for k, v in env.items() if not k.startswith("KEHU_")}, timeout=180)
    assert "2 passed" in tests.stdout, tests.stdout

    # kehu's isolation suite, in that environment, runs the operations the installed vertical declares.
    # (SQLite here: the PostgreSQL runs of that file are kehu's own, for the verticals installed with it.)
    isolation = _run([python, "-P", "-m", "pytest", "-v", "-p", "no:cacheprovider", "-k", "sqlite or coverage",
                      ROOT / "tests" / "isolation" / "test_plugin_operations.py"], cwd=ROOT,
                     env={k: v for k, v in env.items() if not k.startswith("KEHU_")}, timeout=300)
    assert "keep_tenants_apart[sqlite-callbacks] PASSED" in isolation.stdout, isolation.stdout
    assert "test_every_root_field_a_vertical_adds_has_isolation_coverage PASSED" in isolation.stdout
