"""Run the benchmarks and print one JSON document: ``python -m bench [--quick] [--only NAME]``."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys

from bench import archive_checks, attribution_decide, tobacco_sweep, audit_overhead, complaint_tick, customer_import, grade_review, customer_page, graphql_overhead, http_load, idle_cpu, login_throughput, outbox_overhead, rls_overhead, scale_search, serve_memory, tick_scale, webhook_throughput

BENCHMARKS = {
    "archive_checks": archive_checks.run,
    "attribution_decide": attribution_decide.run,
    "tobacco_sweep": tobacco_sweep.run,
    "audit_overhead": audit_overhead.run,
    "complaint_tick": complaint_tick.run,
    "customer_import": customer_import.run,
    "customer_page": customer_page.run,
    "grade_review": grade_review.run,
    "graphql_overhead": graphql_overhead.run,
    "http_load": http_load.run,
    "idle_cpu": idle_cpu.run,
    "login_throughput": login_throughput.run,
    "outbox_overhead": outbox_overhead.run,
    "rls_overhead": rls_overhead.run,
    "scale_search": scale_search.run,
    "serve_memory": serve_memory.run,
    "tick_scale": tick_scale.run,
    "webhook_throughput": webhook_throughput.run,
}

SLOW = {"http_load", "idle_cpu", "scale_search", "serve_memory", "tick_scale"}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run, not a measurement)")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these")
    args = parser.parse_args()
    results = []
    # The scale benchmarks fill databases, load or watch a real server for a minute or more: a smoke run (--quick)
    # leaves them out unless named with --only.
    for name in args.only or [n for n in BENCHMARKS if not (args.quick and n in SLOW)]:
        results.append(asyncio.run(BENCHMARKS[name](quick=args.quick)))
    print(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                      "quick": args.quick, "results": results}, indent=2, ensure_ascii=False))
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
