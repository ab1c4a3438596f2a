"""Webhook endpoints, their deliveries (one per endpoint and event) and each delivery attempt."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class WebhookEndpoint(TenantOwned, tablename="webhook_endpoint"):
    url = Varchar(length=2000)
    description = Varchar(length=500, default="")
    event_types = Text()  # JSON list of event types, or ["*"]
    secret = Varchar(length=100)  # "whsec_" + base64 of 32 random bytes; signs every delivery
    status = Varchar(length=16, default="active")  # active | disabled
    consecutive_failures = Integer(default=0)
    disabled_at = Timestamptz(null=True, default=None)
    disabled_reason = Text(null=True, default=None)
    # The circuit breaker (core/webhooks/policy.py): NULL closed, future open, past half-open.
    breaker_open_until = Timestamptz(null=True, default=None)


class WebhookDelivery(TenantOwned, tablename="webhook_delivery"):
    endpoint_id = UUID()
    event_id = UUID()  # the outbox event; also the webhook-id header (receivers dedupe on it)
    event_type = Varchar(length=100)
    payload = Text()  # the JSON body: ids and changed field names, never values
    status = Varchar(length=16, default="pending")  # pending | delivering | succeeded | failed
    attempts = Integer(default=0)
    due_at = Timestamptz()
    last_status_code = Integer(null=True, default=None)
    last_error = Text(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)


class WebhookAttempt(TenantOwned, tablename="webhook_attempt"):
    delivery_id = UUID()
    attempted_at = Timestamptz()
    status_code = Integer(null=True, default=None)
    error = Text(null=True, default=None)
    duration_ms = Integer(default=0)


WEBHOOK_TABLES = (WebhookEndpoint, WebhookDelivery, WebhookAttempt)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = WEBHOOK_TABLES
