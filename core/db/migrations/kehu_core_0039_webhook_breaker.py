"""Concurrent webhook delivery (issue 26): each endpoint's circuit breaker, and an index to pick an
endpoint's oldest due deliveries.

- ``webhook_endpoint.breaker_open_until``: NULL while the breaker is closed; while it lies in the
  future the endpoint's deliveries are not attempted; once past, one probe is (half-open). On the
  row, next to ``consecutive_failures``, so every worker process and every sweep sees one state.
- ``webhook_delivery (tenant_id, endpoint_id, status, due_at)``: a sweep takes, per endpoint, at
  most its free slots of the oldest due deliveries; without it each claim would read the whole
  backlog of an endpoint that is behind.
"""

from core.db.migrations import raw_migration

ID = "0039-webhook-breaker"
VERSION = "1.43.0"
DESCRIPTION = "webhook_endpoint.breaker_open_until; webhook_delivery per-endpoint due index"

_STATEMENTS = [
    "ALTER TABLE webhook_endpoint ADD COLUMN breaker_open_until TIMESTAMPTZ",
    "CREATE INDEX webhook_delivery_endpoint_id_status_due_at_idx "
    "ON webhook_delivery (tenant_id, endpoint_id, status, due_at)",
]

forwards = raw_migration(ID, DESCRIPTION, sqlite=_STATEMENTS, postgres=_STATEMENTS)
