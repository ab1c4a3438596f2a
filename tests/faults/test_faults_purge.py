"""Fault test of the retention purge (issue 26 acceptance 7, first half; guide §2.2 R13).

R13: a retention purge killed midway and run again leaves no half-erased subject. On the embedded
profile (a SQLite file under tmp_path) customers past retention are made; the ``privacy.purge``
job runs in its own process (core's job runner, ``long_jobs.run_job``), which is SIGKILLed inside
the transaction of a subject, after that subject's erasure wrote everything and before it
committed. Then every subject is either wholly erased or wholly untouched; the purge run again
erases the rest; each due subject is erased once (one ledger row, one ``customer.erased`` audit
entry, no personal value left in any table) and customers not due are untouched.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.faults.sqlite_harness import embedded_env, integrity, purge_process, subject_state, tenant_id

pytestmark = pytest.mark.faults

DUE, KEPT, KILL_AFTER = 10, 2, 4


def _erased(s: dict) -> bool:
    return (s["status"] == "erased" and s["display_name"] == "已删除" and s["child_rows"] == 0 and s["ledger"] == 1
            and s["erased_audits"] == 1 and not s["values_left"])


def _untouched(s: dict, before: dict) -> bool:
    return (s["status"] == before["status"] and s["display_name"] == before["display_name"]
            and s["child_rows"] == before["child_rows"] and s["ledger"] == 0 and s["erased_audits"] == 0
            and s["values_left"] == before["values_left"])


def test_r13_purge_sigkilled_midway_and_rerun_leaves_no_half_erased_subject(tmp_path: Path):
    """R13: SIGKILL the purge mid-subject, rerun it: every subject all erased or all untouched after
    the kill, every due subject erased exactly once after the rerun, the others untouched."""
    started = time.monotonic()
    env = embedded_env(tmp_path)
    tenant = tenant_id(env)
    seeded = purge_process(env, "seed", tenant, str(DUE), str(KEPT))
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    subjects = json.loads(seeded.stdout.strip().splitlines()[-1])
    key = {s["id"]: s["id"].replace("-", "").lower() for s in subjects}
    due = [key[s["id"]] for s in subjects if s["due"]]
    kept = [key[s["id"]] for s in subjects if not s["due"]]
    before = subject_state(env, subjects)
    assert all(before[c]["values_left"] and before[c]["child_rows"] for c in due + kept), before

    killed = purge_process(env, "purge", tenant, str(KILL_AFTER))
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stdout, killed.stderr[-3000:])
    after_kill = subject_state(env, subjects)
    half = {c: s for c, s in after_kill.items() if not _erased(s) and not _untouched(s, before[c])}
    erased_by_first = [c for c in due if _erased(after_kill[c])]

    rerun = purge_process(env, "purge", tenant)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    job = json.loads(rerun.stdout.strip().splitlines()[-1])
    final = subject_state(env, subjects)
    checked = integrity(env)
    print("\n[R13] " + json.dumps({"seconds": round(time.monotonic() - started, 1), "due": DUE, "kept": KEPT,
                                    "erased_before_kill": len(erased_by_first), "rerun": job,
                                    "integrity": checked[:3]}, ensure_ascii=False))
    assert not half, f"half-erased subjects after the kill: {half}"
    assert len(erased_by_first) == KILL_AFTER, f"the kill came after {KILL_AFTER} committed erasures: {erased_by_first}"
    assert job["status"] == "succeeded" and json.loads(job["result"])["erased"] == DUE - KILL_AFTER, job
    not_erased = {c: final[c] for c in due if not _erased(final[c])}
    assert not not_erased, f"due subjects not (or not once) erased after the rerun: {not_erased}"
    touched = {c: final[c] for c in kept if not _untouched(final[c], before[c])}
    assert not touched, f"customers not due were touched: {touched}"
    assert checked == ["ok"], checked
