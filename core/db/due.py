"""Which tenants have background work due, in one statement across tenants (issue 27).

A poll that finds nothing to do must cost one index lookup, not a transaction per tenant: an idle
server with a thousand tenants otherwise spends its cores asking each of them. A probe is a SELECT
of ``tenant_id`` over the rows that say work is due (a status and a due time, under an index on
them); the poll then opens a unit of work only for the tenants it names, and every read and write
of the work itself stays tenant-scoped there.

Row-level security shows one tenant per transaction, so on PostgreSQL each probe is a function
``kehu_due_<name>(at, stale)`` installed by ``kehu migrate``: it runs as the tables' owner
(SECURITY DEFINER, fixed search_path) and returns tenant ids only. The app role may execute it and
gains nothing else: the owner reads across tenants through a SELECT-only policy granted to itself
alone (``kehu_due_scan``), while the app role's every read and write stays under
``tenant_isolation``. On SQLite (no RLS) the probe's statement runs as it is.

Probes are data here (the database layer imports no use case); ``{at}`` is the moment of the poll,
``{stale}`` an earlier one (a lease or visibility timeout ago) for work whose claim has lapsed,
``{key}`` a text the caller names (a vertical's id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.db.engine import Database, current_database


@dataclass(frozen=True, slots=True)
class Probe:
    tables: tuple[str, ...]  # every table the statement reads (each gets the owner's scan policy)
    sql: str  # SELECT tenant_id FROM … WHERE … with {at} / {stale} / {key}


SCAN_POLICY = "kehu_due_scan"

PROBES: dict[str, Probe] = {
    # core.jobs.outbox.relay_once: pending and available, or dispatched and not done in time.
    "outbox": Probe(("outbox_event",), "SELECT tenant_id FROM outbox_event WHERE status = 'pending' AND "
                    "available_at <= {at} UNION SELECT tenant_id FROM outbox_event WHERE status = 'dispatched' "
                    "AND dispatched_at < {stale}"),
    # core.jobs.long_jobs.due_jobs: queued and available, or running past its lease.
    "long_jobs": Probe(("long_job",), "SELECT tenant_id FROM long_job WHERE status = 'queued' AND available_at <= {at} "
                       "UNION SELECT tenant_id FROM long_job WHERE status = 'running' AND lease_until < {at}"),
    # core.jobs.long_jobs.delete_expired_output
    "job_outputs": Probe(("long_job",), "SELECT DISTINCT tenant_id FROM long_job WHERE output_expires_at <= {at} "
                         "AND output_deleted_at IS NULL"),
    # core.plugins.services.tick: the tenants that have the vertical {key} enabled.
    "vertical_enabled": Probe(("vertical_enablement",), "SELECT tenant_id FROM vertical_enablement "
                              "WHERE vertical_id = {key} AND status = 'enabled'"),
    # core.webhooks.delivery: due, or claimed by a sweep whose lease (due_at) has passed.
    "webhooks": Probe(("webhook_delivery",), "SELECT DISTINCT tenant_id FROM webhook_delivery "
                      "WHERE status IN ('pending', 'delivering') AND due_at <= {at}"),
    # The sweeps' probes below ask for no DISTINCT: tenants_due keeps each tenant once, while SQLite, asked
    # for DISTINCT tenant_id, reads a tenant-led index whole instead of the due range of the partial one.
    # core.customers.service.announce_due_reviews: a live customer's review due and not yet announced.
    "customer_reviews": Probe(("customer",), "SELECT tenant_id FROM customer WHERE review_due_at <= {at} "
                              "AND review_notified_at IS NULL AND deleted_at IS NULL AND merged_into IS NULL"),
    # core.customers.importing.delete_stale_uploads: an upload whose import job has finished (any way).
    "customer_import_uploads": Probe(("customer_import_upload", "long_job"),
                                     "SELECT u.tenant_id FROM customer_import_upload u JOIN long_job j "
                                     "ON j.tenant_id = u.tenant_id AND j.id = u.job_id "
                                     "WHERE j.kind = 'customer.import' "
                                     "AND j.status IN ('succeeded', 'failed', 'cancelled')"),
    # core.blacklists.service.expire_due: an active entry past its expiry.
    "blacklist_expiry": Probe(("blacklist_entry",), "SELECT tenant_id FROM blacklist_entry "
                              "WHERE status = 'active' AND expires_at <= {at}"),
    # core.archives.exceptions.charge_broken_promises: an approved late-submission promise ended, unsettled.
    "archive_late_submissions": Probe(("archive_exception",), "SELECT tenant_id FROM archive_exception "
                                      "WHERE kind = 'late_submission' AND state = 'approved' AND settled_at IS NULL "
                                      "AND promised_at <= {at}"),
    # core.archives.retention.seal_expired: an unsealed folder idle long enough, or past its retention.
    "archive_retention": Probe(("archive_folder",), "SELECT tenant_id FROM archive_folder WHERE sealed_at IS NULL "
                               "AND retention_idle_at <= {at} UNION SELECT tenant_id FROM archive_folder "
                               "WHERE sealed_at IS NULL AND retention_until <= {at}"),
    # core.auditing.service.anchor_due, on its first pass in a process: every tenant with a chain
    # (whether it has entries past its last anchor only the anchor store outside the database knows).
    "audit_anchors": Probe(("audit_chain",), "SELECT tenant_id FROM audit_chain"),
    # core.auditing.service.anchor_due after its first pass: chains that moved since {stale}. The
    # chain heads, one row per tenant, not the entries: their number grows with the entries written.
    "audit_recent": Probe(("audit_chain",), "SELECT tenant_id FROM audit_chain WHERE last_at > {stale}"),
    # core.complaints.service.breach_due: a running clock past its next due time.
    "complaint_clocks": Probe(("complaint_clock",), "SELECT tenant_id FROM complaint_clock "
                              "WHERE status = 'running' AND next_due_at <= {at}"),
    # core.grading.service.enforce_due: an open required change past its deadline.
    "grade_deadlines": Probe(("grade_deadline",), "SELECT tenant_id FROM grade_deadline "
                             "WHERE status = 'open' AND next_due_at <= {at}"),
    # core.idempotency.service.delete_expired: a key past its expiry.
    "idempotency_keys": Probe(("idempotency_record",), "SELECT tenant_id FROM idempotency_record "
                              "WHERE expires_at <= {at}"),
    # core.privacy.access_requests.expire_requests: an approval past its expiry.
    "access_requests": Probe(("access_request",), "SELECT tenant_id FROM access_request "
                             "WHERE state = 'approved' AND expires_at <= {at}"),
    # core.privacy.subject_requests.remind_due_requests, called with {at} = the tick + DUE_SOON (how
    # far ahead it looks) and {stale} = the tick: an open request overdue and not yet announced so,
    # or due within DUE_SOON and not yet announced as due soon.
    "subject_requests": Probe(("subject_request",), "SELECT tenant_id FROM subject_request "
                              "WHERE state IN ('received', 'identity_verified') AND overdue_notified_at IS NULL "
                              "AND due_at <= {stale} UNION SELECT tenant_id FROM subject_request "
                              "WHERE state IN ('received', 'identity_verified') AND due_soon_notified_at IS NULL "
                              "AND due_at <= {at} AND due_at > {stale}"),
    # core.privacy.retention.start_daily_purges, called with {stale} = a day before the tick: a tenant
    # with no purge started since then and none queued or running.
    "privacy_purge": Probe(("tenant", "long_job"), "SELECT id AS tenant_id FROM tenant WHERE id NOT IN "
                           "(SELECT tenant_id FROM long_job WHERE kind = 'privacy.purge' AND created_at > {stale}) "
                           "AND id NOT IN (SELECT tenant_id FROM long_job WHERE kind = 'privacy.purge' "
                           "AND status IN ('queued', 'running'))"),
    # core.privacy.borrowing.announce_overdue_loans: a loan still out after its due time, not announced.
    "archive_loans": Probe(("archive_loan",), "SELECT tenant_id FROM archive_loan WHERE status = 'lent' "
                           "AND overdue_notified_at IS NULL AND due_at < {at}"),
    # core.visits.service.mark_overdue: a due visit past its due time.
    "visit_schedules": Probe(("visit_schedule",), "SELECT tenant_id FROM visit_schedule "
                             "WHERE status = 'due' AND due_at <= {at}"),
}

_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")
_PLACEHOLDER = re.compile(r"\{(at|stale|key)\}")


def function_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"probe name {name!r}: lower-case letters, digits and underscores")
    return f"kehu_due_{name}"


async def tenants_due(name: str, at: datetime, stale: datetime | None = None, *, key: str = "",
                      database: Database | None = None) -> list[UUID]:
    """The tenants with work of probe ``name`` due at ``at``: one statement, no transaction."""
    database = database or current_database()
    probe = PROBES[name]
    if database.is_postgres:
        rows = await database.fetch(f"SELECT t AS tenant_id FROM {function_name(name)}({{}}, {{}}, {{}}) AS t",
                                    at, stale or at, key)
    else:
        values = {"at": at, "stale": stale or at, "key": key}
        args = [values[m.group(1)] for m in _PLACEHOLDER.finditer(probe.sql)]
        rows = await database.fetch(_PLACEHOLDER.sub("{}", probe.sql), *args)
    return sorted({UUID(str(row["tenant_id"])) for row in rows}, key=str)


def install_statements(app_role: str) -> list[str]:
    """PostgreSQL, run by ``kehu migrate`` as the owner: each probe's function, executable by the
    app role only, and the owner's SELECT-only scan policy on the tables the probes read."""
    statements: list[str] = []
    for table in sorted({table for probe in PROBES.values() for table in probe.tables}):
        statements += [f'DROP POLICY IF EXISTS {SCAN_POLICY} ON "{table}"',
                       f'CREATE POLICY {SCAN_POLICY} ON "{table}" FOR SELECT TO CURRENT_USER USING (true)']
    for name, probe in PROBES.items():
        function = function_name(name)
        body = probe.sql.replace("{at}", "$1").replace("{stale}", "$2").replace("{key}", "$3")
        signature = f"{function}(timestamptz, timestamptz, text)"
        # EXECUTE … USING plans the statement for the moments given: a SQL function's statement is
        # planned once for any moment, guessing a third of a partial index's rows due, and at a
        # million customers (every live one waiting for its review) that guess read the whole table.
        statements += [
            f"CREATE OR REPLACE FUNCTION {function}(at timestamptz, stale timestamptz, key text) RETURNS SETOF uuid "
            f"LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $probe$ "
            f"BEGIN RETURN QUERY EXECUTE $sql$ {body} $sql$ USING at, stale, key; END $probe$",
            f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
            f'GRANT EXECUTE ON FUNCTION {signature} TO "{app_role}"',
        ]
    return statements
