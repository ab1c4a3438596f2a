"""Outgoing webhooks: endpoints, deliveries and attempts."""

from core.db.migrations import raw_migration, tenant_table

ID = "0005-webhooks"
VERSION = "1.38.0"
DESCRIPTION = "webhook_endpoint, webhook_delivery, webhook_attempt with RLS"

_ENDPOINT = tenant_table(
    "webhook_endpoint",
    [
        "url VARCHAR(2000) NOT NULL",
        "description VARCHAR(500) NOT NULL DEFAULT ''",
        "event_types TEXT NOT NULL",
        "secret VARCHAR(100) NOT NULL",
        "status VARCHAR(16) NOT NULL DEFAULT 'active'",
        "consecutive_failures INTEGER NOT NULL DEFAULT 0",
        "disabled_at TIMESTAMPTZ",
        "disabled_reason TEXT",
    ],
    indexes=(("status",),),
)
_DELIVERY = tenant_table(
    "webhook_delivery",
    [
        "endpoint_id UUID NOT NULL",
        "event_id UUID NOT NULL",
        "event_type VARCHAR(100) NOT NULL",
        "payload TEXT NOT NULL",
        "status VARCHAR(16) NOT NULL DEFAULT 'pending'",
        "attempts INTEGER NOT NULL DEFAULT 0",
        "due_at TIMESTAMPTZ NOT NULL",
        "last_status_code INTEGER",
        "last_error TEXT",
        "delivered_at TIMESTAMPTZ",
    ],
    unique=(("endpoint_id", "event_id"),),  # a replayed event never duplicates a delivery
    indexes=(("status", "due_at"),),
    references=(("endpoint_id", "webhook_endpoint"),),
)
_ATTEMPT = tenant_table(
    "webhook_attempt",
    [
        "delivery_id UUID NOT NULL",
        "attempted_at TIMESTAMPTZ NOT NULL",
        "status_code INTEGER",
        "error TEXT",
        "duration_ms INTEGER NOT NULL DEFAULT 0",
    ],
    indexes=(("delivery_id",),),
    references=(("delivery_id", "webhook_delivery"),),
)

SQLITE = _ENDPOINT[0] + _DELIVERY[0] + _ATTEMPT[0]
POSTGRES = _ENDPOINT[1] + _DELIVERY[1] + _ATTEMPT[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
