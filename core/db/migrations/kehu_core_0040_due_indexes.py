"""Cross-tenant due probes (issue 27, core/db/due.py): the indexes that let one statement find
which tenants have background work due, reading only the due rows.

Partial indexes on the open states only, not led by ``tenant_id``: the probe asks across tenants,
and rows that are done (nearly all of them) never enter these indexes.
"""

from core.db.migrations import raw_migration

ID = "0040-due-indexes"
VERSION = "1.43.0"
DESCRIPTION = "partial indexes for the cross-tenant due probes (outbox, long jobs, webhooks, vertical ticks, audit anchors)"

_STATEMENTS = [
    "CREATE INDEX outbox_event_pending_due_idx ON outbox_event (available_at, tenant_id) WHERE status = 'pending'",
    "CREATE INDEX outbox_event_dispatched_due_idx ON outbox_event (dispatched_at, tenant_id) "
    "WHERE status = 'dispatched'",
    "CREATE INDEX long_job_queued_due_idx ON long_job (available_at, tenant_id) WHERE status = 'queued'",
    "CREATE INDEX long_job_running_lease_idx ON long_job (lease_until, tenant_id) WHERE status = 'running'",
    "CREATE INDEX long_job_output_expiry_idx ON long_job (output_expires_at, tenant_id) "
    "WHERE output_deleted_at IS NULL AND output_expires_at IS NOT NULL",
    "CREATE INDEX audit_entry_recent_due_idx ON audit_entry (occurred_at, tenant_id)",
    "CREATE INDEX vertical_enablement_enabled_idx ON vertical_enablement (vertical_id, tenant_id) "
    "WHERE status = 'enabled'",
    "CREATE INDEX webhook_delivery_open_due_idx ON webhook_delivery (due_at, tenant_id) "
    "WHERE status IN ('pending', 'delivering')",
]

forwards = raw_migration(ID, DESCRIPTION, sqlite=_STATEMENTS, postgres=_STATEMENTS)
