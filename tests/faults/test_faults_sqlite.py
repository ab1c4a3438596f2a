"""Fault test of the embedded profile (issue 26 acceptance 5; guide §2.2 R8).

R8: one ``kehu serve`` on the embedded profile (a SQLite file under tmp_path, in-process jobs)
takes 20 concurrent writers; no answer ever says "database is locked" (every response body and the
server's log are read); the server is SIGKILLed during the writes and started again; every
acknowledged mutation is then in the SQLite file with its audit entry and outbox event, and
``PRAGMA integrity_check`` says ``ok``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from tests.faults.harness import LONG, Ledger, Process, free_port, kehu_command, login, percentile, summary, wait_ready
from tests.faults.sqlite_harness import LOCKED, WatchedLoad, check_ledger_sqlite, embedded_env, integrity

pytestmark = pytest.mark.faults

R8_WRITERS = 20
R8_SECONDS = 60.0 if LONG else 8.0


def test_r8_embedded_sqlite_twenty_writers_sigkill_never_locked_and_loses_nothing(tmp_path: Path):
    """R8: 20 writers on the embedded profile, the server SIGKILLed mid-load and restarted: no
    "database is locked" anywhere, every acknowledged mutation present, the file's integrity ok."""
    env = embedded_env(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    api = Process("api", [*kehu_command(), "serve", "--port", str(port)], env, tmp_path / "api.log")
    try:
        api.start()
        wait_ready(url, api)
        token = login(url)
        ledger = Ledger(tmp_path / "ledger-r8.jsonl")
        load = WatchedLoad(url, token, ledger, writers=R8_WRITERS, seconds=R8_SECONDS, retry=True,
                           retry_seconds=8.0)
        restarted: list[float] = []

        async def killer() -> None:
            await asyncio.sleep(R8_SECONDS * 0.45)
            api.kill()
            killed = time.monotonic()
            await asyncio.sleep(0.3)
            api.start()  # the embedded lock (flock) went with the killed process
            await asyncio.to_thread(wait_ready, url, api)
            restarted.append(time.monotonic() - killed)

        async def main() -> None:
            await asyncio.gather(load.run(), killer())

        started = time.monotonic()
        asyncio.run(main())
        wait_ready(url, api)
        log_text = api.log_path.read_text(errors="replace")
        api.terminate(30.0)
        counts = check_ledger_sqlite(env, ledger)
        checked = integrity(env)
        print("\n[R8] " + json.dumps({
            "seconds": round(time.monotonic() - started, 1), "writers": R8_WRITERS, "load_seconds": R8_SECONDS,
            "requests": load.attempts, "statuses": load.statuses, "restart_seconds": [round(r, 1) for r in restarted],
            **counts, "failures": summary(ledger.failures), "unacked_last": summary(u["last"] for u in ledger.unacked),
            "p99": round(percentile(load.latencies, 0.99), 3), "integrity": checked[:3]}, ensure_ascii=False))
        assert api.starts == 2 and restarted, "the server was SIGKILLed once and started again"
        assert not load.seen, f"answers said '{LOCKED}': {load.seen[:3]}"
        assert LOCKED not in log_text.lower(), [line for line in log_text.splitlines() if LOCKED in line.lower()][:3]
        assert checked == ["ok"], checked
        assert len(ledger.creates) > R8_WRITERS
        assert not ledger.rejected, ledger.rejected[:3]
    finally:
        api.kill()
