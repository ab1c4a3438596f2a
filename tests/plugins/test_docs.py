"""docs/plugins.md documents every hook with its exact signature (the datasette rule)."""

from __future__ import annotations

import inspect
import types
from pathlib import Path

from core.plugins import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def hook_heading(function) -> str:
    signature = inspect.signature(function)
    return f"### `{function.__name__}({', '.join(signature.parameters)}) -> {signature.return_annotation}`"


def disagreements(module: types.ModuleType, docs: str) -> list[str]:
    """The hooks of ``module`` whose signature heading is missing from ``docs``, or undocumented in code."""
    problems = []
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if not name.startswith("kehu_"):
            continue
        if hook_heading(function) not in docs:
            problems.append(f"{name}: docs lack {hook_heading(function)}")
        if not (function.__doc__ or "").strip():
            problems.append(f"{name}: the hookspec has no docstring")
    documented = {line.split("`")[1].split("(")[0] for line in docs.splitlines() if line.startswith("### `kehu_")}
    problems += [f"{name}: documented but no such hook" for name in sorted(documented)
                 if not hasattr(module, name)]
    return problems


def test_every_hookspec_is_documented_with_its_exact_signature():
    hooks = [name for name in dir(hookspecs) if name.startswith("kehu_")]
    assert len(hooks) == 15
    assert disagreements(hookspecs, DOCS.read_text()) == []


def test_a_changed_hook_signature_without_its_doc_is_caught():
    changed = types.ModuleType("changed_hookspecs")
    for name in dir(hookspecs):
        if name.startswith("kehu_"):
            setattr(changed, name, getattr(hookspecs, name))

    def kehu_parameters(tenant_id) -> list:  # an argument added, the return type changed
        """Return parameters."""

    changed.kehu_parameters = kehu_parameters
    assert disagreements(changed, DOCS.read_text()) == [
        "kehu_parameters: docs lack ### `kehu_parameters(tenant_id) -> list`"]


def test_a_documented_hook_that_no_longer_exists_is_caught():
    docs = DOCS.read_text() + "\n### `kehu_retired_hook() -> None`\n"
    assert disagreements(hookspecs, docs) == ["kehu_retired_hook: documented but no such hook"]


def test_the_docs_name_every_hookspec_once_called_at_start():
    docs = DOCS.read_text()
    assert "called once, at start" in docs
    for name in dir(hookspecs):
        if name.startswith("kehu_"):
            assert docs.count(f"### `{name}(") == 1, name
