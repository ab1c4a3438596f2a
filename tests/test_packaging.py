"""Packaging: what kehu imports is what it declares, and installing it prints no deprecation."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_imported_package_is_declared():
    """Issue 17 point 10: deptry finds no package that core, gateway or plugins import without
    declaring it (DEP001 missing, DEP003 only transitive, e.g. cryptography through PyJWT[crypto]),
    no test-only package imported by the product (DEP004, httpx was one) and no unused one (DEP002).
    The configuration (first-party packages, the test extra) is [tool.deptry] in pyproject.toml."""
    result = subprocess.run([sys.executable, "-m", "deptry", "--no-ansi", "core", "gateway", "plugins"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "No dependency issues found" in report


def test_building_the_metadata_prints_no_license_deprecation(tmp_path):
    """Issue 17 point 10: `pip install -e .` builds the metadata with setuptools; the `project.license`
    table form made it warn on every install. The license is an SPDX expression now."""
    result = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "egg_info",
                             "--egg-base", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Deprecat" not in result.stderr, result.stderr
    metadata = (tmp_path / "kehu.egg-info" / "PKG-INFO").read_text()
    assert "License-Expression: LicenseRef-Proprietary" in metadata
