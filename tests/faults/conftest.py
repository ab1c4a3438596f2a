"""Fault tests (issue 26, docs/faults.md) start real kehu processes, PostgreSQL databases and their
own Redis: they run when ``CI`` is set (bounded lengths) or ``KEHU_FAULTS`` is set (``long``: the
acceptance's full lengths); otherwise they skip saying so."""

from __future__ import annotations

import os

import pytest


def faults_enabled() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("KEHU_FAULTS"))


SKIP_MESSAGE = ("fault tests skipped: set CI=true (bounded) or KEHU_FAULTS=long (60 s, 50 writers) to run them; "
                "they need PostgreSQL at 127.0.0.1:5432 (or KEHU_TEST_POSTGRES_URL) and redis-server on PATH")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if faults_enabled():
        return
    skip = pytest.mark.skip(reason=SKIP_MESSAGE)
    for item in items:
        if "tests/faults/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item: the cluster fixture prints process logs on failure."""
    report = yield
    setattr(item, f"fault_report_{report.when}", report)
    return report


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: a fault test starting real processes (docs/faults.md)")
    config.addinivalue_line("markers", "long_fault: a fault test that waits out a product timeout (a job lease)")
