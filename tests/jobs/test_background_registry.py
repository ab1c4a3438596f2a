"""Every module that registers a sweep or a long-job kind is loaded by core.background, which the
embedded app, `kehu worker` and `kehu scheduler` all use: a sweep added elsewhere and forgotten
there would silently never run in production."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGISTERS = re.compile(r"^(register_sweep\(|@(long_jobs\.)?job_kind\()", re.MULTILINE)


def _registering_modules() -> set[str]:
    modules = set()
    for path in (ROOT / "core").rglob("*.py"):
        if REGISTERS.search(path.read_text(encoding="utf-8")):
            modules.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return modules - {"core.jobs.timers"}


def test_core_background_loads_every_module_that_registers_background_work():
    expected = _registering_modules()
    assert {"core.customers.service", "core.privacy.retention", "core.archives.retention"} <= expected
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, core.background; print('\\n'.join(sorted(sys.modules)))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert sorted(expected - set(loaded)) == []


def test_the_app_worker_and_scheduler_all_configure_background_work():
    for module in ("gateway/app.py", "gateway/cli.py"):
        assert "configure_background_work(" in (ROOT / module).read_text(encoding="utf-8")
    cli = (ROOT / "gateway/cli.py").read_text(encoding="utf-8")
    assert cli.count("configure_background_work(registry)") >= 2  # worker and scheduler
